import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

interface Entry {
  size: number;
  /** When the file was last named by the region's image list or fetched (ms since the epoch). */
  lastUsed: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** sha256 of a file's bytes, read in a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The rack's image files, by sha256, in `<stateDir>/images/cache/` with a size bound. A file is
 * only ever there whole and verified (a download goes to `<sha256>.part` first, renamed once
 * its digest matched). Eviction is least recently used first, and never takes a file in use: one
 * the region's current image list names, or one held (being fetched or verified).
 * At start-up every file is hashed again, and one that no longer matches its name is dropped.
 */
export class ImageCache {
  private readonly entries = new Map<string, Entry>();
  private readonly held = new Map<string, number>();
  private wanted = new Set<string>();

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly log: Logger,
  ) {}

  private get indexFile() {
    return join(this.dir, 'index.json');
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }

  partOf(sha256: string): string {
    return join(this.dir, `${sha256}.part`);
  }

  has(sha256: string): boolean {
    return this.entries.has(sha256);
  }

  usedBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.size;
    return n;
  }

  /** sha256s held, in cache order (for tests and logs). */
  list(): string[] {
    return [...this.entries.keys()];
  }

  /** Loads the index and re-verifies every file (a file changed on disk is dropped). */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const index: Record<string, Entry> = JSON.parse((await readFile(this.indexFile, 'utf8').catch(() => '{}')) || '{}');
    for (const name of await readdir(this.dir)) {
      if (!SHA256.test(name)) continue;
      const path = this.pathOf(name);
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) continue;
      const digest = await sha256File(path);
      if (digest !== name) {
        this.log.warn({ sha256: name, got: digest }, 'cached image file is corrupt; dropped');
        await unlink(path).catch(() => undefined);
        continue;
      }
      this.entries.set(name, { size: st.size, lastUsed: index[name]?.lastUsed ?? st.mtimeMs });
    }
    await this.save();
    this.log.info({ files: this.entries.size, bytes: this.usedBytes(), maxBytes: this.maxBytes }, 'image cache verified');
  }

  /** The files the region's image list names now: never evicted. */
  setWanted(sha256s: Iterable<string>): void {
    this.wanted = new Set(sha256s);
    const now = Date.now();
    for (const s of this.wanted) {
      const e = this.entries.get(s);
      if (e) e.lastUsed = now;
    }
  }

  /** Keeps a file from eviction until the returned function is called. */
  hold(sha256: string): () => void {
    this.held.set(sha256, (this.held.get(sha256) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(sha256) ?? 1) - 1;
      if (n <= 0) this.held.delete(sha256);
      else this.held.set(sha256, n);
    };
  }

  private inUse(sha256: string): boolean {
    return this.wanted.has(sha256) || this.held.has(sha256);
  }

  /**
   * Makes room for `bytes` more, evicting the least recently used files not in use. false when
   * that is not enough (the bound is too small for what is in use).
   */
  async makeRoom(bytes: number): Promise<boolean> {
    let used = this.usedBytes();
    if (used + bytes <= this.maxBytes) return true;
    const candidates = [...this.entries.entries()].filter(([s]) => !this.inUse(s)).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [s, e] of candidates) {
      if (used + bytes <= this.maxBytes) break;
      await unlink(this.pathOf(s)).catch(() => undefined);
      this.entries.delete(s);
      used -= e.size;
      this.log.info({ sha256: s, size: e.size, lastUsed: new Date(e.lastUsed).toISOString() }, 'image file evicted from the cache');
    }
    await this.save();
    return used + bytes <= this.maxBytes;
  }

  /** Takes in a verified `.part` file as `sha256`. */
  async admit(sha256: string, size: number): Promise<void> {
    await rename(this.partOf(sha256), this.pathOf(sha256));
    this.entries.set(sha256, { size, lastUsed: Date.now() });
    await this.save();
  }

  private async save(): Promise<void> {
    const tmp = `${this.indexFile}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.entries)));
    await rename(tmp, this.indexFile);
  }
}
