import fc from 'fast-check';
import { DhcpSnapshot, DhcpSubnetConfig, dhcpUpdate } from './dhcp-config.contract';
import { applyDhcpUpdate, diffDhcpSubnets, sortSubnets } from './dhcp-config.ops';

const octet = fc.integer({ min: 1, max: 254 });
const subnetArb = (id: number): fc.Arbitrary<DhcpSubnetConfig> =>
  fc.record({
    id: fc.constant(id),
    cidr: octet.map((o) => `10.${o}.0.0/24`),
    gateway: fc.option(octet.map((o) => `10.0.0.${o}`), { nil: null }),
    dnsServers: fc.array(octet.map((o) => `192.168.0.${o}`), { maxLength: 2 }),
    domain: fc.constantFrom('maas', null),
    mtu: fc.constantFrom(1500, 9000),
    vlan: fc.record({ id: fc.integer({ min: 1, max: 3 }), vid: fc.integer({ min: 0, max: 10 }), fabricId: fc.constant(1) }),
    relayed: fc.boolean(),
    primary: fc.boolean(),
    peerRackId: fc.constantFrom(null, 'rack-peer'),
    disabledBootArchitectures: fc.subarray(['pxe', 'ipxe', 'uefi_amd64_tftp']),
    leaseTimeS: fc.constant(600),
    ranges: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }).chain((ids) =>
      fc.tuple(...ids.map((rid) => fc.record({ id: fc.constant(rid), start: octet.map((o) => `10.0.0.${o}`), end: fc.constant('10.0.0.254') }))),
    ),
    reservations: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }).chain((ids) =>
      fc.tuple(
        ...ids.map((rid) =>
          fc.record({
            id: fc.constant(rid),
            mac: octet.map((o) => `52:54:00:00:00:${o.toString(16).padStart(2, '0')}`),
            ip: octet.map((o) => `10.0.1.${o}`),
            hostname: fc.constantFrom(null, 'node1'),
            systemId: fc.constantFrom(null, 'abc123'),
          }),
        ),
      ),
    ),
  });

const configArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 5 })
  .chain((ids) => fc.tuple(...ids.map(subnetArb)))
  .map((subnets) => new Map(subnets.map((s) => [s.id, s])));

const snapshot = (subnets: Map<number, DhcpSubnetConfig>, revision: number): DhcpSnapshot => ({
  rackId: 'rack-1',
  revision,
  subnets: sortSubnets([...subnets.values()]),
});

describe('DHCP configuration ops', () => {
  it('applying the diff of two configurations to the first gives the second', () => {
    fc.assert(
      fc.property(configArb, configArb, (before, after) => {
        const ops = diffDhcpSubnets(before, after);
        const update = dhcpUpdate.parse({ rackId: 'rack-1', baseRevision: 4, revision: 5, ops });
        const r = applyDhcpUpdate(snapshot(before, 4), update);
        expect(r).toEqual({ kind: 'applied', snapshot: snapshot(after, 5) });
      }),
      { numRuns: 300 },
    );
  });

  it('sends nothing when nothing changed, and only the changed range when one range changes', () => {
    fc.assert(
      fc.property(configArb, (cfg) => {
        expect(diffDhcpSubnets(cfg, cfg)).toEqual([]);
      }),
    );
    const s: DhcpSubnetConfig = {
      ...fc.sample(subnetArb(1), 1)[0],
      ranges: [
        { id: 1, start: '10.0.0.10', end: '10.0.0.20' },
        { id: 2, start: '10.0.0.30', end: '10.0.0.40' },
      ],
    };
    const changed = { ...s, ranges: [s.ranges[0], { id: 2, start: '10.0.0.30', end: '10.0.0.50' }] };
    expect(diffDhcpSubnets(new Map([[1, s]]), new Map([[1, changed]]))).toEqual([
      { op: 'upsertRange', subnetId: 1, range: { id: 2, start: '10.0.0.30', end: '10.0.0.50' } },
    ]);
  });

  it('ignores stale updates and reports gaps', () => {
    const snap = snapshot(new Map(), 7);
    expect(applyDhcpUpdate(snap, { rackId: 'rack-1', baseRevision: 6, revision: 7, ops: [] })).toEqual({ kind: 'stale' });
    expect(applyDhcpUpdate(snap, { rackId: 'rack-1', baseRevision: 8, revision: 9, ops: [] })).toEqual({ kind: 'gap' });
    expect(
      applyDhcpUpdate(snap, { rackId: 'rack-1', baseRevision: 7, revision: 8, ops: [{ op: 'upsertRange', subnetId: 3, range: { id: 1, start: '10.0.0.1', end: '10.0.0.2' } }] }),
    ).toEqual({ kind: 'gap' });
  });
});
