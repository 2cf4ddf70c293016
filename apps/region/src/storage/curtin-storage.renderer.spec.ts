import { renderModelStorage } from './curtin-storage.renderer';
import type { StorageRows } from './storage.repository';
import { StorageView, type ViewMachine } from './storage.view';

const MIB = 1024 * 1024;
const disk = (id: number, name: string, isBoot: boolean) => ({
  id, name, type: 'physical', uuid: null, model: 'M', serial: `S${id}`, id_path: null, size: String(100_000 * MIB), block_size: 512, tags: [], firmware_version: null, is_boot: isBoot, numa_node: 0, filesystem_group_id: null,
});
const fs = (id: number, on: { block_device_id?: number; partition_id?: number }, fstype: string, mount: string | null, group: number | null = null) => ({
  id, block_device_id: on.block_device_id ?? null, partition_id: on.partition_id ?? null, fstype, uuid: `uuid-${id}`, label: null, mount_point: mount, mount_options: null, filesystem_group_id: group, cache_set_id: null,
});

function view(bios: string | null, rows: Partial<Omit<StorageRows, 'machine'>>) {
  return new StorageView<ViewMachine>({
    machine: { system_id: 'abc', architecture: 'amd64/generic', bios_boot_method: bios },
    devices: [disk(1, 'sda', true), disk(2, 'sdb', false)],
    tables: [],
    partitions: [],
    filesystems: [],
    groups: [],
    cacheSets: [],
    ...rows,
  });
}

describe('curtin storage from the storage model', () => {
  it('renders a GPT BIOS boot disk with its bios_grub partition first, then formats and mounts in path order', () => {
    const v = view('pxe', {
      tables: [{ id: 1, block_device_id: 1, table_type: 'GPT' }],
      partitions: [
        { id: 10, partition_table_id: 1, index: 1, uuid: 'p1', size: String(1024 * MIB), bootable: true, tags: [] },
        { id: 11, partition_table_id: 1, index: 2, uuid: 'p2', size: String(8192 * MIB), bootable: false, tags: [] },
      ],
      filesystems: [fs(20, { partition_id: 11 }, 'ext4', '/'), fs(21, { partition_id: 10 }, 'ext4', '/boot'), fs(22, { block_device_id: 2 }, 'xfs', '/srv')],
    });
    const { config } = renderModelStorage(v, [{ fstype: 'tmpfs', mount_point: '/run/x', mount_options: '' }]);
    expect(config.map((e) => `${e.type}:${e.id}`)).toEqual([
      'disk:sda', 'disk:sdb', 'partition:sda-part1', 'partition:sda-part2', 'partition:sda-part3',
      'format:sda-part3_format', 'format:sda-part2_format', 'format:sdb_format',
      'mount:sda-part3_mount', 'mount:sda-part2_mount', 'mount:sdb_mount', 'mount:tmpfs-mount0',
    ]);
    expect(config[0]).toMatchObject({ ptable: 'gpt', grub_device: true, serial: 'S1', model: 'M' });
    expect(config[1]).toMatchObject({ ptable: undefined });
    expect(config[2]).toMatchObject({ flag: 'bios_grub', size: `${MIB}B`, offset: `${4 * MIB}B` });
    expect(config[3]).toMatchObject({ number: 2, flag: 'boot', size: `${1024 * MIB}B`, offset: undefined });
    expect(config[8]).toMatchObject({ path: '/', device: 'sda-part3_format' });
  });

  it('renders a volume group with its logical volumes, and no bios_grub on UEFI', () => {
    const v = view('uefi', {
      devices: [disk(1, 'sda', true), disk(2, 'sdb', false), { ...disk(3, 'vg0-root', false), type: 'virtual', uuid: 'lv', size: String(50 * MIB), filesystem_group_id: 5 }],
      tables: [{ id: 1, block_device_id: 1, table_type: 'GPT' }],
      partitions: [{ id: 10, partition_table_id: 1, index: 1, uuid: 'p1', size: String(512 * MIB), bootable: true, tags: [] }],
      filesystems: [fs(20, { partition_id: 10 }, 'fat32', '/boot/efi'), fs(21, { block_device_id: 2 }, 'lvm-pv', null, 5), fs(22, { block_device_id: 3 }, 'ext4', '/')],
      groups: [{ id: 5, name: 'vg0', uuid: 'vg', group_type: 'lvm-vg', cache_mode: null, cache_set_id: null }],
    });
    const { config } = renderModelStorage(v, []);
    expect(config.filter((e) => e.type === 'partition').map((e) => e.id)).toEqual(['sda-part1']);
    expect(config.find((e) => e.type === 'lvm_volgroup')).toMatchObject({ id: 'vg0', devices: ['sdb'] });
    expect(config.find((e) => e.type === 'lvm_partition')).toMatchObject({ id: 'vg0-root', name: 'root', volgroup: 'vg0', size: `${50 * MIB}B` });
    expect(config.filter((e) => e.type === 'mount').map((e) => e.path)).toEqual(['/', '/boot/efi']);
    expect(config.some((e) => e.fstype === 'lvm-pv')).toBe(false);
  });
});
