// The real server loop on real UDP sockets (127.0.0.1, high ports), talking to it as a relay
// agent would: requests carry giaddr, replies come back to the relay's port.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeDhcp4, Dhcp4Packet, DhcpMessageType, encodeDhcp4 } from '@kiln/protocol';
import { pollUntil } from '@kiln/testing';
import { InMemoryBootDecisions } from '../boot/boot-decision.port';
import { DhcpConfig, InMemoryDhcpConfigSource } from './dhcp-config.port';
import { RunningDhcp, startDhcp } from './dhcp.runtime';
import { InMemoryLeaseEventSink } from './lease-events.port';
import { captureLog } from './testing/log.capture';
import { macOf, request } from './testing/packets.fixture';

const RELAY = '127.0.0.2';
const CONFIG: DhcpConfig = {
  interfaces: [],
  serverAddress: '127.0.0.1',
  subnets: [{ id: 'lo', cidr: '127.0.0.0/24', ranges: [{ start: '127.0.0.100', end: '127.0.0.199' }] }],
};

async function freePort(address: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('DhcpServer on loopback UDP (relay mode)', () => {
  let dir: string;
  let relay: dgram.Socket;
  let replies: Dhcp4Packet[];
  let serverPort: number;
  let relayPort: number;
  let running: RunningDhcp | undefined;
  let events: InMemoryLeaseEventSink;
  let logs: ReturnType<typeof captureLog>;

  async function start(): Promise<RunningDhcp> {
    events = new InMemoryLeaseEventSink();
    logs = captureLog();
    running = await startDhcp({
      config: new InMemoryDhcpConfigSource(CONFIG),
      boot: new InMemoryBootDecisions(),
      events,
      log: logs.log,
      warmUp: 0,
      leaseFile: path.join(dir, 'leases.journal'),
      listener: { address: '127.0.0.1', port: serverPort, portMap: { 67: relayPort } },
    });
    return running;
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dhcp-srv-'));
    serverPort = await freePort('127.0.0.1');
    relay = dgram.createSocket('udp4');
    await new Promise<void>((r) => relay.bind(0, RELAY, () => r()));
    relayPort = relay.address().port;
    replies = [];
    relay.on('message', (m) => replies.push(decodeDhcp4(m)));
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await new Promise<void>((r) => relay.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function send(pkt: Dhcp4Packet | Buffer): void {
    relay.send(Buffer.isBuffer(pkt) ? pkt : encodeDhcp4(pkt), serverPort, '127.0.0.1');
  }

  async function reply(xid: number, type: DhcpMessageType): Promise<Dhcp4Packet> {
    const found = await pollUntil(
      () => replies.find((r) => r.xid === xid && r.options.messageType === type),
      (r) => r !== undefined,
      { timeoutMs: 5000, what: `reply ${DhcpMessageType[type]} to xid ${xid}` },
    );
    return found!;
  }

  async function dora(mac: string, xid: number): Promise<string> {
    send(request(DhcpMessageType.DISCOVER, mac, { xid, giaddr: RELAY }));
    const offer = await reply(xid, DhcpMessageType.OFFER);
    send(request(DhcpMessageType.REQUEST, mac, { xid: xid + 1, giaddr: RELAY, options: { serverId: '127.0.0.1', requestedIp: offer.yiaddr } }));
    const ack = await reply(xid + 1, DhcpMessageType.ACK);
    return ack.yiaddr;
  }

  it('serves DORA to a relay, and the lease is in the journal before the ACK is sent', async () => {
    await start();
    let journalAtAck = '';
    relay.on('message', (m) => {
      if (decodeDhcp4(m).options.messageType === DhcpMessageType.ACK) journalAtAck = fs.readFileSync(path.join(dir, 'leases.journal'), 'utf8');
    });
    const ip = await dora(macOf(1), 100);
    expect(ip).toBe('127.0.0.100');
    expect(journalAtAck).toContain(`"m":"${macOf(1)}"`);
    expect(events.ofType('ack', macOf(1))[0]).toMatchObject({ ip, relayAddress: RELAY });
    const sent = logs.lines().filter((l) => l.msg === 'dhcp reply sent');
    expect(sent[0]).toMatchObject({ mac: macOf(1), xid: 100, type: 'offer', yiaddr: ip });
  });

  it('never dies on bad input: counts it per kind, logs each kind once, and keeps serving', async () => {
    const { server } = await start();
    const valid = encodeDhcp4(request(DhcpMessageType.DISCOVER, macOf(9), { giaddr: RELAY }));
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 600; i++) {
      const kind = i % 4;
      let buf: Buffer;
      if (kind === 0) buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 600) }, () => Math.floor(rnd() * 256)));
      else if (kind === 1) buf = valid.subarray(0, Math.floor(rnd() * 240));
      else if (kind === 2) {
        buf = Buffer.from(valid);
        buf[240 + Math.floor(rnd() * 10)] = Math.floor(rnd() * 256); // mangle the options
        buf[241] = 250; // an option length past the end
      } else buf = Buffer.alloc(9000, 1);
      send(buf);
    }
    await pollUntil(() => server.stats().received, (n) => n >= 600, { timeoutMs: 5000, what: 'garbage received' });
    expect(await dora(macOf(1), 200)).toBe('127.0.0.100');
    const bad = server.stats().badInput;
    expect(bad['malformed:truncated']).toBeGreaterThan(100);
    expect(bad['malformed:bad-option-length']).toBeGreaterThan(50);
    expect(bad.oversized).toBe(150);
    const warnLines = logs.lines().filter((l) => l.level === 40);
    const kinds = new Set(warnLines.map((l) => l.kind));
    expect(warnLines.length).toBe(kinds.size); // once per kind
  });

  it('keeps serving a real client through a flood of DISCOVERs from random MACs, counting and logging once the offers taken back', async () => {
    const r = await start();
    for (let i = 0; i < 2000; i++) send(request(DhcpMessageType.DISCOVER, macOf(100_000 + i), { xid: 10_000 + i, giaddr: RELAY }));
    expect(await dora(macOf(1), 400)).toMatch(/^127\.0\.0\.1\d\d$/);
    await pollUntil(() => r.server.stats().received, (n) => n >= 2002, { timeoutMs: 5000, what: 'flood received' });
    const stats = r.server.stats();
    expect(stats.offersReclaimed).toBeGreaterThan(1000);
    expect(r.store.offeredCount('lo')).toBeLessThanOrEqual(50);
    const lines = logs.lines().filter((l) => l.kind === 'offer-limit');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, subnet: 'lo' });
  });

  it('answers a relayed request once when two copies of it arrive', async () => {
    const r = await start();
    const pkt = request(DhcpMessageType.DISCOVER, macOf(5), { xid: 500, giaddr: RELAY });
    send(pkt);
    send(pkt);
    await reply(500, DhcpMessageType.OFFER);
    await pollUntil(() => r.server.stats().drops['duplicate-relayed'] ?? 0, (n) => n === 1, { timeoutMs: 5000, what: 'duplicate counted' });
    expect(replies.filter((p) => p.xid === 500)).toHaveLength(1);
  });

  it('re-acks the same address after a restart (journal replay)', async () => {
    await start();
    const ip = await dora(macOf(1), 300);
    await dora(macOf(2), 310);
    await running!.stop();
    running = undefined;
    replies = [];
    await start();
    // INIT-REBOOT: the client asks for its address without a server id.
    send(request(DhcpMessageType.REQUEST, macOf(1), { xid: 320, giaddr: RELAY, options: { requestedIp: ip } }));
    expect((await reply(320, DhcpMessageType.ACK)).yiaddr).toBe(ip);
    // A new client does not get it.
    expect(await dora(macOf(3), 330)).not.toBe(ip);
  });
});
