// JIT warm-up. A freshly started Node process runs its first few thousand exchanges in the
// interpreter and baseline tiers, several times slower than optimised code; a rack that starts
// (or restarts) in the middle of a boot storm would then fall behind for a second and answer
// the backlog in a burst that relays and clients may not absorb (the benchmark saw exactly that:
// every lost reply was in the first second). So before opening its sockets the server runs a few
// thousand synthetic DORAs through the same code (codec, handler, lease store, server loop,
// logging) against a scratch journal and a null log. Nothing of it reaches the real store, log,
// events or network.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { BootOp, ClientArch, Dhcp4Destination, Dhcp4Packet, DhcpMessageType, encodeDhcp4, decodeDhcp4 } from '@kiln/protocol';
import { BootDecisionSource, defaultBootDecision } from '../boot/boot-decision.port';
import { DhcpConfig } from './dhcp-config.port';
import { DhcpHandler, Ingress } from './dhcp.handler';
import { DhcpListener } from './dhcp.listener';
import { DhcpServer, DhcpServerStats } from './dhcp.server';
import { CountingLeaseEventSink } from './lease-events.port';
import { LeaseStore } from './lease.store';

const CONFIG: DhcpConfig = {
  interfaces: [{ name: 'warm0', address: '10.254.0.1' }],
  subnets: [
    {
      id: 'warm-up',
      cidr: '10.254.0.0/16',
      interface: 'warm0',
      ranges: [{ start: '10.254.1.0', end: '10.254.255.254' }],
      routers: ['10.254.0.1'],
      dnsServers: ['10.254.0.1'],
    },
    // Served through relays: relayed requests are answered only for such subnets.
    { id: 'warm-up-relayed', cidr: '10.253.0.0/16', ranges: [{ start: '10.253.1.0', end: '10.253.255.254' }], routers: ['10.253.0.1'] },
  ],
  serverAddress: '10.254.0.1',
};

class ScratchListener implements DhcpListener {
  readonly interfaces = ['warm0'];
  offers: Dhcp4Packet[] = [];
  onDatagram: (msg: Buffer, from: Ingress) => void = () => undefined;
  async start(onDatagram: (msg: Buffer, from: Ingress) => void): Promise<void> {
    this.onDatagram = onDatagram;
  }
  send(buf: Buffer, _to: Dhcp4Destination): void {
    const p = decodeDhcp4(buf);
    if (p.options.messageType === DhcpMessageType.OFFER) this.offers.push(p);
  }
  async close(): Promise<void> {}
  async setInterfaces(): Promise<void> {}
}

function packet(type: DhcpMessageType, n: number, relayed: boolean, options: Dhcp4Packet['options']): Buffer {
  const h = (v: number) => (v & 255).toString(16).padStart(2, '0');
  return encodeDhcp4({
    op: BootOp.REQUEST,
    htype: 1,
    hlen: 6,
    hops: relayed ? 1 : 0,
    xid: n,
    secs: 0,
    flags: { broadcast: false },
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: relayed ? '10.253.0.2' : '0.0.0.0',
    chaddr: `02:fe:00:${h(n >> 16)}:${h(n >> 8)}:${h(n)}`,
    sname: '',
    file: '',
    options: { messageType: type, clientId: Uint8Array.of(1, 2, 0xfe, 0, n >> 16, n >> 8, n & 255), ...options },
  });
}

/** Runs `exchanges` synthetic DORAs through a scratch server; returns the milliseconds it took. */
export async function warmUpDhcp(exchanges: number, onStats?: (stats: DhcpServerStats) => void): Promise<number> {
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dhcp-warmup-'));
  const store = LeaseStore.open({ file: path.join(dir, 'leases.journal'), fsync: 'never' }, DhcpHandler.poolSpecs(CONFIG));
  const boot: BootDecisionSource = { decide: (r) => defaultBootDecision(r) };
  const handler = new DhcpHandler({ ...CONFIG, perMacBurst: 1e9, perMacPerSecond: 1e9 }, { store, boot });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const listener = new ScratchListener();
  const server = new DhcpServer({ listener, handler, store, events: new CountingLeaseEventSink(), log: pino({ level: 'info' }, sink) });
  try {
    await server.start();
    const batch = 32;
    for (let i = 0; i < exchanges; i += batch) {
      const end = Math.min(exchanges, i + batch);
      for (let n = i; n < end; n++) {
        const netboot = n % 8 === 0 ? { clientArch: [n % 16 === 0 ? ClientArch.X86_BIOS : ClientArch.EFI_X86_64_BC] } : {};
        listener.onDatagram(packet(DhcpMessageType.DISCOVER, n, n % 2 === 0, netboot), { iface: 'warm0', address: '10.254.0.2', port: 67 });
      }
      const offers = listener.offers;
      listener.offers = [];
      for (const o of offers) {
        const req = packet(DhcpMessageType.REQUEST, o.xid, o.giaddr !== '0.0.0.0', { serverId: '10.254.0.1', requestedIp: o.yiaddr });
        listener.onDatagram(req, { iface: 'warm0', address: '10.254.0.2', port: 67 });
      }
      await new Promise((r) => setImmediate(r));
    }
    onStats?.(server.stats());
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return Date.now() - t0;
}
