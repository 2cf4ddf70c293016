import { DomainError } from '../common/domain.error';
import { LayoutDevice, layoutFitProblem, validateStorageLayout } from './storage-layout.validator';

const GB = 1e9;
const GIB = 1024 ** 3;
const sda: LayoutDevice = { id: 11, name: 'sda', size: 100 * GB, tags: [] };
const sdb: LayoutDevice = { id: 12, name: 'sdb', size: 50 * GB, tags: ['ssd'] };
const small: LayoutDevice = { id: 13, name: 'sdc', size: 8 * GIB, tags: [] };

function run(params: Record<string, string>, devices: LayoutDevice[] = [sda, sdb], boot: LayoutDevice | null = devices[0] ?? null) {
  return validateStorageLayout((n) => params[n], devices, boot);
}

function refusal(fn: () => unknown): { code: string; detail: unknown } {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, detail: e.detail };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('validateStorageLayout', () => {
  it('requires a known layout name, with MAAS field errors', () => {
    expect(refusal(() => run({}))).toEqual({ code: 'INVALID', detail: { storage_layout: ['This field is required.'] } });
    expect(refusal(() => run({ storage_layout: 'zfs' }))).toEqual({
      code: 'INVALID',
      detail: {
        storage_layout: ["'zfs' is not a valid storage_layout.  It should be one of: 'flat', 'lvm', 'bcache', 'vmfs6', 'vmfs7', 'custom', 'blank'."],
      },
    });
  });

  it('stores the flat layout with sizes in bytes (SI suffixes, percentages of the boot disk after the EFI partition)', () => {
    expect(run({ storage_layout: 'flat' })).toEqual({ layout: 'flat', boot_size: null, root_device: null, root_size: null });
    expect(run({ storage_layout: 'flat', boot_size: '1G', root_size: '50%', root_device: 'sdb' })).toEqual({
      layout: 'flat',
      boot_size: 1e9,
      root_device: 12,
      root_size: Math.ceil(((100 * GB - 512 * 1024 ** 2) * 50) / 100),
    });
    expect(run({ storage_layout: 'flat', root_device: '11' }).root_device).toBe(11);
    expect(run({ storage_layout: 'flat', root_device: '/dev/sda' }).root_device).toBe(11);
  });

  it('refuses bad sizes and devices field by field', () => {
    expect(refusal(() => run({ storage_layout: 'flat', boot_size: 'big', root_device: 'sdz' }))).toEqual({
      code: 'INVALID',
      detail: {
        boot_size: ['Enter a valid value.'],
        root_device: ["'sdz' is not a valid root_device.  It should be one of: '11', '12'."],
      },
    });
    expect(refusal(() => run({ storage_layout: 'flat', boot_size: '100M' }))).toEqual({
      code: 'INVALID',
      detail: { boot_size: ['Size is too small. Minimum size is 536870912.'] },
    });
    expect(refusal(() => run({ storage_layout: 'flat', root_size: '2G' }))).toEqual({
      code: 'INVALID',
      detail: { root_size: ['Size is too small. Minimum size is 3221225472.'] },
    });
    expect(refusal(() => run({ storage_layout: 'flat', boot_size: '50G', root_size: '50G' }))).toEqual({
      code: 'INVALID',
      detail: { __all__: ['Size of the boot partition and root partition are larger than the available space on the boot disk.'] },
    });
  });

  it('answers MAAS text when there is nothing to lay out, and for layouts it cannot apply', () => {
    expect(refusal(() => run({ storage_layout: 'flat' }, [], null))).toEqual({
      code: 'INVALID',
      detail: 'Machine is missing a boot disk; no storage layout can be applied.',
    });
    expect(refusal(() => run({ storage_layout: 'custom' }))).toEqual({
      code: 'INVALID',
      detail: "Failed to configure storage layout 'custom': No custom storage layout configuration found",
    });
    expect(refusal(() => run({ storage_layout: 'bcache' }, [sda, { ...sdb, tags: [] }]))).toEqual({
      code: 'INVALID',
      detail: "Failed to configure storage layout 'bcache': Node doesn't have an available cache device to setup bcache.",
    });
  });

  it('checks the lvm and bcache options', () => {
    expect(run({ storage_layout: 'lvm', vg_name: 'vg0', lv_size: '20G' })).toMatchObject({ layout: 'lvm', vg_name: 'vg0', lv_name: null, lv_size: 20e9 });
    expect(refusal(() => run({ storage_layout: 'lvm', lv_size: '1G' }))).toEqual({
      code: 'INVALID',
      detail: { lv_size: ['Size is too small. Minimum size is 3221225472.'] },
    });
    // The best cache device: the smallest other disk tagged ssd.
    expect(run({ storage_layout: 'bcache' })).toMatchObject({ layout: 'bcache', cache_device: 12, cache_mode: null, cache_no_part: false });
    expect(refusal(() => run({ storage_layout: 'bcache', cache_mode: 'fast', cache_size: '10G', cache_no_part: 'true' }))).toEqual({
      code: 'INVALID',
      detail: {
        cache_mode: ['Select a valid choice. fast is not one of the available choices.'],
        cache_size: ['Cannot use cache_size and cache_no_part at the same time.'],
        cache_no_part: ['Cannot use cache_size and cache_no_part at the same time.'],
      },
    });
    expect(refusal(() => run({ storage_layout: 'bcache', cache_device: '11' }))).toEqual({
      code: 'INVALID',
      detail: { cache_device: ["'11' is not a valid cache_device.  It should be one of: '12'."] },
    });
  });

  it('requires room for ESXi on the boot disk', () => {
    expect(refusal(() => run({ storage_layout: 'vmfs7' }, [small]))).toEqual({
      code: 'INVALID',
      detail: { boot_size: ['Boot disk must be at least 32Gb.'] },
    });
    expect(run({ storage_layout: 'vmfs6' })).toEqual({ layout: 'vmfs6', boot_size: null, root_device: null, root_size: null });
  });
});

describe('layoutFitProblem (deploy checks the kept layout against the disks as they are now)', () => {
  const GB = 1e9;
  const sda: LayoutDevice = { id: 1, name: 'sda', size: 10 * GB, tags: [] };
  const sdb: LayoutDevice = { id: 2, name: 'sdb', size: 2 * GB, tags: [] };
  const flat = { layout: 'flat' as const, boot_size: null, root_device: null, root_size: null };

  it('fits the default flat layout on a 10 GB disk, not on a 3 GB one', () => {
    expect(layoutFitProblem(null, [sda], sda)).toBeNull();
    const tiny = { ...sda, size: 3 * GB };
    expect(layoutFitProblem(null, [tiny], tiny)).toBe('The flat storage layout does not fit disk sda: it needs 3.8 GB, the disk holds 3.0 GB.');
  });

  it('names the root disk when root_device is the one too small, and falls back to the boot disk when it is gone', () => {
    expect(layoutFitProblem({ ...flat, root_device: 2, root_size: 4 * GB }, [sda, sdb], sda)).toBe(
      'The flat storage layout does not fit disk sdb: it needs 4.0 GB, the disk holds 2.0 GB.',
    );
    expect(layoutFitProblem({ ...flat, root_device: 9, root_size: 4 * GB }, [sda, sdb], sda)).toBeNull();
  });

  it('counts /boot with the EFI partition on the boot disk, and an LVM volume on the root disk', () => {
    expect(layoutFitProblem({ ...flat, boot_size: 1 * GB, root_size: 9 * GB }, [sda], sda)).toMatch(/needs 10\.5 GB, the disk holds 10\.0 GB/);
    expect(layoutFitProblem({ layout: 'lvm', boot_size: null, root_device: null, root_size: null, lv_size: 12 * GB }, [sda], sda)).toMatch(/^The lvm storage layout does not fit disk sda/);
  });

  it("refuses a bcache layout whose cache disk is gone or too small", () => {
    const bcache = { layout: 'bcache' as const, boot_size: null, root_device: null, root_size: null, cache_device: 2, cache_size: 3 * GB };
    expect(layoutFitProblem(bcache, [sda, sdb], sda)).toBe('The bcache storage layout does not fit disk sdb: it needs 3.0 GB, the disk holds 2.0 GB.');
    expect(layoutFitProblem(bcache, [sda], sda)).toBe("The bcache storage layout's cache disk (block device 2) is no longer present.");
  });

  it('does not check blank or VMware layouts, nor a machine with no disks known', () => {
    const tiny = { ...sda, size: 1 * GB };
    for (const layout of ['blank', 'vmfs6', 'vmfs7'] as const) expect(layoutFitProblem({ ...flat, layout }, [tiny], tiny)).toBeNull();
    expect(layoutFitProblem(null, [], null)).toBeNull();
  });
});
