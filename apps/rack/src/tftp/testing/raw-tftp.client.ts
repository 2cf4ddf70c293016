// A small TFTP read client over a raw UDP socket, for tests: RFC 1350 with options (RFC 2347),
// windowsize (RFC 7440; curl and tftp-hpa have none), block-number rollover, and hooks to lose
// DATA, repeat ACKs, stop answering or abort after the OACK, so the server's recovery paths can
// be driven from a test. Built on @kiln/protocol's codec.
import { createSocket, RemoteInfo } from 'node:dgram';
import { decodeTftp, encodeTftp, TftpOpcode, TftpOptions, TftpPacket } from '@kiln/protocol';

export interface RawGetOptions {
  host: string;
  port: number;
  file: string;
  mode?: 'octet' | 'netascii';
  options?: TftpOptions;
  /** Client retransmission timeout. Default 500 ms. */
  timeoutMs?: number;
  retries?: number;
  /** Drop this DATA (as if lost) when it returns true; `seen` counts arrivals of this block. */
  loseData?: (block: number, seen: number) => boolean;
  /** Send every ACK twice (provokes the Sorcerer's Apprentice bug in a naive server). */
  duplicateAcks?: boolean;
  /** Stop answering after acknowledging this many blocks: go silent with the port still open for
   * `silentMs` (the server must time out), or close the port at once (the kernel answers the
   * server's next DATA with ICMP port unreachable). */
  stopAfterBlocks?: number;
  stopMode?: 'silent' | 'close';
  /** How long a silent client keeps its port after it stopped. Default 3 s. */
  silentMs?: number;
  /** Answer the OACK with this ERROR instead of ACK 0 (a PXE ROM asking only for tsize). */
  errorAfterOack?: { code: number; message: string };
  /** Overall limit. Default 20 s. */
  deadlineMs?: number;
}

export interface RawGetResult {
  data: Buffer;
  oack?: TftpOptions;
  error?: { code: number; message: string };
  /** The server's TID. */
  serverPort?: number;
  dataPackets: number;
  /** DATA packets that arrived for blocks already received. */
  duplicateData: number;
  acksSent: number;
  /** Set when the client gave up on its own (stopAfterBlocks, errorAfterOack, timeout). */
  stopped?: string;
}

export function rawTftpGet(o: RawGetOptions): Promise<RawGetResult> {
  const sock = createSocket('udp4');
  const timeoutMs = o.timeoutMs ?? 500;
  const maxRetries = o.retries ?? 5;
  let blksize = 512;
  let windowsize = 1;
  const chunks: Buffer[] = [];
  /** Absolute number of the next block expected. */
  let expected = 1;
  let sinceAck = 0;
  let gapAcked = false;
  let server: { port: number; address: string } | undefined;
  const seen = new Map<number, number>();
  const result: RawGetResult = { data: Buffer.alloc(0), dataPackets: 0, duplicateData: 0, acksSent: 0 };
  let retries = 0;
  const rrq = encodeTftp({ opcode: TftpOpcode.RRQ, filename: o.file, mode: o.mode ?? 'octet', options: o.options ?? {} });

  return new Promise<RawGetResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => done(new Error(`rawTftpGet ${o.file}: deadline passed`)), o.deadlineMs ?? 20_000);

    let finished = false;
    let inFlight = 0;
    let closeWhenSent = false;

    function done(err?: Error): void {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      if (timer) clearTimeout(timer);
      // A send is queued until its address lookup: closing now would drop the final ACK.
      if (inFlight === 0) sock.close();
      else closeWhenSent = true;
      result.data = Buffer.concat(chunks);
      if (err) reject(err);
      else resolve(result);
    }

    function send(pkt: Buffer): void {
      if (finished) return;
      inFlight++;
      const sent = () => {
        if (--inFlight === 0 && closeWhenSent) sock.close();
      };
      if (server) sock.send(pkt, server.port, server.address, sent);
      else sock.send(pkt, o.port, o.host, sent);
    }

    function ack(block: number): void {
      if (o.stopAfterBlocks !== undefined && block >= o.stopAfterBlocks) {
        result.stopped = `stopped after ${block} blocks`;
        if ((o.stopMode ?? 'silent') === 'silent') {
          inFlight++; // keeps the port open (and quiet) until silentMs has passed
          setTimeout(() => {
            if (--inFlight === 0) sock.close();
          }, o.silentMs ?? 3_000).unref();
        }
        done();
        return;
      }
      const pkt = encodeTftp({ opcode: TftpOpcode.ACK, block: block & 0xffff });
      send(pkt);
      result.acksSent++;
      if (o.duplicateAcks) {
        send(pkt);
        result.acksSent++;
      }
      sinceAck = 0;
    }

    function arm(): void {
      if (finished) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(onTimeout, timeoutMs);
    }

    function onTimeout(): void {
      if (++retries > maxRetries) {
        result.stopped = 'timeout';
        done();
        return;
      }
      if (!server) send(rrq);
      else ack(expected - 1);
      arm();
    }

    sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (finished) return;
      if (server && rinfo.port !== server.port) {
        send(encodeTftp({ opcode: TftpOpcode.ERROR, code: 5, message: 'Unknown transfer ID' }));
        return;
      }
      let pkt: TftpPacket;
      try {
        pkt = decodeTftp(msg);
      } catch (e) {
        done(e as Error);
        return;
      }
      server ??= { port: rinfo.port, address: rinfo.address };
      result.serverPort = server.port;
      retries = 0;
      switch (pkt.opcode) {
        case TftpOpcode.ERROR:
          result.error = { code: pkt.code, message: pkt.message };
          done();
          return;
        case TftpOpcode.OACK:
          if (expected !== 1 || result.oack) return;
          result.oack = pkt.options;
          blksize = pkt.options.blksize ?? 512;
          windowsize = pkt.options.windowsize ?? 1;
          if (o.errorAfterOack) {
            send(encodeTftp({ opcode: TftpOpcode.ERROR, ...o.errorAfterOack }));
            result.stopped = 'error after OACK';
            done();
            return;
          }
          ack(0);
          arm();
          return;
        case TftpOpcode.DATA: {
          const rel = (pkt.block - (expected & 0xffff)) & 0xffff;
          const block = expected + rel;
          const n = (seen.get(block) ?? 0) + 1;
          seen.set(block, n);
          if (o.loseData?.(block, n)) return;
          result.dataPackets++;
          if (rel !== 0) {
            if (rel > 0x8000) result.duplicateData++;
            else if (!gapAcked) {
              // RFC 7440: a gap; acknowledge the last block received in order, once.
              gapAcked = true;
              ack(expected - 1);
            }
            arm();
            return;
          }
          gapAcked = false;
          chunks.push(Buffer.from(pkt.data));
          expected++;
          sinceAck++;
          if (pkt.data.length < blksize) {
            ack(block);
            // RFC 1350 6: dally a little so a lost final ACK can be repeated; a test needs none.
            done();
            return;
          }
          if (sinceAck >= windowsize) ack(block);
          arm();
          return;
        }
        default:
          done(new Error(`unexpected ${TftpOpcode[pkt.opcode]}`));
      }
    });

    sock.bind(0, '127.0.0.1', () => {
      send(rrq);
      arm();
    });
  });
}
