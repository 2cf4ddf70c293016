// The server under stress from outside: leases survive a server restart (the same address is
// re-acked to a real client), and a stream of random, truncated and mangled datagrams on the
// wire does not stop it serving a real client at the same time.
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import pino from 'pino';
import { DhcpMessageType, encodeDhcp4 } from '@kiln/protocol';
import { pollUntil } from '@kiln/testing';
import { InMemoryBootDecisions } from '../boot/boot-decision.port';
import { InMemoryDhcpConfigSource } from './dhcp-config.port';
import { RunningDhcp, startDhcp } from './dhcp.runtime';
import { InMemoryLeaseEventSink } from './lease-events.port';
import { loadKilnNet } from './native.addon';
import { E2E_CONFIG } from './testing/e2e.config';
import { DhcpLab } from './testing/lab.harness';
import { macOf, request } from './testing/packets.fixture';

describe('DHCP server resilience (e2e, network namespaces)', () => {
  const lab = new DhcpLab();
  let events = new InMemoryLeaseEventSink();
  let dhcp: RunningDhcp | undefined;
  const leaseFile = () => path.join(lab.dir, 'leases.journal');

  async function startServer(): Promise<RunningDhcp> {
    events = new InMemoryLeaseEventSink();
    dhcp = await startDhcp({
      config: new InMemoryDhcpConfigSource(E2E_CONFIG),
      boot: new InMemoryBootDecisions(),
      events,
      log: pino({ level: 'error' }),
      warmUp: 0,
      leaseFile: leaseFile(),
      listener: { netns: lab.netnsPath('srv') },
    });
    return dhcp;
  }

  beforeAll(async () => {
    DhcpLab.assertRoot();
    await lab.up();
    await Promise.all([
      lab.host('c1', 'A', '52:54:00:05:00:01'),
      lab.host('c2', 'A', '52:54:00:05:00:02'),
      lab.host('c3', 'A', '52:54:00:05:00:03'),
      lab.host('fz', 'A', '52:54:00:05:00:ff'),
    ]);
    await lab.exec('fz', ['ip', 'addr', 'add', '10.77.1.250/24', 'dev', 'eth0']);
    await startServer();
  }, 60_000);

  afterAll(async () => {
    try {
      await dhcp?.stop();
    } finally {
      await lab.down();
    }
  }, 60_000);

  it('re-acks the same address after a server restart (dhclient INIT-REBOOT; udhcpc from scratch)', async () => {
    const dhclientDir = path.join(lab.dir, 'c1-dhclient');
    const [first, udhcpcFirst] = await Promise.all([lab.client('dhclient', 'c1', { outDir: dhclientDir }), lab.client('udhcpc', 'c2')]);
    expect(first.ip).toMatch(/^10\.77\.1\./);
    expect(udhcpcFirst.ip).toMatch(/^10\.77\.1\./);

    await dhcp!.stop();
    lab.killDhclient(dhclientDir);
    await startServer();
    expect(dhcp!.store.stats().bound).toBe(2);

    // dhclient kept its lease file: it asks for its address back (INIT-REBOOT, no server id).
    const again = await lab.client('dhclient', 'c1', { outDir: dhclientDir });
    expect(again.bound).toMatchObject({ event: 'REBOOT', new_ip_address: first.ip });
    expect(events.ofType('ack', '52:54:00:05:00:01')).toEqual([expect.objectContaining({ ip: first.ip })]);
    expect(events.ofType('offer', '52:54:00:05:00:01')).toEqual([]); // no DISCOVER was needed
    // udhcpc remembers nothing: it DISCOVERs and is offered (and acked) the journalled address.
    const udhcpcAgain = await lab.client('udhcpc', 'c2');
    expect(udhcpcAgain.ip).toBe(udhcpcFirst.ip);
    lab.killDhclient(dhclientDir);
  }, 60_000);

  it('keeps serving a real client while random, truncated and mangled datagrams arrive', async () => {
    const net = loadKilnNet();
    const fd = net.openUdp4({ port: 0, device: 'eth0', netns: lab.netnsPath('fz'), broadcast: true });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind({ fd }, () => r()));
    const before = dhcp!.server.stats();
    const valid = encodeDhcp4(request(DhcpMessageType.DISCOVER, macOf(77), { broadcast: true }));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const garbage = (i: number): Buffer => {
      switch (i % 5) {
        case 0:
          return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 700) }, () => Math.floor(rnd() * 256)));
        case 1:
          return valid.subarray(0, Math.floor(rnd() * 260));
        case 2: {
          const b = Buffer.from(valid);
          for (let k = 0; k < 8; k++) b[240 + Math.floor(rnd() * (b.length - 240))] = Math.floor(rnd() * 256);
          return b;
        }
        case 3: {
          const b = Buffer.from(valid);
          b[0] = 2; // a BOOTREPLY aimed at the server
          return b;
        }
        default:
          return Buffer.alloc(5000 + Math.floor(rnd() * 3000), 0x63); // oversized
      }
    };
    const SENT = 3000;
    let stop = false;
    const fuzz = (async () => {
      for (let i = 0; i < SENT && !stop; i++) {
        // Half broadcast on the segment, half unicast to the rack's address.
        sock.send(garbage(i), 67, i % 2 ? '255.255.255.255' : '10.77.1.1');
        if (i % 50 === 49) await new Promise((r) => setImmediate(r));
      }
    })();
    const client = await lab.client('udhcpc', 'c3');
    stop = true;
    await fuzz;
    expect(client.ip).toMatch(/^10\.77\.1\.1\d\d$/);
    const stats = await pollUntil(
      () => dhcp!.server.stats(),
      (s) => (s.badInput['malformed:truncated'] ?? 0) > (before.badInput['malformed:truncated'] ?? 0) && (s.badInput.oversized ?? 0) > 0,
      { timeoutMs: 5000, what: 'bad input counted' },
    );
    expect(stats.drops['not-request']).toBeGreaterThan(0);
    // One lease in one transaction: under the flood udhcpc may resend its REQUEST before the first
    // ACK reaches it, and each copy of the same request is answered with the same address.
    const acks = events.ofType('ack', '52:54:00:05:00:03') as { xid: number; ip: string }[];
    expect(acks.length).toBeGreaterThanOrEqual(1);
    expect(new Set(acks.map((a) => `${a.xid} ${a.ip}`))).toEqual(new Set([`${acks[0].xid} ${client.ip}`]));
    // And afterwards, still serving.
    const after = await lab.client('dhclient', 'c1');
    expect(after.ip).toMatch(/^10\.77\.1\./);
    await new Promise<void>((r) => sock.close(() => r()));
  }, 60_000);

  async function fzSocket(): Promise<dgram.Socket> {
    const fd = loadKilnNet().openUdp4({ port: 0, device: 'eth0', netns: lab.netnsPath('fz'), broadcast: true });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind({ fd }, () => r()));
    return sock;
  }

  it('answers a broadcast DISCOVER with a spoofed giaddr once, and not at all when the giaddr is on a directly served subnet', async () => {
    const sock = await fzSocket();
    const before = dhcp!.server.stats();
    // giaddr on the relayed subnet C: the broadcast reaches the s0 socket and the relay socket.
    sock.send(encodeDhcp4(request(DhcpMessageType.DISCOVER, macOf(91), { xid: 9101, giaddr: '10.77.3.1' })), 67, '255.255.255.255');
    // giaddr on subnet A, which the rack serves on s0.
    sock.send(encodeDhcp4(request(DhcpMessageType.DISCOVER, macOf(92), { xid: 9201, giaddr: '10.77.1.250' })), 67, '255.255.255.255');
    await pollUntil(
      () => dhcp!.server.stats(),
      (st) => (st.drops['duplicate-relayed'] ?? 0) > (before.drops['duplicate-relayed'] ?? 0) && (st.drops['relay-on-attached-subnet'] ?? 0) >= (before.drops['relay-on-attached-subnet'] ?? 0) + 2,
      { timeoutMs: 5000, what: 'both copies of each handled' },
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(events.ofType('offer', macOf(91))).toHaveLength(1);
    expect(events.ofType('offer', macOf(91))[0]).toMatchObject({ relayAddress: '10.77.3.1', subnetId: 'C' });
    expect(events.ofType('offer', macOf(92))).toHaveLength(0);
    await new Promise<void>((r) => sock.close(() => r()));
  }, 30_000);

  it('a flood of DISCOVERs from random MACs holds at most the offer bound; real clients get leases during and after it', async () => {
    const sock = await fzSocket();
    const before = dhcp!.server.stats();
    let stop = false;
    const flood = (async () => {
      for (let i = 0; i < 20_000 && !stop; i++) {
        sock.send(encodeDhcp4(request(DhcpMessageType.DISCOVER, macOf(500_000 + i), { xid: i, broadcast: true })), 67, '255.255.255.255');
        if (i % 50 === 49) await new Promise((r) => setImmediate(r));
      }
    })();
    const during = await lab.client('udhcpc', 'c2');
    await flood;
    stop = true;
    expect(during.ip).toMatch(/^10\.77\.1\.1\d\d$/);
    const stats = await pollUntil(
      () => dhcp!.server.stats(),
      (st) => st.offersReclaimed - before.offersReclaimed > 1000,
      { timeoutMs: 10_000, what: 'offers taken back at the bound' },
    );
    expect(stats.offersReclaimed).toBeGreaterThan(1000);
    // Subnet A has 100 dynamic addresses: at most 50 are held by offers, the rest stay free.
    expect(dhcp!.store.offeredCount('A')).toBeLessThanOrEqual(50);
    const after = await lab.client('dhclient', 'c1');
    expect(after.ip).toMatch(/^10\.77\.1\.1\d\d$/);
    expect(after.ip).not.toBe(during.ip);
    await new Promise<void>((r) => sock.close(() => r()));
  }, 90_000);
});
