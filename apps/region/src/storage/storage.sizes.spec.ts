import {
  alignSize,
  MIB,
  parseSize,
  raidSize,
  partitionTableAvailable,
  partitionTableOverhead,
  partitionTableUsed,
  volumeGroupSize,
} from './storage.sizes';

describe('storage size maths', () => {
  it('aligns sizes up by default and down when asked', () => {
    expect(alignSize(4 * MIB, 4 * MIB)).toBe(4 * MIB);
    expect(alignSize(4 * MIB + 1, 4 * MIB)).toBe(8 * MIB);
    expect(alignSize(8 * MIB - 1, 4 * MIB, false)).toBe(4 * MIB);
  });

  it('reserves 5 MiB for a partition table, plus bios_grub on amd64 BIOS and PReP on ppc64el', () => {
    expect(partitionTableOverhead('amd64/generic', 'uefi')).toBe(5 * MIB);
    expect(partitionTableOverhead('amd64/generic', 'pxe')).toBe(6 * MIB);
    expect(partitionTableOverhead('amd64/generic', null)).toBe(6 * MIB);
    expect(partitionTableOverhead('ppc64el/generic', 'pxe')).toBe(13 * MIB);
    expect(partitionTableOverhead('arm64/generic', 'uefi')).toBe(5 * MIB);
  });

  it('counts partitions and overhead as used, and only aligned space as available', () => {
    const disk = 100_000_000_000;
    expect(partitionTableUsed([], 6 * MIB)).toBe(6 * MIB);
    expect(partitionTableUsed([8 * MIB, 4 * MIB], 6 * MIB)).toBe(18 * MIB);
    const free = partitionTableAvailable(disk, [], 6 * MIB);
    expect(free % (4 * MIB)).toBe(0);
    expect(free).toBeLessThanOrEqual(disk - 6 * MIB);
    expect(disk - 6 * MIB - free).toBeLessThan(4 * MIB);
    expect(partitionTableAvailable(disk, [free], 6 * MIB)).toBe(0);
    expect(partitionTableAvailable(10 * MIB, [8 * MIB], 6 * MIB)).toBe(0);
  });

  it('reads sizes as MAAS does: bytes or decimal suffixes', () => {
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize('10G')).toBe(10_000_000_000);
    expect(parseSize('1.5M')).toBe(1_500_000);
    expect(parseSize('2t')).toBe(2_000_000_000_000);
    expect(parseSize('ten')).toBeUndefined();
    expect(parseSize('-5')).toBeUndefined();
    expect(parseSize('')).toBeUndefined();
  });

  it('sizes a volume group from its members less LVM metadata, in whole extents', () => {
    expect(volumeGroupSize([])).toBe(0);
    expect(volumeGroupSize([100 * MIB])).toBe(96 * MIB);
    expect(volumeGroupSize([100 * MIB + 5, 10 * MIB])).toBe(96 * MIB + 4 * MIB);
  });

  it('sizes RAID arrays from the smallest member, less the md superblock', () => {
    const o = 128 * 1024;
    expect(raidSize('raid-0', [10 * MIB, 20 * MIB])).toBe(30 * MIB - 2 * o);
    expect(raidSize('raid-1', [10 * MIB, 20 * MIB])).toBe(10 * MIB - o);
    expect(raidSize('raid-1', [10 * MIB, 20 * MIB], [5 * MIB])).toBe(5 * MIB - o);
    expect(raidSize('raid-5', [10 * MIB, 20 * MIB, 30 * MIB])).toBe(20 * MIB - o);
    expect(raidSize('raid-6', [10 * MIB, 10 * MIB, 10 * MIB, 10 * MIB])).toBe(20 * MIB - o);
    expect(raidSize('raid-10', [10 * MIB, 10 * MIB, 10 * MIB])).toBe(15 * MIB - o);
    expect(raidSize('raid-5', [])).toBe(0);
  });
});
