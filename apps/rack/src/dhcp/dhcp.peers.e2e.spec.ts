// Two racks serving one VLAN (MAAS's primary and secondary rack), with real clients on the
// shared segment: each rack hands out only its half of the range, so no address is ever given
// to two machines, and a client that reboots keeps the address either rack gave it (the rack
// that did not give it stays silent instead of refusing it).
import pino from 'pino';
import { InMemoryBootDecisions } from '../boot/boot-decision.port';
import { DhcpConfig, InMemoryDhcpConfigSource } from './dhcp-config.port';
import { RunningDhcp, startDhcp } from './dhcp.runtime';
import { InMemoryLeaseEventSink } from './lease-events.port';
import { ClientRun, DhcpLab } from './testing/lab.harness';

const LOWER = { start: '10.77.1.100', end: '10.77.1.149' };
const UPPER = { start: '10.77.1.150', end: '10.77.1.199' };

function rackConfig(address: string, mine: typeof LOWER, peer: typeof LOWER): DhcpConfig {
  return {
    interfaces: [{ name: 's0', address }],
    subnets: [{ id: 'A', cidr: '10.77.1.0/24', interface: 's0', ranges: [mine], peerRanges: [peer], routers: ['10.77.1.1'] }],
  };
}

const lastOctet = (ip: string) => Number(ip.split('.')[3]);
const serverOf = (r: ClientRun) => r.bound?.new_dhcp_server_identifier ?? r.bound?.serverid;

describe('DHCP with a primary and a secondary rack on one segment (e2e, network namespaces)', () => {
  const lab = new DhcpLab();
  const primaryEvents = new InMemoryLeaseEventSink();
  const secondaryEvents = new InMemoryLeaseEventSink();
  let primary: RunningDhcp | undefined;
  let secondary: RunningDhcp | undefined;
  const hosts = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];

  beforeAll(async () => {
    DhcpLab.assertRoot();
    await lab.up();
    await lab.peer();
    await Promise.all(hosts.map((h, i) => lab.host(h, 'A', `52:54:00:0e:00:0${i + 1}`)));
    await lab.host('late', 'A', '52:54:00:0e:00:10');
    const start = (ns: string, config: DhcpConfig, events: InMemoryLeaseEventSink) =>
      startDhcp({
        config: new InMemoryDhcpConfigSource(config),
        boot: new InMemoryBootDecisions(),
        events,
        log: pino({ level: 'error' }),
        warmUp: 0,
        leaseFile: `${lab.dir}/${ns}.journal`,
        listener: { netns: lab.netnsPath(ns) },
      });
    primary = await start('srv', rackConfig('10.77.1.1', LOWER, UPPER), primaryEvents);
    secondary = await start('srv2', rackConfig('10.77.1.2', UPPER, LOWER), secondaryEvents);
  }, 60_000);

  afterAll(async () => {
    try {
      await primary?.stop();
      await secondary?.stop();
    } finally {
      await lab.down();
    }
  }, 60_000);

  it('gives every client a distinct address from the half of the rack that answered', async () => {
    const runs = await Promise.all(hosts.map((h, i) => lab.client(i % 2 ? 'udhcpc' : 'dhclient', h)));
    for (const r of runs) expect({ code: r.code, output: r.code ? r.output : "" }).toEqual({ code: 0, output: "" });
    const ips = runs.map((r) => r.ip!);
    expect(new Set(ips).size).toBe(hosts.length);
    for (const r of runs) {
      const octet = lastOctet(r.ip!);
      if (serverOf(r) === '10.77.1.1') expect(octet >= 100 && octet <= 149).toBe(true);
      else {
        expect(serverOf(r)).toBe('10.77.1.2');
        expect(octet >= 150 && octet <= 199).toBe(true);
      }
    }
    // Whatever each rack acknowledged lies in its own half.
    for (const e of primaryEvents.ofType('ack')) expect(lastOctet(e.ip!)).toBeLessThanOrEqual(149);
    for (const e of secondaryEvents.ofType('ack')) expect(lastOctet(e.ip!)).toBeGreaterThanOrEqual(150);
  }, 60_000);

  it('lets a rebooting client keep its address: the other rack does not NAK it', async () => {
    const out = `${lab.dir}/reboot-p1`;
    const first = await lab.client('dhclient', 'p1', { outDir: out });
    expect(first.code).toBe(0);
    lab.killDhclient(out);
    const naksBefore = primaryEvents.ofType('nak').length + secondaryEvents.ofType('nak').length;
    const again = await lab.client('dhclient', 'p1', { outDir: out });
    expect(again.code).toBe(0);
    expect(again.bound?.event).toBe('REBOOT');
    expect(again.ip).toBe(first.ip);
    expect(primaryEvents.ofType('nak').length + secondaryEvents.ofType('nak').length).toBe(naksBefore);
    lab.killDhclient(out);
  }, 60_000);

  it('keeps serving new clients from the secondary half when the primary rack is gone', async () => {
    await primary!.stop();
    primary = undefined;
    const r = await lab.client('udhcpc', 'late');
    expect(r.code).toBe(0);
    expect(serverOf(r)).toBe('10.77.1.2');
    expect(lastOctet(r.ip!)).toBeGreaterThanOrEqual(150);
  }, 60_000);
});
