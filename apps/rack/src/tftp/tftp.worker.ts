// A TFTP transfer worker thread (see tftp-transfer.runner.ts): runs the transfers the main thread
// hands it, each on its own socket, reading files through descriptors the main thread owns.
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { borrowedFdSource, BufferReader, FileReader, toNetascii } from './payload.reader';
import { FromWorker, RunningTransfer, runTransfer, ToWorker } from './tftp-transfer.runner';

const port = parentPort;
if (!port) throw new Error('tftp.worker must run as a worker thread');
const { index, logLevel } = workerData as { index: number; logLevel: string };
const log = pino({ level: logLevel }).child({ component: 'tftp', worker: index });
const running = new Map<number, RunningTransfer>();

function post(m: FromWorker): void {
  port!.postMessage(m);
}

post({ type: 'ready' });

port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') {
    running.get(m.id)?.abort(m.message);
    return;
  }
  const reader =
    m.payload.kind === 'fd'
      ? new FileReader(borrowedFdSource(m.payload.fd), { chunkSize: m.payload.chunkSize, transform: m.payload.netascii ? toNetascii : undefined })
      : new BufferReader(Buffer.from(m.payload.content.buffer, m.payload.content.byteOffset, m.payload.content.byteLength));
  const t = runTransfer({
    client: m.client,
    bindAddress: m.bindAddress,
    negotiation: m.negotiation,
    reader,
    timeoutMs: m.timeoutMs,
    maxRetries: m.maxRetries,
    log: log.child(m.bindings),
    badInput: { note: (kind, details, message) => post({ type: 'bad', id: m.id, kind, details, message }) },
  });
  running.set(m.id, t);
  void t.outcome.then((outcome) => {
    running.delete(m.id);
    post({ type: 'done', id: m.id, outcome });
  });
});
