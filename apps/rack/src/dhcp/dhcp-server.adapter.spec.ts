import { DhcpSnapshot } from '@kiln/contracts';
import { InMemoryDhcpConfigSource } from './dhcp-config.port';
import type { RackEventsPublisher } from '../events/rack-events.publisher';
import { leaseEventSink, shareOfRanges, toDhcpServerConfig, transferEvents } from './dhcp-server.adapter';

const base = {
  gateway: '10.1.0.1',
  dnsServers: ['10.1.0.1'],
  domain: 'maas',
  mtu: 1500,
  vlan: { id: 1, vid: 0, fabricId: 1 },
  primary: true,
  peerRackId: null,
  leaseTimeS: 600,
};

const snapshot: DhcpSnapshot = {
  rackId: 'rack-1',
  revision: 3,
  subnets: [
    {
      ...base,
      id: 1,
      cidr: '10.1.0.0/24',
      relayed: false,
      disabledBootArchitectures: ['pxe', 'ipxe'],
      ranges: [{ id: 1, start: '10.1.0.100', end: '10.1.0.200' }],
      reservations: [{ id: 4, mac: '52:54:00:00:00:04', ip: '10.1.0.50', hostname: 'node4', systemId: 'abc' }],
      ntpServers: ['10.1.0.1'],
      domainSearch: ['lab.example'],
    },
    { ...base, id: 2, cidr: '10.2.0.0/24', gateway: null, relayed: true, disabledBootArchitectures: [], ranges: [], reservations: [] },
  ],
};

describe('rack core to server adapters', () => {
  it('maps a snapshot to a DHCP server configuration the server accepts', () => {
    const config = toDhcpServerConfig(snapshot, [
      { name: 'eth0', mac: '52:54:00:aa:00:01', addresses: ['192.168.1.5/24'], vlan: null },
      { name: 'eth1', mac: '52:54:00:aa:00:02', addresses: ['10.1.0.2/24', 'fe80::1/64'], vlan: null },
    ]);
    expect(config.interfaces).toEqual([{ name: 'eth1', address: '10.1.0.2' }]);
    expect(config.serverAddress).toBe('192.168.1.5');
    expect(config.subnets[0]).toMatchObject({
      id: '1',
      interface: 'eth1',
      routers: ['10.1.0.1'],
      reservations: [{ mac: '52:54:00:00:00:04', ip: '10.1.0.50', hostname: 'node4' }],
      boot: { enabled: true, disabledArchitectures: [0] },
      ntpServers: ['10.1.0.1'],
      domainSearch: ['lab.example'],
    });
    expect(config.subnets[1].interface).toBeUndefined();
    expect(config.subnets[1]).not.toHaveProperty('ntpServers');
    expect(config.subnets[1]).not.toHaveProperty('domainSearch');
    expect(() => new InMemoryDhcpConfigSource(config)).not.toThrow();
  });

  it('splits each range between a primary and a secondary rack, telling each the peer\'s half', () => {
    const ranges = [
      { start: '10.1.0.100', end: '10.1.0.200' },
      { start: '10.1.1.250', end: '10.1.2.4' },
      { start: '10.1.3.9', end: '10.1.3.9' },
    ];
    expect(shareOfRanges(ranges, null)).toEqual({ ranges });
    const primary = shareOfRanges(ranges, true);
    const secondary = shareOfRanges(ranges, false);
    expect(primary.ranges).toEqual([
      { start: '10.1.0.100', end: '10.1.0.150' },
      { start: '10.1.1.250', end: '10.1.1.255' },
      { start: '10.1.3.9', end: '10.1.3.9' },
    ]);
    expect(secondary.ranges).toEqual([
      { start: '10.1.0.151', end: '10.1.0.200' },
      { start: '10.1.2.0', end: '10.1.2.4' },
    ]);
    expect(primary.peerRanges).toEqual(secondary.ranges);
    expect(secondary.peerRanges).toEqual(primary.ranges);

    const two = { ...snapshot, subnets: [{ ...snapshot.subnets[0], primary: false, peerRackId: 'rack-0' }] };
    const config = toDhcpServerConfig(two, [{ name: 'eth1', mac: '52:54:00:aa:00:02', addresses: ['10.1.0.2/24'], vlan: null }]);
    expect(config.subnets[0].ranges).toEqual([{ start: '10.1.0.151', end: '10.1.0.200' }]);
    expect(config.subnets[0].peerRanges).toEqual([{ start: '10.1.0.100', end: '10.1.0.150' }]);
    expect(() => new InMemoryDhcpConfigSource(config)).not.toThrow();
  });

  it('turns the DHCP server\'s lease reports and the boot servers\' transfers into events', () => {
    const leases: unknown[] = [];
    const boots: unknown[] = [];
    const publisher = { lease: (f: unknown) => leases.push(f), boot: (f: unknown) => boots.push(f) } as unknown as RackEventsPublisher;
    const sink = leaseEventSink(publisher);
    const e = { at: 0, mac: '52:54:00:00:00:09', ip: '10.1.0.101', subnetId: '1', interface: 'eth1', clientArch: 7 };
    sink.publish({ ...e, type: 'offer', bootFile: 'bootx64.efi' });
    sink.publish({ ...e, type: 'ack' });
    sink.publish({ ...e, type: 'ack' });
    sink.publish({ ...e, type: 'release' });
    sink.publish({ ...e, ip: '0.0.0.0', type: 'nak', message: 'wrong subnet' });
    expect(leases.map((l) => (l as { action: string }).action)).toEqual(['commit', 'renew', 'release']);
    expect(boots).toEqual([
      expect.objectContaining({ step: 'dhcp-offer', ok: true, file: 'bootx64.efi', iface: 'eth1', clientArch: 7 }),
      expect.objectContaining({ step: 'dhcp-ack', ip: '10.1.0.101' }),
      expect.objectContaining({ step: 'dhcp-ack' }),
      expect.objectContaining({ step: 'dhcp-nak', ok: false, detail: 'wrong subnet' }),
    ]);
    expect(boots[3]).not.toHaveProperty('ip');

    const t = transferEvents(publisher);
    const transfer = { protocol: 'tftp' as const, file: 'grub/grub.cfg-52:54:00:00:00:09', client: { address: '10.1.0.101', port: 2000 }, startedAt: 0, durationMs: 5, bytes: 100 };
    t.served({ ...transfer, mac: '52:54:00:00:00:09', source: 'rendered', size: 100 });
    t.failed({ ...transfer, mac: '52:54:00:00:00:09', reason: 'not-found', message: 'no such file' });
    t.served({ ...transfer, source: 'static', size: 100 }); // no MAC: not a machine event
    expect(boots.slice(4)).toEqual([
      expect.objectContaining({ step: 'tftp-file', ok: true, bytes: 100 }),
      expect.objectContaining({ step: 'tftp-file', ok: false, detail: 'not-found: no such file' }),
    ]);
  });
});
