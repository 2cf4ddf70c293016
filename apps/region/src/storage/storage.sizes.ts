/**
 * Storage size maths as MAAS does it (models/partition.py, models/partitiontable.py): partitions
 * aligned to 4 MiB, the first 4 MiB and the last 1 MiB of a partitioned disk reserved, plus a
 * bios_grub partition (1 MiB) on amd64 machines that do not boot UEFI or a PReP partition (8 MiB)
 * on ppc64el. Pure.
 */
export const MIB = 1024 * 1024;
export const PARTITION_ALIGNMENT_SIZE = 4 * MIB;
export const MIN_PARTITION_SIZE = 4 * MIB;
export const MIN_BLOCK_DEVICE_SIZE = 4 * MIB;
export const INITIAL_PARTITION_OFFSET = 4 * MIB;
export const END_OF_PARTITION_TABLE_SPACE = 1 * MIB;
export const PREP_PARTITION_SIZE = 8 * MIB;
export const BIOS_GRUB_PARTITION_SIZE = 1 * MIB;
/** LVM's physical extent size; each member of a volume group gives one extent to LVM's metadata. */
export const LVM_PE_SIZE = 4 * MIB;

/** round_size_to_nearest_block: `size` rounded up (or down) to a multiple of `block`. */
export function alignSize(size: number, block: number, roundUp = true): number {
  const rem = size % block;
  if (rem === 0) return size;
  return roundUp ? size - rem + block : size - rem;
}

/** The space a partition table takes on a disk of a machine with this architecture and boot method. */
export function partitionTableOverhead(architecture: string, biosBootMethod: string | null): number {
  const arch = architecture.split('/')[0];
  let extra = INITIAL_PARTITION_OFFSET + END_OF_PARTITION_TABLE_SPACE;
  if (arch === 'ppc64el') extra += PREP_PARTITION_SIZE;
  else if (arch === 'amd64' && biosBootMethod !== 'uefi') extra += BIOS_GRUB_PARTITION_SIZE;
  return extra;
}

/** Used space of a partitioned disk: its partitions and the table's overhead. */
export function partitionTableUsed(partitionSizes: readonly number[], overhead: number): number {
  return partitionSizes.reduce((a, b) => a + b, 0) + overhead;
}

/** Space left for new partitions: only alignable space counts (aligned down). */
export function partitionTableAvailable(diskSize: number, partitionSizes: readonly number[], overhead: number): number {
  return Math.max(0, alignSize(diskSize - partitionTableUsed(partitionSizes, overhead), PARTITION_ALIGNMENT_SIZE, false));
}

/**
 * A size as MAAS's API reads it (machine_readable_bytes): bytes, or a number with a decimal suffix
 * K, M, G, T, P, E (powers of 1000). Undefined when it is not one.
 */
export function parseSize(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpe]?)\s*$/i.exec(raw);
  if (!m) return undefined;
  const power = ' kmgtpe'.indexOf(m[2].toLowerCase() || ' ');
  const value = Math.floor(Number(m[1]) * 1000 ** power);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * A volume group's size (MAAS VolumeGroup.get_lvm_size): its members' total in whole 4 MiB
 * physical extents, less one extent per member for LVM's metadata.
 */
export function volumeGroupSize(memberSizes: readonly number[]): number {
  const total = memberSizes.reduce((sum, s) => sum + s, 0);
  return Math.max(0, Math.floor(total / LVM_PE_SIZE) - memberSizes.length) * LVM_PE_SIZE;
}

/** Members a RAID level needs at least (MAAS RAID form: RAID 0 and 1 two, 5 and 10 three, 6 four). */
export const RAID_MIN_DEVICES: Record<string, number> = { 'raid-0': 2, 'raid-1': 2, 'raid-5': 3, 'raid-6': 4, 'raid-10': 3 };

/** What an md superblock may take of each array (MAAS RAID_SUPERBLOCK_OVERHEAD: 128 KiB at most). */
export const RAID_SUPERBLOCK_OVERHEAD = 128 * 1024;

/**
 * An array's size (MAAS FilesystemGroup.get_raid_size): from the smallest member (spares
 * included) times the data members, less the superblock (once per member for RAID 0).
 */
export function raidSize(level: string, activeSizes: readonly number[], spareSizes: readonly number[] = []): number {
  const all = [...activeSizes, ...spareSizes];
  if (!all.length) return 0;
  const min = Math.min(...all);
  const n = activeSizes.length;
  switch (level) {
    case 'raid-0':
      return all.reduce((a, b) => a + b, 0) - RAID_SUPERBLOCK_OVERHEAD * all.length;
    case 'raid-1':
      return min - RAID_SUPERBLOCK_OVERHEAD;
    case 'raid-5':
      return min * (n - 1) - RAID_SUPERBLOCK_OVERHEAD;
    case 'raid-6':
      return min * (n - 2) - RAID_SUPERBLOCK_OVERHEAD;
    case 'raid-10':
      return Math.floor((min * n) / 2) - RAID_SUPERBLOCK_OVERHEAD;
    default:
      return 0;
  }
}
