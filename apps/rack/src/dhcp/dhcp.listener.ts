// The server's sockets. Node's dgram cannot tell which interface a datagram came in on, and a
// DHCP server must know it: a DISCOVER from 0.0.0.0 carries nothing else that says which subnet
// the client is on. So the listener opens one UDP socket per served interface, bound to that
// interface with SO_BINDTODEVICE through the kiln_net N-API addon, and hands the descriptor to
// dgram (`bind({ fd })`), which keeps libuv's event loop for I/O. Every datagram a device socket
// delivers came in on that interface; every broadcast it sends leaves through it, with that
// interface's address as source (SO_BROADCAST is set).
//
// With the addon the sockets do batched I/O: a libuv poll handle on Node's loop drains each socket
// with recvmmsg(2) into a reused slab and hands the server one batch per wake-up; replies queue
// and leave with one sendmmsg(2) per batch (flushed in a microtask, so everything one batch or
// one group commit produces goes out together). Without the addon (relay-only setups, tests on
// loopback) plain dgram sockets are used.
//
// The set of interfaces follows the configuration: when the region turns DHCP on for a VLAN the
// rack has an interface on (or off), `setInterfaces` opens (or closes) that interface's socket
// while the others keep serving.
//
// One more socket, bound to no device, takes what arrives elsewhere: requests from relay agents
// (unicast to port 67 with giaddr set) on any interface, and unicast renewals from relayed
// clients. Replies to relays leave through it so the routing table picks the way. The kernel
// also gives it a copy of every broadcast; the server drops those unread (see dhcp.server.ts).
import * as dgram from 'node:dgram';
import { Dhcp4Destination } from '@kiln/protocol';
import { Ingress } from './dhcp.handler';
import { intToIp, ipToInt } from './ipv4.util';
import { KilnNet, loadKilnNet } from './native.addon';
import { MAX_DATAGRAM } from './dhcp.limits';

export interface DhcpListener {
  start(onDatagram: (msg: Buffer, from: Ingress) => void, onError: (err: Error, where: string) => void): Promise<void>;
  /** Sends a reply: broadcasts and client unicasts through the request's socket, relay replies through the relay socket. */
  send(buf: Buffer, to: Dhcp4Destination, via: Ingress): void;
  close(): Promise<void>;
  /**
   * Serves exactly these interfaces from now on: opens a socket for each new one, closes those of
   * the ones left out. An interface whose socket cannot be opened (e.g. it does not exist) is left
   * out, the others are served, and the promise rejects naming it.
   */
  setInterfaces(interfaces: readonly string[]): Promise<void>;
  /** Interfaces with a socket of their own. */
  readonly interfaces: readonly string[];
}

export interface UdpListenerOptions {
  /** Interfaces to serve directly attached clients on at start (one SO_BINDTODEVICE socket each). */
  interfaces: readonly string[];
  /** Open the unbound socket for relays (default true). */
  relaySocket?: boolean;
  /** Server port (67). */
  port?: number;
  /** Address the sockets bind (0.0.0.0; tests on loopback use 127.0.0.1 without interfaces). */
  address?: string;
  /** Socket receive buffer; the kernel caps it at net.core.rmem_max. Default 4 MiB. */
  rcvbuf?: number;
  /** Create the sockets in this network namespace (path); for in-process tests. */
  netns?: string;
  /** Rewrite destination ports (tests on unprivileged ports): { 67: 16767, 68: 16768 }. */
  portMap?: Record<number, number>;
}

/** One socket, either a dgram socket or a kiln_net batch socket. */
interface Endpoint {
  send(buf: Buffer, port: number, address: string): void;
  close(): Promise<void>;
}

interface Receivers {
  onDatagram: (msg: Buffer, from: Ingress) => void;
  onError: (err: Error, where: string) => void;
}

export class UdpListener implements DhcpListener {
  private readonly device = new Map<string, Endpoint>();
  private relay: Endpoint | undefined;
  private readonly portMap: Record<number, number>;
  private receivers: Receivers | undefined;
  private closed = false;

  constructor(private readonly opts: UdpListenerOptions) {
    this.portMap = opts.portMap ?? {};
  }

  get interfaces(): readonly string[] {
    return this.receivers ? [...this.device.keys()] : this.opts.interfaces;
  }

  private openDevice(net: KilnNet, iface: string, r: Receivers): void {
    const fd = net.openUdp4({
      address: this.opts.address ?? '0.0.0.0',
      port: this.opts.port ?? 67,
      device: iface,
      netns: this.opts.netns,
      broadcast: true,
      reuseAddr: true,
      rcvbuf: this.opts.rcvbuf ?? 4 << 20,
    });
    this.device.set(iface, new BatchSocket(net, fd, iface, r.onDatagram, (err) => r.onError(err, iface)));
  }

  async start(onDatagram: (msg: Buffer, from: Ingress) => void, onError: (err: Error, where: string) => void): Promise<void> {
    const port = this.opts.port ?? 67;
    const address = this.opts.address ?? '0.0.0.0';
    const rcvbuf = this.opts.rcvbuf ?? 4 << 20;
    const needNative = this.opts.interfaces.length > 0 || this.opts.netns !== undefined;
    const net: KilnNet | undefined = needNative ? loadKilnNet() : undefined;
    const receivers = { onDatagram, onError };
    // An interface that cannot be opened (gone, renamed) is reported and left out: the others are
    // served, and the runtime tries it again at the next configuration change.
    const failed: string[] = [];
    try {
      for (const iface of this.opts.interfaces) {
        try {
          this.openDevice(net!, iface, receivers);
        } catch (err) {
          failed.push(`${iface} (${(err as Error).message})`);
        }
      }
      if (this.opts.relaySocket ?? true) {
        if (net) {
          const fd = net.openUdp4({ address, port, netns: this.opts.netns, broadcast: true, reuseAddr: true, rcvbuf });
          this.relay = new BatchSocket(net, fd, undefined, onDatagram, (err) => onError(err, 'relay'));
        } else {
          this.relay = await DgramSocket.open(port, address, rcvbuf, onDatagram, (err) => onError(err, 'relay'));
        }
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    this.receivers = receivers;
    if (failed.length) onError(new Error(`cannot serve DHCP on ${failed.join(', ')}`), 'start');
  }

  async setInterfaces(interfaces: readonly string[]): Promise<void> {
    const r = this.receivers;
    if (!r || this.closed) throw new Error('the DHCP listener is not running');
    const wanted = new Set(interfaces);
    const gone = [...this.device].filter(([iface]) => !wanted.has(iface));
    for (const [iface] of gone) this.device.delete(iface);
    await Promise.all(gone.map(([, sock]) => sock.close()));
    const failed: string[] = [];
    for (const iface of wanted) {
      if (this.device.has(iface)) continue;
      try {
        this.openDevice(loadKilnNet(), iface, r);
      } catch (err) {
        failed.push(`${iface} (${(err as Error).message})`);
      }
    }
    if (failed.length) throw new Error(`cannot serve DHCP on ${failed.join(', ')}`);
  }

  send(buf: Buffer, to: Dhcp4Destination, via: Ingress): void {
    const port = this.portMap[to.port] ?? to.port;
    let sock: Endpoint | undefined;
    if (!to.broadcast && to.port === 67 && this.relay) sock = this.relay;
    else sock = via.iface !== undefined ? this.device.get(via.iface) : this.relay;
    if (!sock) throw new Error(`no socket to send a reply to ${to.address}:${to.port}`);
    sock.send(buf, port, to.address);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.device.values()];
    if (this.relay) all.push(this.relay);
    this.device.clear();
    this.relay = undefined;
    await Promise.all(all.map((s) => s.close()));
  }
}

const SLOTS = 64;
/** One slot per datagram; a longer datagram is reported as cut (length SLOT + 1). */
const SLOT = MAX_DATAGRAM;
const MAX_QUEUE = 64;

/** A kiln_net socket: recvmmsg batches in, sendmmsg batches out. */
class BatchSocket implements Endpoint {
  // One spare slot at the end, so a cut datagram's view (SLOT + 1 bytes) stays inside the slab.
  private readonly slab = Buffer.allocUnsafeSlow((SLOTS + 1) * SLOT);
  private readonly meta = new Int32Array(SLOTS * 3);
  private readonly receiver: unknown;
  private queue: Buffer[] = [];
  private readonly qAddr = new Uint32Array(MAX_QUEUE);
  private readonly qPort = new Uint16Array(MAX_QUEUE);
  private flushQueued = false;
  private closed = false;
  private readonly flushFn = () => this.flush();

  constructor(
    private readonly net: KilnNet,
    private readonly fd: number,
    iface: string | undefined,
    onDatagram: (msg: Buffer, from: Ingress) => void,
    private readonly onError: (err: Error) => void,
  ) {
    const { slab, meta } = this;
    this.receiver = net.startReceiver(fd, slab.subarray(0, SLOTS * SLOT), meta, SLOT, (count) => {
      if (count < 0) {
        onError(new Error(`recvmmsg failed: errno ${-count}`));
        return;
      }
      for (let i = 0; i < count; i++) {
        const off = i * SLOT;
        onDatagram(slab.subarray(off, off + meta[3 * i]), { iface, address: intToIp(meta[3 * i + 1] >>> 0), port: meta[3 * i + 2] });
      }
    });
  }

  send(buf: Buffer, port: number, address: string): void {
    if (this.closed) return;
    const n = this.queue.length;
    this.queue.push(buf);
    this.qAddr[n] = ipToInt(address) >>> 0;
    this.qPort[n] = port;
    if (n + 1 >= MAX_QUEUE) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushFn);
    }
  }

  private flush(): void {
    this.flushQueued = false;
    const q = this.queue;
    if (q.length === 0 || this.closed) return;
    this.queue = [];
    const sent = this.net.sendBatch(this.fd, q, this.qAddr, this.qPort, q.length);
    if (sent < q.length) {
      this.onError(new Error(sent < 0 ? `sendmmsg failed: errno ${-sent}` : `sendmmsg: ${q.length - sent} of ${q.length} replies not sent`));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.net.stopReceiver(this.receiver);
    this.net.closeFd(this.fd);
  }
}

/** A plain dgram socket (no addon): for relay-only service and loopback tests. */
class DgramSocket implements Endpoint {
  private constructor(private readonly sock: dgram.Socket) {}

  static async open(
    port: number,
    address: string,
    rcvbuf: number,
    onDatagram: (msg: Buffer, from: Ingress) => void,
    onError: (err: Error) => void,
  ): Promise<DgramSocket> {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: rcvbuf });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ port, address, exclusive: true }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.setBroadcast(true);
    sock.on('message', (msg, rinfo) => onDatagram(msg, { address: rinfo.address, port: rinfo.port }));
    sock.on('error', onError);
    return new DgramSocket(sock);
  }

  send(buf: Buffer, port: number, address: string): void {
    this.sock.send(buf, port, address);
  }

  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}
