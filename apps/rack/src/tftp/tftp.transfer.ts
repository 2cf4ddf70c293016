// One TFTP read transfer on its own ephemeral socket (RFC 1350 4: the server's TID), connected
// to the client's address and port, so the kernel delivers only the client's datagrams.
//
// Sending follows RFC 7440: a window of `windowsize` DATA blocks (1 = RFC 1350 lock-step), then
// wait for the ACK of the window's last block. An ACK of an earlier block means the client missed
// one: the next window starts right after the acknowledged block (go-back-N). A duplicate ACK in
// lock-step is ignored (RFC 1123 4.2.3.1, the Sorcerer's Apprentice bug); only the timer
// retransmits. Block numbers roll over from 65535 to 0, as tftp-hpa, curl and iPXE expect.
import type { Socket } from 'node:dgram';
import type { Logger } from 'pino';
import {
  decodeTftp,
  encodeTftp,
  isMalformedPacketError,
  TFTP_DATA_HEADER_LENGTH,
  TftpErrorCode,
  TftpNegotiation,
  TftpOpcode,
  writeTftpDataHeader,
} from '@kiln/protocol';
import type { PayloadReader } from './payload.reader';
import type { TransferFailureReason } from './transfer-events.port';

/** Where a transfer reports bad input (BadInputLog in the main thread; a message from a worker). */
export interface BadInputSink {
  note(kind: string, details: Record<string, unknown>, message?: string): void;
}

export interface TransferParams {
  /** Bound to an ephemeral port and connected to the client. The transfer closes it. */
  socket: Socket;
  negotiation: TftpNegotiation;
  reader: PayloadReader;
  /** Retransmission timeout. */
  timeoutMs: number;
  /** Retransmissions of the same window before giving up. */
  maxRetries: number;
  log: Logger;
  badInput: BadInputSink;
}

export interface TransferOutcome {
  ok: boolean;
  /** Payload bytes the client acknowledged. */
  bytes: number;
  blocks: number;
  retransmits: number;
  durationMs: number;
  reason?: TransferFailureReason;
  message?: string;
  /** The client's ERROR code, when it ended the transfer with one. */
  clientErrorCode?: number;
}

type Phase = 'oack' | 'data' | 'done';

export class TftpTransfer {
  private phase: Phase;
  /** Absolute number of the first unacknowledged block. */
  private base = 1;
  /** DATA packets of blocks base .. base + window.length - 1, kept until acknowledged. */
  private window: Buffer[] = [];
  /** Absolute number of the last block, once it has been built (-1 before). */
  private finalBlock = -1;
  private bytesAcked = 0;
  private retries = 0;
  private retransmits = 0;
  /** A fast retransmit after a duplicate ACK was already done for this window position. */
  private dupResent = false;
  private filling = false;
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;
  private readonly oack: Buffer | undefined;
  private resolve!: (o: TransferOutcome) => void;
  readonly outcome: Promise<TransferOutcome>;

  constructor(private readonly p: TransferParams) {
    this.outcome = new Promise((r) => (this.resolve = r));
    this.phase = p.negotiation.sendOack ? 'oack' : 'data';
    this.oack = p.negotiation.sendOack ? encodeTftp({ opcode: TftpOpcode.OACK, options: p.negotiation.accepted }) : undefined;
    this.timer = setTimeout(() => this.onTimeout(), p.timeoutMs);
    this.timer.unref();
    p.socket.on('message', (msg) => this.onMessage(msg));
    // On a connected UDP socket, ECONNREFUSED is the client's ICMP port unreachable: it is gone.
    p.socket.on('error', (e: NodeJS.ErrnoException) =>
      this.fail('aborted', e.code === 'ECONNREFUSED' ? 'client port unreachable (client went away)' : `socket error: ${e.message}`),
    );
  }

  start(): void {
    if (this.oack) this.send(this.oack);
    else this.advance(0);
  }

  /** Ends the transfer from outside (server shutdown). */
  abort(message: string): void {
    this.sendError(TftpErrorCode.NOT_DEFINED, message);
    this.fail('aborted', message);
  }

  private send(pkt: Buffer): void {
    this.p.socket.send(pkt);
    this.timer.refresh();
  }

  private sendError(code: TftpErrorCode, message: string): void {
    if (this.phase === 'done') return;
    try {
      this.p.socket.send(encodeTftp({ opcode: TftpOpcode.ERROR, code, message }));
    } catch {
      /* socket already closed */
    }
  }

  private onMessage(msg: Buffer): void {
    if (this.phase === 'done') return;
    let pkt;
    try {
      pkt = decodeTftp(msg);
    } catch (e) {
      if (isMalformedPacketError(e)) this.p.badInput.note(`transfer-malformed:${e.kind}`, { error: e.message });
      else this.p.badInput.note('decoder-bug', { error: String(e) }, 'tftp decoder threw an unexpected error');
      return;
    }
    switch (pkt.opcode) {
      case TftpOpcode.ACK:
        this.onAck(pkt.block);
        return;
      case TftpOpcode.ERROR: {
        // Never answer an ERROR (RFC 1350 7). After an OACK this is usually a client that only
        // wanted tsize (PXE ROMs do that) or refuses an option (code 8).
        const what = this.phase === 'oack' ? 'client ended the transfer after OACK' : 'client sent ERROR';
        this.fail('aborted', `${what}: ${pkt.code} ${pkt.message}`, pkt.code);
        return;
      }
      default:
        this.p.badInput.note('transfer-unexpected-opcode', { opcode: pkt.opcode });
    }
  }

  private onAck(wire: number): void {
    if (this.phase === 'oack') {
      if (wire !== 0) {
        this.p.badInput.note('transfer-unexpected-ack', { block: wire, phase: 'oack' });
        return;
      }
      this.phase = 'data';
      this.advance(0);
      return;
    }
    if (this.filling) return; // the next window is being read; this can only be a stale ACK
    const last = this.base - 1;
    const rel = (wire - (last & 0xffff)) & 0xffff;
    if (rel > this.window.length) return; // outside the window in flight: stale or stray
    if (rel === 0) {
      // A duplicate of the previous ACK. Lock-step: ignore (the timer retransmits). Windowed: the
      // client lost the first block of the window; go back once per window position.
      if (this.p.negotiation.windowsize > 1 && !this.dupResent && this.window.length > 0) {
        this.dupResent = true;
        this.retransmits += this.window.length;
        this.sendWindow();
      }
      return;
    }
    this.advance(rel);
  }

  /** Drops the `acked` first packets of the window, then sends the next window. */
  private advance(acked: number): void {
    if (acked > 0) {
      for (let i = 0; i < acked; i++) this.bytesAcked += this.window[i].length - TFTP_DATA_HEADER_LENGTH;
      this.window.splice(0, acked);
      this.base += acked;
      this.retries = 0;
      this.dupResent = false;
      if (this.finalBlock >= 0 && this.base > this.finalBlock) {
        this.finish();
        return;
      }
      // Blocks sent after the acknowledged one are sent again (the client lost one before them).
      this.retransmits += this.window.length;
    }
    if (this.fill()) this.sendWindow();
    else void this.fillFromDisk();
  }

  /**
   * Builds packets until the window is full or the file ends, from what the reader has buffered.
   * False when the reader must first read more (the usual case is true: it reads ahead).
   */
  private fill(): boolean {
    const { windowsize, blksize } = this.p.negotiation;
    const reader = this.p.reader;
    while (this.window.length < windowsize && this.finalBlock < 0) {
      if (reader.available < blksize && !reader.ended) return false;
      const n = Math.min(blksize, reader.available);
      const pkt = Buffer.allocUnsafe(TFTP_DATA_HEADER_LENGTH + n);
      const block = this.base + this.window.length;
      writeTftpDataHeader(pkt, block & 0xffff);
      reader.take(pkt, TFTP_DATA_HEADER_LENGTH, n);
      this.window.push(pkt);
      if (n < blksize) this.finalBlock = block;
    }
    return true;
  }

  private async fillFromDisk(): Promise<void> {
    this.filling = true;
    try {
      do {
        await this.p.reader.ensure(this.p.negotiation.blksize);
        if (this.phase === 'done') return;
      } while (!this.fill());
    } catch (e) {
      const message = `read failed: ${e instanceof Error ? e.message : String(e)}`;
      this.sendError(TftpErrorCode.NOT_DEFINED, 'read error');
      this.fail('io-error', message);
      return;
    } finally {
      this.filling = false;
    }
    this.sendWindow();
  }

  private sendWindow(): void {
    const s = this.p.socket;
    for (const pkt of this.window) s.send(pkt);
    this.timer.refresh();
  }

  private onTimeout(): void {
    if (this.phase === 'done') return;
    if (this.filling) {
      this.timer.refresh();
      return;
    }
    if (this.retries >= this.p.maxRetries) {
      this.fail('timeout', `no answer after ${this.retries} retransmissions of ${this.phase === 'oack' ? 'OACK' : `block ${this.base}`}`);
      return;
    }
    this.retries++;
    if (this.phase === 'oack' && this.oack) {
      this.retransmits++;
      this.send(this.oack);
    } else {
      this.retransmits += this.window.length;
      this.sendWindow();
    }
  }

  private finish(): void {
    this.end({ ok: true });
  }

  private fail(reason: TransferFailureReason, message: string, clientErrorCode?: number): void {
    this.end({ ok: false, reason, message, clientErrorCode });
  }

  private end(o: { ok: boolean; reason?: TransferFailureReason; message?: string; clientErrorCode?: number }): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    clearTimeout(this.timer);
    this.window = [];
    const socket = this.p.socket;
    socket.removeAllListeners('message');
    // A late 'error' after close must not become an uncaught exception.
    socket.on('error', () => undefined);
    try {
      socket.close();
    } catch {
      /* already closed */
    }
    void this.p.reader.close().catch((e: unknown) => this.p.log.warn({ err: e }, 'closing a tftp file failed'));
    this.resolve({
      ...o,
      bytes: this.bytesAcked,
      blocks: this.base - 1,
      retransmits: this.retransmits,
      durationMs: Date.now() - this.started,
    });
  }
}
