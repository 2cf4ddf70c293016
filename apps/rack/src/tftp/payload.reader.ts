// Sequential, bounded read-ahead over what a TFTP transfer sends: a file on disk read in chunks
// (never wholly loaded: a 1 GiB image costs two chunks of memory), or a rendered Buffer. The
// transfer takes whole blocks synchronously while enough bytes are buffered and awaits `ensure`
// only when the read-ahead has fallen behind, so lock-step transfers do not pay one disk read
// per block.
import { read as fsRead } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export interface PayloadReader {
  /** Bytes buffered and not yet taken. */
  readonly available: number;
  /** True once the source is exhausted: what is buffered is all that is left. */
  readonly ended: boolean;
  /** Resolves when `n` bytes are buffered or the source has ended. Rejects on a read error. */
  ensure(n: number): Promise<void>;
  /** Copies up to `n` buffered bytes into `dst` at `at`; returns how many were copied. */
  take(dst: Buffer, at: number, n: number): number;
  close(): Promise<void>;
}

/** LF -> CR LF and CR -> CR NUL (RFC 1350 netascii, from a Unix file). */
export function toNetascii(src: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < src.length; i++) if (src[i] === 0x0a || src[i] === 0x0d) extra++;
  if (extra === 0) return src;
  const out = Buffer.allocUnsafe(src.length + extra);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x0a) {
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    } else if (c === 0x0d) {
      out[o++] = 0x0d;
      out[o++] = 0x00;
    } else out[o++] = c;
  }
  return out;
}

abstract class QueueReader implements PayloadReader {
  protected readonly chunks: Buffer[] = [];
  private head = 0;
  protected buffered = 0;
  protected done = false;

  get available(): number {
    return this.buffered;
  }

  get ended(): boolean {
    return this.done;
  }

  abstract ensure(n: number): Promise<void>;
  abstract close(): Promise<void>;

  protected push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.buffered += b.length;
  }

  take(dst: Buffer, at: number, n: number): number {
    let copied = 0;
    while (copied < n && this.chunks.length > 0) {
      const c = this.chunks[0];
      const k = Math.min(n - copied, c.length - this.head);
      c.copy(dst, at + copied, this.head, this.head + k);
      copied += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.buffered -= copied;
    this.afterTake();
    return copied;
  }

  protected afterTake(): void {
    /* read-ahead hook */
  }
}

/** A Buffer already in memory (a rendered file). */
export class BufferReader extends QueueReader {
  constructor(content: Buffer) {
    super();
    this.push(content);
    this.done = true;
  }

  ensure(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Where a FileReader reads from: positional reads, and what to do when done. */
export interface ReadSource {
  read(buf: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

/** Reads through a FileHandle, and closes it at the end. */
export function fileHandleSource(fh: FileHandle): ReadSource {
  return {
    read: async (buf, position) => (await fh.read(buf, 0, buf.length, position)).bytesRead,
    close: () => fh.close(),
  };
}

/**
 * Reads a file descriptor owned by someone else (a worker thread reading a file the main thread
 * opened): close() leaves it open.
 */
export function borrowedFdSource(fd: number): ReadSource {
  return {
    read: (buf, position) =>
      new Promise((resolve, reject) => fsRead(fd, buf, 0, buf.length, position, (e, n) => (e ? reject(e) : resolve(n)))),
    close: () => Promise.resolve(),
  };
}

export interface FileReaderOptions {
  /** Bytes per disk read. */
  chunkSize: number;
  /** Applied to each chunk as read (netascii conversion). */
  transform?: (chunk: Buffer) => Buffer;
}

/**
 * Reads the source from offset 0 in chunks, keeping at most about two chunks buffered: when a take
 * leaves less than one chunk, the next read starts in the background.
 */
export class FileReader extends QueueReader {
  private position = 0;
  private reading: Promise<void> | undefined;
  private error: unknown;
  private closed = false;

  constructor(
    private readonly src: ReadSource,
    private readonly opts: FileReaderOptions,
  ) {
    super();
    this.readAhead();
  }

  private readAhead(): void {
    if (this.reading || this.done || this.closed || this.error !== undefined) return;
    const buf = Buffer.allocUnsafe(this.opts.chunkSize);
    this.reading = this.src.read(buf, this.position).then(
      (bytesRead) => {
        this.reading = undefined;
        if (this.closed) return;
        if (bytesRead === 0) {
          this.done = true;
          return;
        }
        this.position += bytesRead;
        const chunk = bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        this.push(this.opts.transform ? this.opts.transform(chunk) : chunk);
        if (this.buffered < this.opts.chunkSize) this.readAhead();
      },
      (e: unknown) => {
        this.reading = undefined;
        this.error = e ?? new Error('read failed');
      },
    );
  }

  protected override afterTake(): void {
    if (this.buffered < this.opts.chunkSize) this.readAhead();
  }

  async ensure(n: number): Promise<void> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      if (this.buffered >= n || this.done || this.closed) return;
      if (!this.reading) this.readAhead();
      await this.reading;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reading?.catch(() => undefined);
    await this.src.close();
  }
}
