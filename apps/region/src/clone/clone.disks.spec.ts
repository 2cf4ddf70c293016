import { CloneDisk, mapDisks } from './clone.disks';

const disk = (id: number, name: string, gb: number, isBoot = false): CloneDisk => ({ id, name, size: gb * 1e9, isBoot });

describe('clone disk mapping', () => {
  it('maps the boot disk onto the boot disk and the others in id order', () => {
    const m = mapDisks([disk(1, 'sda', 100), disk(2, 'sdb', 50, true), disk(3, 'sdc', 10)], [disk(7, 'vda', 160), disk(8, 'vdb', 200, true), disk(9, 'vdc', 10), disk(10, 'vdd', 1)]);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    expect(m.pairs.map((p) => [p.source.name, p.destination.name])).toEqual([
      ['sdb', 'vdb'],
      ['sda', 'vda'],
      ['sdc', 'vdc'],
    ]);
  });

  it('names every destination disk that is too small, with both sizes', () => {
    const m = mapDisks([disk(1, 'sda', 100, true), disk(2, 'sdb', 50)], [disk(3, 'vda', 99, true), disk(4, 'vdb', 10)]);
    expect(m).toEqual({
      ok: false,
      problems: [
        'Destination disk vda (99000000000 bytes, 99.0 GB) is smaller than source disk sda (100000000000 bytes, 100.0 GB).',
        'Destination disk vdb (10000000000 bytes, 10.0 GB) is smaller than source disk sdb (50000000000 bytes, 50.0 GB).',
      ],
    });
  });

  it('refuses a destination with fewer disks', () => {
    expect(mapDisks([disk(1, 'sda', 1), disk(2, 'sdb', 1)], [disk(3, 'vda', 5)])).toEqual({ ok: false, problems: ['The destination has 1 physical disk(s) but the source has 2.'] });
  });

  it('accepts equal sizes', () => {
    expect(mapDisks([disk(1, 'sda', 10)], [disk(2, 'vda', 10)]).ok).toBe(true);
  });
});
