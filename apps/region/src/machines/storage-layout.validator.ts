import type { MachineStorageLayout, StorageLayoutName } from '@kiln/db';
import { invalid } from '../common/domain.error';

/**
 * set_storage_layout's validation, as MAAS's StorageLayoutForm and layout forms do it: the layout
 * name, then each layout's fields against the machine's physical block devices, then the checks
 * across fields. Kiln keeps the result (sizes in bytes, devices by id) for deployment to render,
 * since it does not model partitions. Failures are MAAS's 400 answers.
 */

/** A physical block device as a layout sees it. */
export interface LayoutDevice {
  id: number;
  name: string;
  /** bytes */
  size: number;
  tags: string[];
}

/** Reads one request parameter (first value), like ParamBag.get. */
export type ParamReader = (name: string) => string | undefined;

/** MAAS's order of the choices in its messages is arbitrary (a frozenset); Kiln lists them in this order. */
export const STORAGE_LAYOUTS = ['flat', 'lvm', 'bcache', 'vmfs6', 'vmfs7', 'custom', 'blank'] as const;
export const CACHE_MODES = ['writeback', 'writethrough', 'writearound'] as const;

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
export const EFI_PARTITION_SIZE = 512 * MIB;
export const MIN_BOOT_PARTITION_SIZE = 512 * MIB;
export const MIN_ROOT_PARTITION_SIZE = 3 * GIB;
/** Smallest block device (or cache partition) MAAS accepts. */
export const MIN_BLOCK_DEVICE_SIZE = 4 * MIB;
/** bcache always has a /boot partition; 1 GiB unless boot_size says otherwise. */
export const BCACHE_DEFAULT_BOOT_SIZE = GIB;

const PERCENTAGE = /^\d+(\.\d*)?%$/;
const BYTES = /^-?[0-9]+([KkMmGgTtPpEe])?$/;
/** SI multipliers, as MAAS's machine_readable_bytes uses them. */
const SI: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, e: 1e18 };

type Errors = Record<string, string[]>;

function addError(errors: Errors, field: string, message: string): void {
  (errors[field] ??= []).push(message);
}

/** A size field's raw value: bytes, a percentage, or nothing (absent or blank); 'invalid' when neither. */
function sizeValue(raw: string | undefined): number | `${number}%` | null | 'invalid' {
  const v = raw?.trim() ?? '';
  if (v === '') return null;
  if (PERCENTAGE.test(v)) return v as `${number}%`;
  if (!BYTES.test(v)) return 'invalid';
  const unit = /[a-z]$/i.test(v) ? v.slice(-1).toLowerCase() : '';
  return Number(unit ? v.slice(0, -1) : v) * (unit ? SI[unit] : 1);
}

function percentOf(total: number, pct: `${number}%`): number {
  return Math.ceil((total * Number(pct.slice(0, -1))) / 100);
}

function invalidChoice(field: string, value: string, choices: readonly string[]): string {
  return `'${value}' is not a valid ${field}.  It should be one of: ${choices.map((c) => `'${c}'`).join(', ')}.`;
}

/** Django BooleanField: 'false' and '0' (any case) are false, anything else non-empty is true. */
function djangoBool(raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return false;
  return !['false', '0'].includes(raw.toLowerCase());
}

/** The layout name alone (MAAS's StorageLayoutForm, required). */
export function parseLayoutName(raw: string | undefined): StorageLayoutName | 'custom' {
  const name = raw?.trim() ?? '';
  if (name === '') throw invalid({ storage_layout: ['This field is required.'] });
  if (!(STORAGE_LAYOUTS as readonly string[]).includes(name)) {
    throw invalid({ storage_layout: [invalidChoice('storage_layout', name, STORAGE_LAYOUTS)] });
  }
  return name as StorageLayoutName | 'custom';
}

/**
 * Validates set_storage_layout's parameters for `devices` (the machine's physical block devices)
 * and `bootDisk`. Returns what to store, or throws MAAS's 400 (field errors as JSON, layout
 * failures as text).
 */
export function validateStorageLayout(
  get: ParamReader,
  devices: readonly LayoutDevice[],
  bootDisk: LayoutDevice | null,
): MachineStorageLayout {
  const layout = parseLayoutName(get('storage_layout'));
  const sorted = [...devices].sort((a, b) => a.id - b.id);
  const errors: Errors = {};

  // Field cleaning (each field on its own).
  const pickDevice = (field: string, choices: readonly LayoutDevice[]): LayoutDevice | null => {
    const raw = get(field)?.trim() ?? '';
    if (raw === '') return null;
    // MAAS takes block device ids; Kiln also takes a device's name (sda, /dev/sda).
    const found = choices.find((d) => String(d.id) === raw || d.name === raw || `/dev/${d.name}` === raw);
    if (!found) addError(errors, field, invalidChoice(field, raw, choices.map((d) => String(d.id))));
    return found ?? null;
  };
  const usable = bootDisk ? bootDisk.size - EFI_PARTITION_SIZE : 0;
  const cleanSize = (field: string, min: number | null, max: number | null, base: number | null): number | null => {
    const v = sizeValue(get(field));
    if (v === 'invalid') {
      addError(errors, field, 'Enter a valid value.');
      return null;
    }
    if (v === null || base === null) return null;
    const size = typeof v === 'number' ? v : percentOf(base, v);
    if (min !== null && size < min) addError(errors, field, `Size is too small. Minimum size is ${min}.`);
    else if (max !== null && size > max) addError(errors, field, `Size is too large. Maximum size is ${max}.`);
    else return size;
    return null;
  };
  const bootBase = bootDisk ? usable : null;
  const bootSize = cleanSize('boot_size', MIN_BOOT_PARTITION_SIZE, bootDisk ? usable - MIN_ROOT_PARTITION_SIZE : null, bootBase);
  const rootSize = cleanSize('root_size', MIN_ROOT_PARTITION_SIZE, bootDisk ? usable - MIN_BOOT_PARTITION_SIZE : null, bootBase);
  const rootDevice = pickDevice('root_device', sorted);

  const out: Omit<MachineStorageLayout, 'layout'> = {
    boot_size: bootSize,
    root_device: rootDevice?.id ?? null,
    root_size: rootSize,
  };

  let lvSizeRaw: ReturnType<typeof sizeValue> = null;
  let cacheSizeRaw: ReturnType<typeof sizeValue> = null;
  let cacheDevice: LayoutDevice | null = null;
  if (layout === 'lvm') {
    out.vg_name = get('vg_name')?.trim() || null;
    out.lv_name = get('lv_name')?.trim() || null;
    lvSizeRaw = sizeValue(get('lv_size'));
    if (lvSizeRaw === 'invalid') addError(errors, 'lv_size', 'Enter a valid value.');
  }
  if (layout === 'bcache') {
    const mode = get('cache_mode')?.trim() ?? '';
    if (mode !== '' && !(CACHE_MODES as readonly string[]).includes(mode)) {
      addError(errors, 'cache_mode', `Select a valid choice. ${mode} is not one of the available choices.`);
    }
    out.cache_mode = mode === '' ? null : (mode as MachineStorageLayout['cache_mode']);
    cacheSizeRaw = sizeValue(get('cache_size'));
    if (cacheSizeRaw === 'invalid') addError(errors, 'cache_size', 'Enter a valid value.');
    out.cache_no_part = djangoBool(get('cache_no_part'));
    // The cache_device field exists only when there is a boot disk to leave out.
    if (bootDisk) cacheDevice = pickDevice('cache_device', sorted.filter((d) => d.id !== bootDisk.id));
  }

  // The form's own checks, across fields.
  if (!sorted.length || !bootDisk) {
    throw invalid('Machine is missing a boot disk; no storage layout can be applied.');
  }
  const bootForTotal = out.boot_size ?? 0;
  if (out.root_size !== null && EFI_PARTITION_SIZE + bootForTotal + out.root_size > bootDisk.size) {
    addError(errors, '__all__', 'Size of the boot partition and root partition are larger than the available space on the boot disk.');
  } else if (layout === 'lvm') {
    if (lvSizeRaw !== null && lvSizeRaw !== 'invalid') {
      const root = out.root_size ?? bootDisk.size - EFI_PARTITION_SIZE - bootForTotal;
      const lvSize = typeof lvSizeRaw === 'number' ? lvSizeRaw : percentOf(root, lvSizeRaw);
      if (lvSize < MIN_ROOT_PARTITION_SIZE) addError(errors, 'lv_size', `Size is too small. Minimum size is ${MIN_ROOT_PARTITION_SIZE}.`);
      if (lvSize > root) addError(errors, 'lv_size', `Size is too large. Maximum size is ${root}.`);
      out.lv_size = lvSize;
    } else out.lv_size = null;
  } else if (layout === 'bcache') {
    // Asked for, or the smallest other disk tagged 'ssd'.
    cacheDevice ??= [...sorted].filter((d) => d.id !== bootDisk.id).sort((a, b) => a.size - b.size).find((d) => d.tags.includes('ssd')) ?? null;
    out.cache_device = cacheDevice?.id ?? null;
    out.cache_size = null;
    if (cacheSizeRaw !== null && cacheSizeRaw !== 'invalid' && out.cache_no_part) {
      const msg = 'Cannot use cache_size and cache_no_part at the same time.';
      addError(errors, 'cache_size', msg);
      addError(errors, 'cache_no_part', msg);
    } else if (cacheDevice && cacheSizeRaw !== null && cacheSizeRaw !== 'invalid') {
      const size = typeof cacheSizeRaw === 'number' ? cacheSizeRaw : percentOf(cacheDevice.size, cacheSizeRaw);
      if (size < MIN_BLOCK_DEVICE_SIZE) addError(errors, 'cache_size', `Size is too small. Minimum size is ${MIN_BLOCK_DEVICE_SIZE}.`);
      if (size > cacheDevice.size) addError(errors, 'cache_size', `Size is too large. Maximum size is ${cacheDevice.size}.`);
      out.cache_size = size;
    }
  } else if (layout === 'vmfs6' && bootDisk.size < 10 * GIB) {
    addError(errors, 'boot_size', 'Boot disk must be at least 10Gb.');
  } else if (layout === 'vmfs7' && bootDisk.size < 32 * GIB) {
    addError(errors, 'boot_size', 'Boot disk must be at least 32Gb.');
  }
  if (Object.keys(errors).length) throw invalid(errors);

  // Applying the layout.
  if (layout === 'custom') {
    // MAAS builds it from the commissioning data's storage-extra; Kiln has no commissioning output yet.
    throw invalid("Failed to configure storage layout 'custom': No custom storage layout configuration found");
  }
  if (layout === 'bcache' && out.cache_device === null) {
    throw invalid("Failed to configure storage layout 'bcache': Node doesn't have an available cache device to setup bcache.");
  }
  return { layout, ...out };
}

const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;

/**
 * Whether a machine's storage layout (as set_storage_layout kept it; flat when none was set)
 * fits its physical disks as they are now (disks re-discovered or replaced since the layout was
 * set, a machine whose disk is too small for any install). null: it fits; otherwise the reason,
 * naming the disk. Checks what deployment renders: the boot disk holds the EFI and /boot
 * partitions, the root disk (the boot disk when root_device is gone) the root filesystem, the
 * cache disk bcache's cache. blank and the VMware layouts, and machines with no disks
 * known, are not checked here.
 */
export function layoutFitProblem(layout: MachineStorageLayout | null, devices: readonly LayoutDevice[], bootDisk: LayoutDevice | null): string | null {
  const l: MachineStorageLayout = layout ?? { layout: 'flat', boot_size: null, root_device: null, root_size: null };
  if (l.layout !== 'flat' && l.layout !== 'lvm' && l.layout !== 'bcache') return null;
  // No disks known (never commissioned, a machine added by hand): nothing to check them against.
  if (!bootDisk) return null;
  const rootDisk = devices.find((d) => d.id === l.root_device) ?? bootDisk;
  const needs = new Map<LayoutDevice, number>();
  const need = (d: LayoutDevice, n: number) => needs.set(d, (needs.get(d) ?? 0) + n);
  need(bootDisk, EFI_PARTITION_SIZE + (l.boot_size ?? (l.layout === 'bcache' ? BCACHE_DEFAULT_BOOT_SIZE : 0)));
  need(rootDisk, Math.max(l.root_size ?? 0, l.layout === 'lvm' ? (l.lv_size ?? 0) : 0, MIN_ROOT_PARTITION_SIZE));
  if (l.layout === 'bcache' && l.cache_device != null) {
    const cache = devices.find((d) => d.id === l.cache_device);
    if (!cache) return `The bcache storage layout's cache disk (block device ${l.cache_device}) is no longer present.`;
    need(cache, l.cache_size ?? MIN_BLOCK_DEVICE_SIZE);
  }
  for (const [d, n] of needs) {
    if (n > d.size) return `The ${l.layout} storage layout does not fit disk ${d.name}: it needs ${gb(n)}, the disk holds ${gb(d.size)}.`;
  }
  return null;
}
