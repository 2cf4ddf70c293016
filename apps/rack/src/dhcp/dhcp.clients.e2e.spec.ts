// Real clients (ISC dhclient, busybox udhcpc, dhcpcd) against the real server, in network
// namespaces: directly attached on two interfaces at once, through a relay, and PXE/iPXE boot
// options. The server runs in this process with its sockets inside the rack namespace.
import pino from 'pino';
import { InMemoryBootDecisions } from '../boot/boot-decision.port';
import { InMemoryDhcpConfigSource } from './dhcp-config.port';
import { RunningDhcp, startDhcp } from './dhcp.runtime';
import { InMemoryLeaseEventSink } from './lease-events.port';
import { E2E_CONFIG } from './testing/e2e.config';
import { DhcpLab } from './testing/lab.harness';
import { RelayAgent } from './testing/relay.agent';


const inRange = (subnet: number) => new RegExp(`^10\\.77\\.${subnet}\\.1\\d\\d$`);

describe('DHCP server with real clients (e2e, network namespaces)', () => {
  const lab = new DhcpLab();
  const events = new InMemoryLeaseEventSink();
  let dhcp: RunningDhcp | undefined;
  let relay: RelayAgent | undefined;

  beforeAll(async () => {
    DhcpLab.assertRoot();
    await lab.up();
    await Promise.all([
      lab.host('c1', 'A', '52:54:00:01:00:01'),
      lab.host('c2', 'A', '52:54:00:01:00:02'),
      lab.host('c3', 'A', '52:54:00:01:00:03'),
      lab.host('pxe', 'A', '52:54:00:01:00:04'),
      lab.host('ipxe', 'A', '52:54:00:01:00:05'),
      lab.host('r1', 'C', '52:54:00:03:00:01'),
      lab.host('r2', 'C', '52:54:00:03:00:02'),
    ]);
    // Sequential: both add to the same namespace.
    await lab.host('dual', 'A', '52:54:00:0d:00:01', 'eth0');
    await lab.host('dual', 'B', '52:54:00:0d:00:02', 'eth1');
    dhcp = await startDhcp({
      config: new InMemoryDhcpConfigSource(E2E_CONFIG),
      boot: new InMemoryBootDecisions(),
      events,
      log: pino({ level: 'error' }),
      warmUp: 0,
      leaseFile: `${lab.dir}/leases.journal`,
      listener: { netns: lab.netnsPath('srv') },
    });
    relay = new RelayAgent({ netns: lab.ns('rly'), downstream: { iface: 'r0', address: '10.77.3.1' }, server: '10.77.9.1' });
    await relay.start();
  }, 60_000);

  afterAll(async () => {
    try {
      await relay?.stop();
      await dhcp?.stop();
    } finally {
      await lab.down();
    }
  }, 60_000);

  it('dhclient, udhcpc and dhcpcd each get a lease on a directly attached subnet', async () => {
    const [a, b, c] = await Promise.all([lab.client('dhclient', 'c1'), lab.client('udhcpc', 'c2'), lab.client('dhcpcd', 'c3')]);
    for (const r of [a, b, c]) expect({ code: r.code, ip: r.ip }).toEqual({ code: 0, ip: expect.stringMatching(inRange(1)) });
    expect(new Set([a.ip, b.ip, c.ip]).size).toBe(3);
    expect(a.bound).toMatchObject({ event: 'BOUND', new_routers: '10.77.1.1', new_dhcp_server_identifier: '10.77.1.1', new_subnet_mask: '255.255.255.0' });
    expect(b.bound).toMatchObject({ event: 'bound', serverid: '10.77.1.1', router: '10.77.1.1', lease: '600' });
    // dhcpcd configured its interface with the address.
    expect(await lab.exec('c3', ['ip', '-4', 'addr', 'show', 'eth0'])).toContain(`${c.ip}/24`);
    for (const [mac, r] of [['52:54:00:01:00:01', a], ['52:54:00:01:00:02', b], ['52:54:00:01:00:03', c]] as const) {
      expect(events.ofType('ack', mac).at(-1)).toMatchObject({ ip: r.ip, interface: 's0', subnetId: 'A' });
      expect(events.ofType('offer', mac).length).toBeGreaterThan(0);
    }
  }, 60_000);

  it('serves two interfaces at once, each from its own subnet (one client with a NIC on each)', async () => {
    const [eth0, eth1] = await Promise.all([lab.client('dhclient', 'dual', { dev: 'eth0' }), lab.client('dhclient', 'dual', { dev: 'eth1' })]);
    expect(eth0.ip).toMatch(inRange(1));
    expect(eth1.ip).toMatch(inRange(2));
    expect(eth1.bound).toMatchObject({ new_dhcp_server_identifier: '10.77.2.1', new_routers: '10.77.2.1' });
    // The options DHCP snippets add (42 and 119), as dhclient decoded them.
    expect(eth1.bound).toMatchObject({ new_ntp_servers: '10.77.2.1', new_domain_search: 'lab.example. example.com.' });
    expect(eth0.bound).not.toHaveProperty('new_ntp_servers');
    expect(events.ofType('ack', '52:54:00:0d:00:01').at(-1)).toMatchObject({ interface: 's0', subnetId: 'A' });
    expect(events.ofType('ack', '52:54:00:0d:00:02').at(-1)).toMatchObject({ interface: 's1', subnetId: 'B' });
  }, 60_000);

  it('serves clients behind a relay from the giaddr subnet, answering the relay on port 67', async () => {
    const [u, d] = await Promise.all([lab.client('udhcpc', 'r1'), lab.client('dhclient', 'r2')]);
    expect(u.ip).toMatch(inRange(3));
    expect(d.ip).toMatch(inRange(3));
    expect(u.bound).toMatchObject({ serverid: '10.77.9.1', router: '10.77.3.1' });
    expect(events.ofType('ack', '52:54:00:03:00:01').at(-1)).toMatchObject({ relayAddress: '10.77.3.1', subnetId: 'C' });
    expect(relay!.forwardedReplies).toBeGreaterThanOrEqual(4);
    // Option 82 came back in every reply (RFC 3046 2.2).
    expect(relay!.repliesWithAgentInfo).toBe(relay!.forwardedReplies);
  }, 60_000);

  it('gives a BIOS PXE client lpxelinux.0 from the rack, and an iPXE client its script URL and 175.176', async () => {
    const [bios, ipxe] = await Promise.all([
      lab.client('udhcpc', 'pxe', { args: ['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000'] }),
      lab.client('udhcpc', 'ipxe', { args: ['-x', '0x5d:0007', '-x', '0x4d:69505845', '-O', '175'] }),
    ]);
    expect(bios.bound).toMatchObject({ boot_file: 'lpxelinux.0', siaddr: '10.77.1.1' });
    expect(ipxe.bound).toMatchObject({ boot_file: 'http://10.77.1.1:5248/ipxe.cfg', opt175: 'b00101' });
    expect(events.ofType('ack', '52:54:00:01:00:04').at(-1)).toMatchObject({ clientArch: 0, clientArchName: 'X86_BIOS', interface: 's0', bootFile: 'lpxelinux.0' });
    expect(events.ofType('offer', '52:54:00:01:00:05').at(-1)).toMatchObject({ clientArch: 7, userClass: ['iPXE'], bootFile: 'http://10.77.1.1:5248/ipxe.cfg' });
  }, 60_000);
});
