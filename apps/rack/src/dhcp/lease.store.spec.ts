import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ipToInt } from './ipv4.util';
import { LeaseStore, PoolSpec } from './lease.store';

const SPECS: PoolSpec[] = [
  { subnetId: 'a', ranges: [{ start: ipToInt('10.0.0.10'), end: ipToInt('10.0.0.19') }], reservations: [{ mac: 'aa:aa:aa:aa:aa:aa', ip: ipToInt('10.0.0.12') }] },
];
const T0 = 1_800_000_000_000;

describe('LeaseStore', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-leases-'));
    file = path.join(dir, 'leases.journal');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const open = (now = T0) => LeaseStore.open({ file, fsync: 'never' }, SPECS, now);

  it('journals bindings (not offers) and replays them after a restart', () => {
    const s = open();
    const ip = s.pickFree('a');
    expect(ip).toBe(ipToInt('10.0.0.10'));
    s.offer('a', 'm1', ip, T0 + 30_000, {});
    s.flush();
    expect(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(1); // header only
    s.bind('a', 'm1', ip, T0 + 600_000, { hostname: 'h1', clientId: '01:02' });
    expect(fs.readFileSync(file, 'utf8')).not.toContain('m1'); // not written before flush
    s.flush();
    expect(fs.readFileSync(file, 'utf8')).toContain('"m":"m1"');
    s.close();

    const r = open(T0 + 1000);
    expect(r.byMac('a', 'm1')).toMatchObject({ ip, state: 'bound', hostname: 'h1', clientId: '01:02', expiresAt: T0 + 600_000 });
    // The bound address is not handed out again; the reservation is skipped too.
    expect(r.pickFree('a')).toBe(ipToInt('10.0.0.11'));
    r.close();
  });

  it('replays expired bindings as remembered addresses, offered back to their owner first', () => {
    const s = open();
    s.bind('a', 'm1', ipToInt('10.0.0.10'), T0 + 1000, {});
    s.close();
    const r = open(T0 + 5000);
    expect(r.byMac('a', 'm1')?.state).toBe('expired');
    expect(r.takeExpiredOnLoad().map((l) => l.mac)).toEqual(['m1']);
    expect(r.takeExpiredOnLoad()).toEqual([]);
    expect(r.availableFor('a', ipToInt('10.0.0.10'), 'm1', T0 + 5000)).toBe(true);
    // New clients get never-used addresses before remembered ones.
    expect(r.pickFree('a')).toBe(ipToInt('10.0.0.11'));
    r.close();
  });

  it('drops a torn final line and keeps appending cleanly', () => {
    const s = open();
    s.bind('a', 'm1', ipToInt('10.0.0.10'), T0 + 600_000, {});
    s.close();
    fs.appendFileSync(file, '{"t":"b","s":"a","ip":"10.0.0.11","m":"m2","e":18');
    const r = open();
    expect(r.byMac('a', 'm2')).toBeUndefined();
    r.bind('a', 'm3', ipToInt('10.0.0.13'), T0 + 600_000, {});
    r.close();
    const again = open();
    expect(again.byMac('a', 'm1')?.state).toBe('bound');
    expect(again.byMac('a', 'm3')?.state).toBe('bound');
    expect(again.stats().badJournalLines).toBe(0);
    again.close();
  });

  it('compacts to the live state, atomically, and replays the same leases', () => {
    const s = LeaseStore.open({ file, fsync: 'never', compactMinRecords: 10, compactRatio: 2 }, SPECS, T0);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 3; i++) s.bind('a', `m${i}`, ipToInt(`10.0.0.1${i}`) + (i >= 2 ? 1 : 0), T0 + 600_000 + round, {});
      s.flush();
    }
    expect(s.stats().journalRecords).toBe(60);
    expect(s.compactIfNeeded()).toBe(true);
    expect(s.stats().journalRecords).toBe(3);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    s.bind('a', 'm9', ipToInt('10.0.0.19'), T0 + 600_000, {});
    s.close();
    const r = open();
    expect([...r.leases()].map((l) => [l.mac, l.state]).sort()).toEqual([
      ['m0', 'bound'],
      ['m1', 'bound'],
      ['m2', 'bound'],
      ['m9', 'bound'],
    ]);
    expect(r.byMac('a', 'm0')?.expiresAt).toBe(T0 + 600_019);
    r.close();
  });

  it('keeps leases of a subnet that disappears from the config, and restores them when it comes back', () => {
    const s = open();
    s.bind('a', 'm1', ipToInt('10.0.0.10'), T0 + 600_000, {});
    s.configure([]);
    expect(s.byMac('a', 'm1')).toBeUndefined();
    s.configure(SPECS);
    expect(s.byMac('a', 'm1')?.state).toBe('bound');
    expect(s.pickFree('a')).toBe(ipToInt('10.0.0.11'));
    s.close();
  });

  it("a declined address is nobody's until its probation ends, and is journalled", () => {
    const s = open();
    const ip = ipToInt('10.0.0.10');
    s.bind('a', 'm1', ip, T0 + 600_000, {});
    s.decline('a', ip, T0 + 60_000);
    expect(s.byMac('a', 'm1')).toBeUndefined();
    expect(s.availableFor('a', ip, 'm2', T0)).toBe(false);
    s.close();
    const r = open(T0 + 1000);
    expect(r.byIp('a', ip)?.state).toBe('declined');
    r.sweep(T0 + 61_000);
    expect(r.byIp('a', ip)).toBeUndefined();
    expect(r.availableFor('a', ip, 'm2', T0 + 61_000)).toBe(true);
    r.close();
  });
});
