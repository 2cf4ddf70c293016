// The TFTP socket loop (STYLE habit 10: Server(listener, handler(source))). The listen socket
// only takes requests; each accepted read gets its own ephemeral socket (the server's TID,
// RFC 1350 4) and a TftpTransfer. Bad input never stops the loop: it is counted per kind, logged
// once per kind per interval, and answered with a TFTP ERROR only where the RFC asks for one and
// within a rate limit (an ERROR to a forged source is a reflection).
import { createSocket, RemoteInfo, Socket, SocketType } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import {
  blksizeForMtu,
  decodeTftp,
  encodeTftp,
  isMalformedPacketError,
  TftpErrorCode,
  TftpOpcode,
  TftpPacket,
  TftpRequestPacket,
} from '@kiln/protocol';
import { BadInputLog, TokenBucket } from './bad-input.limiter';
import type { BootClient, BootFileSource } from './boot-files.port';
import { InlineTransferRunner, RunningTransfer, TransferRunner, WorkerTransferRunner } from './tftp-transfer.runner';
import { releasePayload, TftpAccepted, TftpHandler, TftpRefused } from './tftp.handler';
import type { TransferEvents } from './transfer-events.port';

export interface TftpServerConfig {
  /** Address to listen on. Bind one server per rack interface address in production, so replies
   * leave from the address the client asked (Node cannot read the destination of a datagram). */
  address: string;
  /** 69 in production; 0 picks a free port (tests). */
  port: number;
  /** Absolute path of the TFTP root. */
  root: string;
  /** Default: 1468 (a 1500-byte MTU). */
  maxBlksize?: number;
  /** Largest windowsize granted (RFC 7440). Default 64. */
  maxWindowsize?: number;
  /** Retransmission timeout when the client did not negotiate one. Default 1000 ms. */
  retransmitMs?: number;
  /** Retransmissions of one window before the transfer is abandoned. Default 5. */
  maxRetries?: number;
  /** Concurrent transfers; requests beyond get ERROR 0 "busy" (boot-storm throttle). Default 2000. */
  maxTransfers?: number;
  /** SO_RCVBUF of the listen socket (a boot storm's RRQs arrive at once). Default 4 MiB. */
  recvBufferSize?: number;
  /** Bytes per disk read for static files. Default 64 KiB. */
  readChunkSize?: number;
  /** ERROR replies to malformed requests, per second. Default 50. */
  errorRepliesPerSecond?: number;
  /** Minimum interval between two log lines about the same kind of bad input. Default 60 s. */
  badInputLogIntervalMs?: number;
  /**
   * Worker threads that run transfers (0: all on the main thread). Default: the number of CPUs,
   * at most 4, and 0 on a single CPU.
   */
  workers?: number;
}

export interface TftpServerDeps {
  bootFiles: BootFileSource;
  events: TransferEvents;
  log: Logger;
}

export interface TftpServerStats {
  active: number;
  served: number;
  failed: number;
  bytesServed: number;
  /** Bad input, per kind (malformed:<kind>, transfer-malformed:<kind>, oversized, ...). */
  badInput: Record<string, number>;
  /** Requests retransmitted by a client whose transfer was already starting. */
  duplicateRequests: number;
}

/** RFC 1350 requests fit in one 512-byte datagram; allow some room for options. */
const MAX_REQUEST_BYTES = 1024;

function socketTypeFor(address: string): SocketType {
  return isIPv6(address) ? 'udp6' : 'udp4';
}

export class TftpServer {
  private socket: Socket | undefined;
  private readonly handler: TftpHandler;
  private readonly badInput: BadInputLog;
  private readonly errorReplies: TokenBucket;
  private readonly log: Logger;
  /** Transfers by client "address:port", including those still being opened. */
  private readonly transfers = new Map<string, RunningTransfer | 'opening'>();
  private runner: TransferRunner | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private closing = false;
  private readonly counters = { served: 0, failed: 0, bytesServed: 0, duplicateRequests: 0 };
  private readonly cfg: Required<Omit<TftpServerConfig, 'readChunkSize'>> & { readChunkSize?: number };

  private static defaultWorkers(): number {
    const cpus = availableParallelism();
    return cpus <= 1 ? 0 : Math.min(4, cpus);
  }

  constructor(
    config: TftpServerConfig,
    private readonly deps: TftpServerDeps,
  ) {
    this.cfg = {
      maxBlksize: blksizeForMtu(1500),
      maxWindowsize: 64,
      retransmitMs: 1000,
      maxRetries: 5,
      maxTransfers: 2000,
      recvBufferSize: 4 << 20,
      errorRepliesPerSecond: 50,
      badInputLogIntervalMs: 60_000,
      workers: TftpServer.defaultWorkers(),
      ...config,
    };
    this.log = deps.log.child({ component: 'tftp' });
    this.handler = new TftpHandler(
      {
        root: config.root,
        maxBlksize: this.cfg.maxBlksize,
        maxWindowsize: this.cfg.maxWindowsize,
        readChunkSize: config.readChunkSize,
      },
      deps.bootFiles,
    );
    this.badInput = new BadInputLog(this.log, { intervalMs: this.cfg.badInputLogIntervalMs });
    this.errorReplies = new TokenBucket(this.cfg.errorRepliesPerSecond, this.cfg.errorRepliesPerSecond);
  }

  /** Binds the listen socket. Resolves with the bound address and port. */
  async listen(): Promise<{ address: string; port: number }> {
    await this.handler.init();
    if (this.cfg.workers > 0) {
      const pool = new WorkerTransferRunner(this.cfg.workers, this.log);
      this.runner = pool;
      await pool.ready();
    } else this.runner = new InlineTransferRunner();
    const socket = createSocket({ type: socketTypeFor(this.cfg.address), recvBufferSize: this.cfg.recvBufferSize });
    socket.on('message', (msg, rinfo) => this.onRequestDatagram(msg, rinfo));
    socket.on('error', (e) => this.log.error({ err: e }, 'tftp listen socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.cfg.address, port: this.cfg.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    const a = socket.address();
    this.log.info({ address: a.address, port: a.port, root: this.cfg.root, workers: this.cfg.workers }, 'tftp server listening');
    return { address: a.address, port: a.port };
  }

  /** Stops listening, aborts transfers in progress, and waits for them to end. */
  async close(): Promise<void> {
    this.closing = true;
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    for (const t of this.transfers.values()) if (t !== 'opening') t.abort('server shutting down');
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.runner?.close();
    this.runner = undefined;
  }

  stats(): TftpServerStats {
    let active = 0;
    for (const t of this.transfers.values()) if (t !== 'opening') active++;
    return { active, ...this.counters, badInput: this.badInput.snapshot() };
  }

  private onRequestDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    const client = { address: rinfo.address, port: rinfo.port };
    if (msg.length > MAX_REQUEST_BYTES) {
      this.badInput.note('oversized', { client: `${client.address}:${client.port}`, bytes: msg.length });
      return;
    }
    let pkt: TftpPacket;
    try {
      pkt = decodeTftp(msg);
    } catch (e) {
      if (!isMalformedPacketError(e)) {
        // The codec promises MalformedPacketError only (it is fuzzed for that); if it ever throws
        // something else, the loop still must not die.
        this.badInput.note('decoder-bug', { client: `${client.address}:${client.port}`, err: e }, 'tftp decoder threw an unexpected error');
        return;
      }
      this.badInput.note(`malformed:${e.kind}`, { client: `${client.address}:${client.port}`, error: e.message });
      // Something that meant to be a request gets told why (RFC 1350 5); other garbage is dropped.
      const opcode = msg.length >= 2 ? msg.readUInt16BE(0) : 0;
      if (opcode === TftpOpcode.RRQ || opcode === TftpOpcode.WRQ) {
        this.replyError(client, TftpErrorCode.ILLEGAL_OPERATION, `Malformed request: ${e.kind}`, true);
      }
      return;
    }
    switch (pkt.opcode) {
      case TftpOpcode.RRQ:
      case TftpOpcode.WRQ:
        this.onRequest(pkt, client);
        return;
      case TftpOpcode.ERROR:
        // Never answer an ERROR with an ERROR (RFC 1350 7).
        this.badInput.note('unexpected:error', { client: `${client.address}:${client.port}`, code: pkt.code });
        return;
      default:
        // DATA, ACK or OACK to the listen port: no transfer has this TID.
        this.badInput.note(`unexpected:${TftpOpcode[pkt.opcode].toLowerCase()}`, { client: `${client.address}:${client.port}` });
        this.replyError(client, TftpErrorCode.UNKNOWN_TID, 'Unknown transfer ID', true);
    }
  }

  private replyError(client: BootClient, code: TftpErrorCode, message: string, limited: boolean): void {
    const s = this.socket;
    if (!s || (limited && !this.errorReplies.take())) return;
    s.send(encodeTftp({ opcode: TftpOpcode.ERROR, code, message }), client.port, client.address);
  }

  private onRequest(req: TftpRequestPacket, client: BootClient): void {
    const key = `${client.address}:${client.port}`;
    if (this.transfers.has(key)) {
      // The client retransmitted its request before our first answer reached it; the transfer
      // already under way answers it (a second TID would confuse the client).
      this.counters.duplicateRequests++;
      return;
    }
    if (this.closing) return;
    const startedAt = Date.now();
    if (this.transfers.size >= this.cfg.maxTransfers) {
      this.replyError(client, TftpErrorCode.NOT_DEFINED, 'Server busy, try again', false);
      this.reportFailure(req, client, startedAt, { reason: 'busy', message: 'too many transfers in progress' });
      return;
    }
    this.transfers.set(key, 'opening');
    const work = this.serve(req, client, key, startedAt)
      .catch((e: unknown) => this.log.error({ err: e, client: key, file: req.filename }, 'tftp transfer crashed'))
      .finally(() => {
        this.transfers.delete(key);
        this.pending.delete(work);
      });
    this.pending.add(work);
  }

  private async serve(req: TftpRequestPacket, client: BootClient, key: string, startedAt: number): Promise<void> {
    const decision = await this.handler.handle(req, client);
    if (!decision.ok) {
      this.refuse(req, client, startedAt, decision);
      return;
    }
    const runner = this.runner;
    if (this.closing || !runner) {
      await releasePayload(decision.payload);
      return;
    }
    const log = this.log.child({
      client: key,
      file: decision.path,
      ...(decision.mac ? { mac: decision.mac } : {}),
      ...(decision.systemId ? { systemId: decision.systemId } : {}),
    });
    const n = decision.negotiation;
    const running = runner.start({
      client,
      bindAddress: this.cfg.address,
      negotiation: n,
      payload: decision.payload,
      // RFC 2349: the negotiated timeout is the client's, in seconds.
      timeoutMs: n.timeout !== undefined ? n.timeout * 1000 : this.cfg.retransmitMs,
      maxRetries: this.cfg.maxRetries,
      log,
      badInput: this.badInput,
    });
    this.transfers.set(key, running);
    log.debug({ blksize: n.blksize, windowsize: n.windowsize, tsize: n.tsize, mode: req.mode }, 'tftp transfer started');
    const o = await running.outcome;
    const tftp = { blksize: n.blksize, windowsize: n.windowsize, retransmits: o.retransmits, mode: req.mode };
    if (o.ok) {
      this.counters.served++;
      this.counters.bytesServed += o.bytes;
      log.info({ bytes: o.bytes, durationMs: o.durationMs, ...tftp }, 'tftp file served');
      this.deps.events.served({
        protocol: 'tftp',
        file: req.filename,
        client,
        mac: decision.mac,
        systemId: decision.systemId,
        startedAt,
        durationMs: o.durationMs,
        bytes: o.bytes,
        source: decision.source,
        size: decision.size ?? o.bytes,
        tftp,
      });
      return;
    }
    const level = o.reason === 'aborted' && o.clientErrorCode !== undefined ? 'info' : 'warn';
    log[level]({ reason: o.reason, message: o.message, bytes: o.bytes, durationMs: o.durationMs, ...tftp }, 'tftp transfer failed');
    this.reportFailure(req, client, startedAt, {
      reason: o.reason ?? 'aborted',
      message: o.message ?? 'transfer failed',
      decision,
      bytes: o.bytes,
      durationMs: o.durationMs,
      tftp: { errorCode: o.clientErrorCode, blksize: n.blksize, windowsize: n.windowsize, retransmits: o.retransmits },
    });
  }

  private refuse(req: TftpRequestPacket, client: BootClient, startedAt: number, d: TftpRefused): void {
    this.replyError(client, d.code, d.message, false);
    const fields = { client: `${client.address}:${client.port}`, file: req.filename, ...(d.mac ? { mac: d.mac } : {}) };
    if (d.reason === 'refused' || d.reason === 'bad-request') {
      this.badInput.note(`refused:${d.reason}`, { ...fields, message: d.message }, 'tftp request refused');
    } else if (d.reason === 'not-found') {
      this.log.info({ ...fields, reason: d.reason }, 'tftp file not found');
    } else {
      this.log.warn({ ...fields, reason: d.reason, message: d.message, err: d.cause }, 'tftp request failed');
    }
    this.reportFailure(req, client, startedAt, { reason: d.reason, message: d.message, refused: d, tftp: { errorCode: d.code } });
  }

  private reportFailure(
    req: TftpRequestPacket,
    client: BootClient,
    startedAt: number,
    f: {
      reason: TftpRefused['reason'];
      message: string;
      decision?: TftpAccepted;
      refused?: TftpRefused;
      bytes?: number;
      durationMs?: number;
      tftp?: { errorCode?: number; blksize?: number; windowsize?: number; retransmits?: number };
    },
  ): void {
    this.counters.failed++;
    this.deps.events.failed({
      protocol: 'tftp',
      file: req.filename,
      client,
      mac: f.decision?.mac ?? f.refused?.mac,
      systemId: f.decision?.systemId,
      startedAt,
      durationMs: f.durationMs ?? Date.now() - startedAt,
      bytes: f.bytes ?? 0,
      reason: f.reason,
      message: f.message,
      source: f.decision?.source ?? f.refused?.source,
      tftp: f.tftp,
    });
  }
}
