// Serves one file from the boot-resources directory: confined to the root (realpath, so symlinks
// out are refused), GET and HEAD, single byte ranges (206/416), conditional GET on the ETag, and
// streamed from disk in large reads with backpressure (never the whole file in memory).
import { constants as fsc } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import { parseByteRange } from './byte-range.parser';

export interface StaticOutcome {
  status: number;
  /** Body bytes written. */
  bytes: number;
  /** Bytes the response was to carry (file or range size). */
  size: number;
  range?: string;
  /** Set when the response did not deliver what it promised, or was an error status. */
  failure?: { reason: 'not-found' | 'refused' | 'bad-request' | 'aborted' | 'io-error'; message: string };
}

export interface StaticFileOptions {
  /** realpath of the boot-resources root. */
  rootReal: string;
  /** Bytes per disk read while streaming. */
  readChunkSize: number;
}

const TYPES: Record<string, string> = {
  ipxe: 'text/plain; charset=utf-8',
  cfg: 'text/plain; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
  efi: 'application/efi',
};

function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot >= 0 && TYPES[path.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): number {
  const body = Buffer.from(text.endsWith('\n') ? text : `${text}\n`);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...headers });
  res.end(body);
  return body.length;
}

/** `relPath` is already confined (no "..", relative). */
export async function serveStaticFile(
  req: IncomingMessage,
  res: ServerResponse,
  relPath: string,
  opts: StaticFileOptions,
): Promise<StaticOutcome> {
  const notFound = (): StaticOutcome => {
    sendText(res, 404, 'Not found');
    return { status: 404, bytes: 0, size: 0, failure: { reason: 'not-found', message: 'File not found' } };
  };
  const refused = (message: string): StaticOutcome => {
    sendText(res, 403, 'Forbidden');
    return { status: 403, bytes: 0, size: 0, failure: { reason: 'refused', message } };
  };

  let real: string;
  try {
    real = await realpath(join(opts.rootReal, relPath));
  } catch (e) {
    const code = errnoOf(e);
    return code === 'ENOENT' || code === 'ENOTDIR' ? notFound() : refused(`cannot resolve (${code ?? 'error'})`);
  }
  if (real !== opts.rootReal && !real.startsWith(opts.rootReal.endsWith(sep) ? opts.rootReal : opts.rootReal + sep)) {
    return refused('outside the boot-resources root');
  }
  let fh;
  try {
    fh = await open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    return errnoOf(e) === 'ENOENT' ? notFound() : refused(`cannot open (${errnoOf(e) ?? 'error'})`);
  }
  let handedOff = false;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return refused('not a regular file');
    const size = st.size;
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}-${st.ino.toString(16)}"`;
    // Header names as RFC 9110 writes them: GRUB's HTTP client matches "Content-Length: " exactly
    // and without it cannot load a kernel.
    const headers: Record<string, string | number> = {
      'Content-Type': contentType(relPath),
      'Accept-Ranges': 'bytes',
      'Last-Modified': st.mtime.toUTCString(),
      ETag: etag,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return { status: 304, bytes: 0, size: 0 };
    }
    // If-Range: a range only applies to the same version of the file.
    const ifRange = req.headers['if-range'];
    const rangeHeader = ifRange === undefined || ifRange === etag || ifRange === headers['Last-Modified'] ? req.headers.range : undefined;
    const range = parseByteRange(rangeHeader, size);
    if (range.kind === 'unsatisfiable') {
      const bytes = sendText(res, 416, 'Range not satisfiable', { 'Content-Range': `bytes */${size}` });
      return { status: 416, bytes, size: 0, range: rangeHeader, failure: { reason: 'bad-request', message: `range ${rangeHeader} of ${size} bytes` } };
    }
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range.kind === 'partial') {
      ({ start, end } = range);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    const length = end - start + 1;
    headers['Content-Length'] = length;
    res.writeHead(status, headers);
    const outcomeBase = { status, size: length, range: range.kind === 'partial' ? rangeHeader : undefined };
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return { ...outcomeBase, bytes: 0 };
    }
    handedOff = true;
    return await pipeFile(res, fh, start, end, opts.readChunkSize, outcomeBase);
  } finally {
    if (!handedOff) await fh.close().catch(() => undefined);
  }
}

/**
 * Buffers for streaming, reused across responses: a fresh 1 MiB buffer per read costs page
 * faults and GC pressure (external memory), which showed as a large share of the CPU per byte.
 */
class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  get(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  put(b: Buffer): void {
    if (this.free.length < this.keep) this.free.push(b);
  }
}

const pools = new Map<number, BufferPool>();

function poolFor(size: number): BufferPool {
  let p = pools.get(size);
  if (!p) pools.set(size, (p = new BufferPool(size, 64)));
  return p;
}

/**
 * Copies bytes start..end (inclusive) of the file to the response: one read ahead of the write
 * in flight (two buffers per response), each buffer back in the pool once the socket has taken
 * its bytes, and no read while the response is backed up.
 */
async function pipeFile(
  res: ServerResponse,
  fh: import('node:fs/promises').FileHandle,
  start: number,
  end: number,
  chunk: number,
  base: { status: number; size: number; range?: string },
): Promise<StaticOutcome> {
  const pool = poolFor(chunk);
  let bytes = 0;
  let closed = false;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const onClose = () => {
    closed = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  res.on('close', onClose);
  const written = (buf: Buffer) => () => {
    inFlight--;
    pool.put(buf);
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitFor = (cond: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (cond() || closed) resolve();
        else wake = check;
      };
      check();
    });
  try {
    let pos = start;
    while (pos <= end) {
      if (closed) break;
      // At most two chunks per response: one being written, one just read.
      await waitFor(() => inFlight < 2);
      if (closed) break;
      const buf = pool.get();
      const want = Math.min(buf.length, end - pos + 1);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) throw new Error(`file shrank: no data at ${pos}`);
      if (closed) {
        pool.put(buf);
        break;
      }
      pos += bytesRead;
      bytes += bytesRead;
      inFlight++;
      res.write(buf.subarray(0, bytesRead), written(buf));
    }
    if (closed) {
      return { ...base, bytes, failure: { reason: 'aborted', message: `client closed the connection after ${bytes} of ${base.size} bytes` } };
    }
    await new Promise<void>((resolve) => {
      res.once('close', () => resolve());
      res.end(() => resolve());
    });
    if (!res.writableFinished) {
      return { ...base, bytes, failure: { reason: 'aborted', message: 'client closed the connection before the end' } };
    }
    return { ...base, bytes };
  } catch (e) {
    res.destroy(e as Error);
    return { ...base, bytes, failure: { reason: 'io-error', message: e instanceof Error ? e.message : String(e) } };
  } finally {
    res.off('close', onClose);
    await fh.close().catch(() => undefined);
  }
}
