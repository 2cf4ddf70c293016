import { NeighbourBatch, parseNeighbourTable } from './neighbour.table';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const served = new Set(['rack0']);
const entry = (over: Record<string, unknown>) => ({ dst: '10.77.0.50', dev: 'rack0', lladdr: '52:54:00:AA:00:01', used: 3, confirmed: 2, updated: 5, state: ['REACHABLE'], ...over });

describe('parseNeighbourTable', () => {
  it('takes live IPv4 entries of served interfaces, with when the host was last heard from', () => {
    const { entries, skipped } = parseNeighbourTable(JSON.stringify([entry({}), entry({ dst: '10.77.0.51', state: ['STALE'], confirmed: 40, updated: 30 })]), served, NOW);
    expect(entries).toEqual([
      { iface: 'rack0', ip: '10.77.0.50', mac: '52:54:00:aa:00:01', seenAt: NOW - 2000 },
      { iface: 'rack0', ip: '10.77.0.51', mac: '52:54:00:aa:00:01', seenAt: NOW - 30_000 },
    ]);
    expect(Object.values(skipped).every((n) => n === 0)).toBe(true);
  });

  it('counts and drops what it cannot use, by reason', () => {
    const rows = [
      entry({ dev: 'eth9' }),
      entry({ dst: 'fe80::1' }),
      entry({ state: ['FAILED'] }),
      entry({ state: ['INCOMPLETE'], lladdr: undefined }),
      entry({ lladdr: undefined }),
      entry({ lladdr: 'not-a-mac' }),
      entry({ dst: '10.77.0.300' }),
      { dev: 'rack0' },
      42,
    ];
    const { entries, skipped } = parseNeighbourTable(JSON.stringify(rows), served, NOW);
    expect(entries).toEqual([]);
    expect(skipped).toEqual({ 'not-served': 1, 'not-ipv4': 1, 'not-live': 2, 'no-lladdr': 1, malformed: 4 });
  });

  it('counts output that is not a JSON array as malformed', () => {
    expect(parseNeighbourTable('{oops', served, NOW).skipped.malformed).toBe(1);
    expect(parseNeighbourTable('{}', served, NOW).skipped.malformed).toBe(1);
    expect(parseNeighbourTable('', served, NOW).entries).toEqual([]);
  });
});

describe('NeighbourBatch', () => {
  const e = (seenAt: number, ip = '10.77.0.50') => ({ iface: 'rack0', ip, mac: '52:54:00:aa:00:01', seenAt });

  it('counts a host once per time the kernel heard from it, not once per reading', () => {
    const b = new NeighbourBatch();
    expect(b.add([e(NOW), e(NOW, '10.77.0.51')])).toBe(2);
    expect(b.add([e(NOW + 400), e(NOW, '10.77.0.51')])).toBe(0); // same sighting (one-second resolution)
    expect(b.add([e(NOW + 5000)])).toBe(1);
    const out = b.take();
    expect(out).toEqual([
      { iface: 'rack0', ip: '10.77.0.51', mac: '52:54:00:aa:00:01', count: 1, firstSeen: new Date(NOW).toISOString(), lastSeen: new Date(NOW).toISOString() },
      { iface: 'rack0', ip: '10.77.0.50', mac: '52:54:00:aa:00:01', count: 2, firstSeen: new Date(NOW).toISOString(), lastSeen: new Date(NOW + 5000).toISOString() },
    ]);
    expect(b.size).toBe(0);
    // A new period: the same stale entry is not reported again...
    expect(b.add([e(NOW + 5000)])).toBe(0);
    expect(b.take()).toEqual([]);
    // ...but once the kernel forgot it, its return is a new sighting.
    b.add([]);
    expect(b.add([e(NOW + 5000)])).toBe(1);
  });
});
