import { matchStorage, parseStorageConstraint } from './storage.constraint';

describe('storage constraint', () => {
  const disks = [
    { id: 1, size: String(500e9), tags: ['ssd'], type: 'physical' },
    { id: 2, size: String(100e9), tags: ['rotary'], type: 'physical' },
  ];

  it('parses labels, sizes and tags', () => {
    expect(parseStorageConstraint('root:50(ssd),data:80')).toEqual([
      { label: 'root', minBytes: 50e9, tags: ['ssd'] },
      { label: 'data', minBytes: 80e9, tags: [] },
    ]);
    expect(parseStorageConstraint('20,30(a,b)')).toEqual([
      { label: '0', minBytes: 20e9, tags: [] },
      { label: '1', minBytes: 30e9, tags: ['a', 'b'] },
    ]);
  });

  it('assigns distinct disks, or nothing when one entry cannot be met', () => {
    expect(matchStorage(parseStorageConstraint('root:50(ssd),data:80'), disks)).toEqual({ root: [1], data: [2] });
    expect(matchStorage(parseStorageConstraint('a:400,b:400'), disks)).toBeNull();
    expect(matchStorage(parseStorageConstraint('a:10(nvme)'), disks)).toBeNull();
  });

  it('refuses malformed entries with a 400', () => {
    expect(() => parseStorageConstraint('root:big')).toThrow(/Malformed storage constraint/);
  });
});
