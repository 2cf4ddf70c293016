import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LeaseJournal } from './lease.journal';

// A pass-through fs whose writeSync a test can make fail (the disk is full).
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return { ...actual, writeSync: jest.fn(actual.writeSync) };
});

describe('LeaseJournal', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-journal-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps records pending when a write fails, and writes them on the next flush', () => {
    const file = path.join(dir, 'leases.journal');
    const j = new LeaseJournal(file, 'never');
    j.append({ t: 'b', s: 'a', ip: '10.0.0.10', m: 'm1', e: 1 });
    (fs.writeSync as unknown as jest.Mock).mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    expect(() => j.flush()).toThrow(/ENOSPC/);
    expect(j.hasPending).toBe(true);
    j.flush();
    expect(j.hasPending).toBe(false);
    j.close();
    const again = new LeaseJournal(file, 'never');
    expect(again.load().records).toEqual([{ t: 'b', s: 'a', ip: '10.0.0.10', m: 'm1', e: 1 }]);
    again.close();
  });

  it('skips lines that do not parse (a partly written record) and counts them', () => {
    const file = path.join(dir, 'leases.journal');
    fs.writeFileSync(file, '{"kiln":"dhcp-leases","v":1}\n{"t":"b","s":"a","ip":"10.0.0.1","m":"m1","e":5}\n{"t":"b","s":"a","ip\n{"t":"r","s":"a","ip":"10.0.0.1","m":"m1","e":6}\n');
    const j = new LeaseJournal(file, 'never');
    const { records, badLines, tornBytes } = j.load();
    expect(records.map((r) => r.t)).toEqual(['b', 'r']);
    expect([badLines, tornBytes]).toEqual([1, 0]);
    j.close();
  });
});
