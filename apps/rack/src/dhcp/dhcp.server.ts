// The socket loop (STYLE habit 10): datagram in -> decode -> handler -> (journal) -> reply out.
// It never dies on bad input: oversized, malformed or unwanted datagrams, handler bugs, send
// errors and journal failures are counted per kind, logged once per kind with rate limiting
// (bad-input.log.ts), and the loop carries on with the next datagram.
//
// Group commit: an ACK whose lease record is not yet on disk waits in a batch; once the current
// batch of datagrams is handled (a microtask, so still in the same event-loop turn and without an
// extra wake-up) the store writes every pending record with one write(2), then the batch's ACKs
// are sent. If that write fails, the ACKs are not sent (the clients retry).
import { decodeDhcp4, encodeDhcp4, isMalformedPacketError, DhcpMessageType, Dhcp4Reply } from '@kiln/protocol';
import type { Logger } from 'pino';
import { RateLimitedLog } from './bad-input.log';
import { DhcpHandler, DropReason, HandlerResult, Ingress } from './dhcp.handler';
import { MAX_DATAGRAM } from './dhcp.limits';
import { DhcpListener } from './dhcp.listener';
import { LeaseEvent, LeaseEventSink } from './lease-events.port';
import { LeaseStore } from './lease.store';

export { MAX_DATAGRAM };
/** BOOTP header up to and including giaddr. */
const GIADDR_END = 28;

export interface DhcpServerDeps {
  listener: DhcpListener;
  handler: DhcpHandler;
  store: LeaseStore;
  events: LeaseEventSink;
  log: Logger;
  /** Expiry sweep period (ms). */
  sweepIntervalMs?: number;
  /** How often to check whether the journal needs compacting (ms). */
  compactCheckMs?: number;
  /** Interval between two log lines of the same bad-input kind (ms). */
  badInputLogIntervalMs?: number;
}

export interface DhcpServerStats {
  received: number;
  replies: { offer: number; ack: number; nak: number; inform: number };
  /** Requests handled without a reply, by reason (RELEASE/DECLINE count under 'no-reply'). */
  drops: Record<string, number>;
  /** Datagrams refused before the handler: 'malformed:<kind>', 'oversized', errors. */
  badInput: Record<string, number>;
  batches: number;
  /** Outstanding offers taken back because a subnet reached its bound (a DISCOVER flood, or a storm). */
  offersReclaimed: number;
}

const SILENT: ReadonlySet<DropReason> = new Set(['not-relayed', 'other-server', 'peer-address', 'duplicate-relayed']);
const REPLY_NAME: Record<number, 'offer' | 'ack' | 'nak'> = {
  [DhcpMessageType.OFFER]: 'offer',
  [DhcpMessageType.ACK]: 'ack',
  [DhcpMessageType.NAK]: 'nak',
};

interface Pending {
  buf: Buffer;
  reply: Dhcp4Reply;
  ingress: Ingress;
  events: LeaseEvent[];
}

export class DhcpServer {
  private readonly log: Logger;
  private readonly bad: RateLimitedLog;
  private readonly replies = { offer: 0, ack: 0, nak: 0, inform: 0 };
  private readonly drops: Record<string, number> = {};
  private received = 0;
  private offersReclaimed = 0;
  private batches = 0;
  private batch: Pending[] = [];
  private flushScheduled = false;
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private inflight = 0;

  constructor(private readonly deps: DhcpServerDeps) {
    this.log = deps.log;
    this.bad = new RateLimitedLog(deps.log, deps.badInputLogIntervalMs ?? 60_000);
  }

  async start(): Promise<void> {
    await this.deps.listener.start(
      (msg, from) => this.onDatagram(msg, from),
      (err, where) => this.bad.note('socket-error', 'error', () => ({ where, err: err.message }), 'dhcp socket error'),
    );
    this.running = true;
    const sweep = setInterval(() => this.sweep(), this.deps.sweepIntervalMs ?? 1000);
    const compact = setInterval(() => this.compact(), this.deps.compactCheckMs ?? 60_000);
    sweep.unref();
    compact.unref();
    this.timers.push(sweep, compact);
    this.log.info({ interfaces: this.deps.listener.interfaces }, 'dhcp server listening');
  }

  /** Stops receiving, sends what is pending, closes sockets and the lease journal. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.flush();
    await this.deps.listener.close();
    this.deps.store.close();
    this.log.info({ stats: this.stats() }, 'dhcp server stopped');
  }

  stats(): DhcpServerStats {
    return {
      received: this.received,
      replies: { ...this.replies },
      drops: { ...this.drops },
      badInput: this.bad.counts(),
      batches: this.batches,
      offersReclaimed: this.offersReclaimed,
    };
  }

  /** The socket callback. Public for in-memory listeners in tests. */
  onDatagram(msg: Buffer, from: Ingress): void {
    this.received++;
    if (!this.running) return;
    if (msg.length > MAX_DATAGRAM) {
      this.bad.note('oversized', 'warn', () => ({ bytes: msg.length, from: from.address, iface: from.iface }), 'dhcp datagram too large');
      return;
    }
    // The relay socket receives a copy of every broadcast on every interface; a request with
    // neither giaddr nor ciaddr there is for an interface socket. Skip it without decoding.
    if (from.iface === undefined && msg.length >= GIADDR_END && isZero(msg, 24) && isZero(msg, 12)) {
      this.count('not-relayed');
      return;
    }
    let pkt;
    try {
      pkt = decodeDhcp4(msg);
    } catch (err) {
      if (isMalformedPacketError(err)) {
        this.bad.note(`malformed:${err.kind}`, 'warn', () => ({ from: from.address, iface: from.iface, bytes: msg.length, err: err.message }), 'dhcp malformed datagram');
      } else {
        this.bad.note('decode-error', 'error', () => ({ err: String(err) }), 'dhcp decoder threw an unexpected error');
      }
      return;
    }
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.deps.handler.handle(pkt, from);
    } catch (err) {
      this.handlerError(err, pkt.chaddr, pkt.xid, from);
      return;
    }
    if (result instanceof Promise) {
      this.inflight++;
      result.then(
        (r) => {
          this.inflight--;
          if (this.running) this.finish(r, pkt.chaddr, pkt.xid, from);
        },
        (err) => {
          this.inflight--;
          this.handlerError(err, pkt.chaddr, pkt.xid, from);
        },
      );
      return;
    }
    this.finish(result, pkt.chaddr, pkt.xid, from);
  }

  private finish(r: HandlerResult, mac: string, xid: number, from: Ingress): void {
    if (r.reclaimedOffers !== undefined) {
      this.offersReclaimed += r.reclaimedOffers;
      this.bad.note(
        'offer-limit',
        'warn',
        () => ({ mac, iface: from.iface, subnet: r.subnetId, offersReclaimed: this.offersReclaimed }),
        'dhcp outstanding offers at their bound; oldest offers taken back',
      );
    }
    if (r.drop !== undefined) {
      this.count(r.drop);
      if (!SILENT.has(r.drop)) {
        this.bad.note(r.drop, r.drop === 'pool-exhausted' ? 'warn' : 'info', () => ({ mac, xid, iface: from.iface, from: from.address, subnet: r.subnetId }), 'dhcp request not answered');
      }
    }
    if (!r.reply) {
      if (r.drop === undefined) this.count('no-reply');
      this.publish(r.events);
      if (this.deps.store.hasPendingWrites) this.scheduleFlush();
      return;
    }
    let buf: Buffer;
    try {
      buf = encodeDhcp4(r.reply.packet);
    } catch (err) {
      this.bad.note('encode-error', 'error', () => ({ mac, xid, err: String(err) }), 'dhcp reply could not be encoded');
      return;
    }
    if (r.durable && this.deps.store.hasPendingWrites) {
      this.batch.push({ buf, reply: r.reply, ingress: from, events: r.events });
      this.scheduleFlush();
      return;
    }
    this.transmit(buf, r.reply, from, r.events);
  }

  private readonly flushFn = () => this.flush();

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushFn);
  }

  /** Group commit: one journal write for the turn's records, then the ACKs that waited for it. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = [];
    try {
      this.deps.store.flush();
    } catch (err) {
      this.bad.note('journal-error', 'error', () => ({ err: String(err), held: batch.length }), 'dhcp lease journal write failed; ACKs withheld');
      return;
    }
    if (batch.length === 0) return;
    this.batches++;
    for (const p of batch) this.transmit(p.buf, p.reply, p.ingress, p.events);
  }

  private transmit(buf: Buffer, reply: Dhcp4Reply, from: Ingress, events: LeaseEvent[]): void {
    try {
      this.deps.listener.send(buf, reply.destination, from);
    } catch (err) {
      this.bad.note('send-error', 'error', () => ({ to: reply.destination.address, err: String(err) }), 'dhcp reply could not be sent');
      return;
    }
    const p = reply.packet;
    const type = p.options.messageType!;
    const name = p.options.messageType === DhcpMessageType.ACK && p.yiaddr === '0.0.0.0' ? 'inform' : REPLY_NAME[type];
    this.replies[name]++;
    this.publish(events);
    if (this.log.isLevelEnabled('info')) {
      const log = this.log.child({ mac: p.chaddr, xid: p.xid, iface: from.iface ?? null });
      log.info(
        {
          type: name,
          yiaddr: p.yiaddr,
          giaddr: p.giaddr === '0.0.0.0' ? undefined : p.giaddr,
          to: reply.destination.address,
          bootFile: p.file || undefined,
          message: p.options.message,
        },
        'dhcp reply sent',
      );
    }
  }

  private publish(events: LeaseEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      try {
        this.deps.events.publish(events[i]);
      } catch (err) {
        this.bad.note('event-error', 'error', () => ({ err: String(err) }), 'lease event sink threw');
      }
    }
  }

  private sweep(): void {
    try {
      const events = this.deps.handler.sweep();
      for (const e of events) this.log.info({ mac: e.mac, ip: e.ip, subnet: e.subnetId }, 'dhcp lease expired');
      this.publish(events);
    } catch (err) {
      this.bad.note('sweep-error', 'error', () => ({ err: String(err) }), 'dhcp lease sweep failed');
    }
  }

  private compact(): void {
    try {
      const t0 = process.hrtime.bigint();
      if (this.deps.store.compactIfNeeded()) {
        this.log.info({ ms: Number(process.hrtime.bigint() - t0) / 1e6, ...this.deps.store.stats() }, 'dhcp lease journal compacted');
      }
    } catch (err) {
      this.bad.note('compact-error', 'error', () => ({ err: String(err) }), 'dhcp lease journal compaction failed');
    }
  }

  private handlerError(err: unknown, mac: string, xid: number, from: Ingress): void {
    this.bad.note('handler-error', 'error', () => ({ mac, xid, iface: from.iface, err: err instanceof Error ? err.stack : String(err) }), 'dhcp handler threw');
  }

  private count(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }
}

function isZero(b: Buffer, at: number): boolean {
  return b[at] === 0 && b[at + 1] === 0 && b[at + 2] === 0 && b[at + 3] === 0;
}
