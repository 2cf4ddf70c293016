// Where transfers run. Sending a DATA block is a system call that, on a busy host, costs tens of
// microseconds (the kernel delivers the datagram and wakes the client in the sender's time); a
// boot storm of 200 lock-step clients is ~400k of them. One event loop serialises all of that on
// one core, so transfers can run on worker threads, each with its own loop and sockets
// (perf-baselines 6: "worker threads are the scaling lever beyond one core").
//   InlineTransferRunner: transfers on the calling thread (tests, tiny racks).
//   WorkerTransferRunner: a pool of worker threads; the main thread keeps the listen socket, the
//   decisions (paths, the boot-files port), the open files, logging and events.
import { createSocket, Socket, SocketType } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { join, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { TftpNegotiation } from '@kiln/protocol';
import type { BootClient } from './boot-files.port';
import { BufferReader, fileHandleSource, FileReader, PayloadReader, toNetascii } from './payload.reader';
import { releasePayload, TftpPayload } from './tftp.handler';
import { BadInputSink, TftpTransfer, TransferOutcome } from './tftp.transfer';

export interface TransferJob {
  client: BootClient;
  /** Local address the transfer socket binds (the listen address). */
  bindAddress: string;
  negotiation: TftpNegotiation;
  payload: TftpPayload;
  timeoutMs: number;
  maxRetries: number;
  log: Logger;
  badInput: BadInputSink;
}

export interface RunningTransfer {
  outcome: Promise<TransferOutcome>;
  abort(message: string): void;
}

export interface TransferRunner {
  start(job: TransferJob): RunningTransfer;
  close(): Promise<void>;
}

function socketTypeFor(address: string): SocketType {
  return isIPv6(address) ? 'udp6' : 'udp4';
}

/** A socket on an ephemeral port (the server's TID), connected to the client. */
export function openTransferSocket(bindAddress: string, client: BootClient): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(socketTypeFor(bindAddress));
    const onError = (e: Error) => {
      s.close();
      reject(e);
    };
    s.once('error', onError);
    s.bind({ address: bindAddress, port: 0 }, () => {
      s.connect(client.port, client.address, () => {
        s.off('error', onError);
        resolve(s);
      });
    });
  });
}

const failed = (message: string): TransferOutcome => ({
  ok: false,
  reason: 'io-error',
  message,
  bytes: 0,
  blocks: 0,
  retransmits: 0,
  durationMs: 0,
});

/** Opens the transfer socket and runs the transfer on this thread. */
export function runTransfer(
  job: Omit<TransferJob, 'payload'> & { reader: PayloadReader },
): RunningTransfer {
  let transfer: TftpTransfer | undefined;
  let abortedWith: string | undefined;
  const outcome = openTransferSocket(job.bindAddress, job.client).then(
    (socket) => {
      transfer = new TftpTransfer({
        socket,
        negotiation: job.negotiation,
        reader: job.reader,
        timeoutMs: job.timeoutMs,
        maxRetries: job.maxRetries,
        log: job.log,
        badInput: job.badInput,
      });
      if (abortedWith !== undefined) transfer.abort(abortedWith);
      else transfer.start();
      return transfer.outcome;
    },
    async (e: unknown) => {
      await job.reader.close().catch(() => undefined);
      return failed(`cannot open a transfer socket: ${e instanceof Error ? e.message : String(e)}`);
    },
  );
  return {
    outcome,
    abort: (message) => {
      abortedWith = message;
      transfer?.abort(message);
    },
  };
}

function readerFor(payload: TftpPayload): PayloadReader {
  if (payload.kind === 'buffer') return new BufferReader(payload.content);
  return new FileReader(fileHandleSource(payload.fh), {
    chunkSize: payload.chunkSize,
    transform: payload.netascii ? toNetascii : undefined,
  });
}

export class InlineTransferRunner implements TransferRunner {
  start(job: TransferJob): RunningTransfer {
    return runTransfer({ ...job, reader: readerFor(job.payload) });
  }

  async close(): Promise<void> {
    /* nothing of its own */
  }
}

// --- worker pool -----------------------------------------------------------------------------

/** What the worker is told to send: a descriptor the main thread keeps open, or bytes. */
export type WorkerPayload =
  | { kind: 'fd'; fd: number; chunkSize: number; netascii: boolean }
  | { kind: 'buffer'; content: Uint8Array };

export type ToWorker =
  | {
      type: 'start';
      id: number;
      client: BootClient;
      bindAddress: string;
      negotiation: TftpNegotiation;
      payload: WorkerPayload;
      timeoutMs: number;
      maxRetries: number;
      bindings: Record<string, unknown>;
    }
  | { type: 'abort'; id: number; message: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; id: number; outcome: TransferOutcome }
  | { type: 'bad'; id: number; kind: string; details: Record<string, unknown>; message?: string };

interface Pending {
  resolve(o: TransferOutcome): void;
  job: TransferJob;
  worker: PoolWorker;
}

interface PoolWorker {
  w: Worker;
  active: number;
  index: number;
  ready: Promise<void>;
}

function findUp(name: string, from: string): string | undefined {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, name))) return join(d, name);
    if (dirname(d) === d) return undefined;
  }
}

/**
 * The worker's entry. From compiled JavaScript it is tftp.worker.js beside this file; from
 * TypeScript sources (development, tests) the worker compiles tftp.worker.ts with SWC, as the
 * main thread's `node -r tools/register.js` does.
 */
function workerEntry(): { code: string; eval: boolean } {
  if (!__filename.endsWith('.ts')) return { code: join(__dirname, 'tftp.worker.js'), eval: false };
  const project = process.env.SWC_NODE_PROJECT ?? findUp('tsconfig.json', __dirname);
  const register = require.resolve('@swc-node/register');
  return {
    eval: true,
    code: [
      project ? `process.env.SWC_NODE_PROJECT = ${JSON.stringify(project)};` : '',
      `require(${JSON.stringify(register)});`,
      `require(${JSON.stringify(join(__dirname, 'tftp.worker.ts'))});`,
    ].join('\n'),
  };
}

export class WorkerTransferRunner implements TransferRunner {
  private readonly workers: PoolWorker[] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closing = false;

  constructor(
    count: number,
    private readonly log: Logger,
  ) {
    for (let i = 0; i < count; i++) this.workers.push(this.spawn(i));
  }

  private spawn(index: number): PoolWorker {
    const entry = workerEntry();
    const w = new Worker(entry.code, { eval: entry.eval, workerData: { index, logLevel: this.log.level } });
    w.unref();
    let ready!: () => void;
    const pw: PoolWorker = { w, active: 0, index, ready: new Promise<void>((r) => (ready = r)) };
    w.on('message', (m: FromWorker) => (m.type === 'ready' ? ready() : this.onMessage(m)));
    w.on('error', (e) => this.log.error({ err: e, worker: index }, 'tftp worker failed'));
    w.on('exit', (code) => {
      if (this.closing) return;
      this.log.error({ worker: index, code }, 'tftp worker exited; restarting it');
      for (const [id, p] of this.pending) {
        if (p.worker === pw) {
          this.pending.delete(id);
          void releasePayload(p.job.payload);
          p.resolve(failed(`worker ${index} exited`));
        }
      }
      this.workers[index] = this.spawn(index);
    });
    return pw;
  }

  /** Resolves once every worker has loaded (compiling it from sources takes a moment). */
  ready(): Promise<void> {
    return Promise.all(this.workers.map((w) => w.ready)).then(() => undefined);
  }

  private onMessage(m: Exclude<FromWorker, { type: 'ready' }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'bad') {
      p.job.badInput.note(m.kind, m.details, m.message);
      return;
    }
    this.pending.delete(m.id);
    p.worker.active--;
    void releasePayload(p.job.payload).then(() => p.resolve(m.outcome));
  }

  start(job: TransferJob): RunningTransfer {
    let worker = this.workers[0];
    for (const w of this.workers) if (w.active < worker.active) worker = w;
    const id = ++this.seq;
    const payload: WorkerPayload =
      job.payload.kind === 'file'
        ? { kind: 'fd', fd: job.payload.fh.fd, chunkSize: job.payload.chunkSize, netascii: job.payload.netascii }
        : { kind: 'buffer', content: job.payload.content };
    const outcome = new Promise<TransferOutcome>((resolve) => this.pending.set(id, { resolve, job, worker }));
    worker.active++;
    const msg: ToWorker = {
      type: 'start',
      id,
      client: job.client,
      bindAddress: job.bindAddress,
      negotiation: job.negotiation,
      payload,
      timeoutMs: job.timeoutMs,
      maxRetries: job.maxRetries,
      bindings: job.log.bindings(),
    };
    worker.w.postMessage(msg);
    return {
      outcome,
      abort: (message) => worker.w.postMessage({ type: 'abort', id, message } satisfies ToWorker),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.w.terminate()));
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      await releasePayload(p.job.payload);
      p.resolve(failed('server shut down'));
    }
  }
}
