import { copyFile, link, mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { bootImagePath, type BootImage } from '@kiln/contracts';
import { ImageCache } from './image-cache.store';
import { fetchImageFile, ImageFetchError } from './image.fetcher';

/** What the rack last heard from a region, kept so that it serves the same after a restart without one. */
interface Manifest {
  images: BootImage[];
  downloadPath: string;
  /** Paths under the boot root's images/ this rack put there. */
  linked: string[];
}

export interface ImageLibraryOptions {
  /** `<stateDir>/images`: the cache and the manifest. */
  stateDir: string;
  /** The boot root; files are served from `<bootRoot>/images/<name>/<arch>/<version>/<file>`. */
  bootRoot: string;
  maxBytes: number;
  /** The region's base URL for downloads (KILN_REGION_URL); null: nothing can be fetched. */
  regionUrl: string | null;
  /** Signed headers for a download of `path`. */
  sign: (path: string) => Record<string, string>;
  log: Logger;
}

export interface SyncReport {
  fetched: string[];
  failed: Array<{ sha256: string; reason: string }>;
  linked: string[];
}

/**
 * The images a rack serves: the region's list (GetBootImages), the files fetched into the
 * size-bounded cache, and the paths under the boot root that the TFTP and HTTP servers serve them
 * from (hard links to the cache, so a path is either the whole verified file or absent).
 */
export class ImageLibrary {
  readonly cache: ImageCache;
  private manifest: Manifest = { images: [], downloadPath: '', linked: [] };
  private syncing: Promise<SyncReport> | null = null;

  constructor(private readonly o: ImageLibraryOptions) {
    this.cache = new ImageCache(join(o.stateDir, 'cache'), o.maxBytes, o.log);
  }

  private get manifestFile() {
    return join(this.o.stateDir, 'manifest.json');
  }

  images(): BootImage[] {
    return this.manifest.images;
  }

  /** At start: re-verify the cache and serve what the last list named, region or not. */
  async restore(): Promise<void> {
    await this.cache.load();
    const saved = await readFile(this.manifestFile, 'utf8').catch(() => null);
    if (saved) this.manifest = JSON.parse(saved) as Manifest;
    this.cache.setWanted(this.wantedSha256s());
    await this.relink();
    this.o.log.info({ images: this.manifest.images.map((i) => `${i.name} ${i.architecture} ${i.version}`), linked: this.manifest.linked.length }, 'boot images restored from the cache');
  }

  /** Applies a region's list: fetch what is missing (single flight), then serve it. */
  sync(images: BootImage[], downloadPath: string): Promise<SyncReport> {
    const run = async () => {
      this.manifest = { ...this.manifest, images, downloadPath };
      this.cache.setWanted(this.wantedSha256s());
      // What the list no longer names stops being served first, so that its space can be reclaimed.
      await this.relink();
      const fetched: string[] = [];
      const failed: SyncReport['failed'] = [];
      const seen = new Set<string>();
      for (const image of images) {
        for (const f of image.files) {
          if (seen.has(f.sha256) || this.cache.has(f.sha256)) continue;
          seen.add(f.sha256);
          try {
            await this.fetch(f.sha256, f.size, downloadPath);
            fetched.push(f.sha256);
          } catch (e) {
            const reason = e instanceof Error ? e.message : String(e);
            failed.push({ sha256: f.sha256, reason });
            this.o.log.warn({ sha256: f.sha256, size: f.size, image: image.name, file: f.filename, reason }, 'boot image file not fetched; retrying at the next sync');
          }
        }
      }
      const linked = await this.relink();
      return { fetched, failed, linked };
    };
    const next = (this.syncing ?? Promise.resolve()).catch(() => undefined).then(run);
    this.syncing = next.finally(() => {
      if (this.syncing === next) this.syncing = null;
    }) as Promise<SyncReport>;
    return next;
  }

  private wantedSha256s(): string[] {
    return this.manifest.images.flatMap((i) => i.files.map((f) => f.sha256));
  }

  private async fetch(sha256: string, size: number, downloadPath: string): Promise<void> {
    if (!this.o.regionUrl) throw new ImageFetchError('no region URL (KILN_REGION_URL) to fetch boot images from', 'transfer');
    const release = this.cache.hold(sha256);
    try {
      if (!(await this.cache.makeRoom(size))) {
        throw new ImageFetchError(`the image cache bound (${this.cache.maxBytes} bytes) is too small: ${this.cache.usedBytes()} bytes in use, ${size} more needed`, 'space');
      }
      const path = `${downloadPath}${sha256}`;
      const started = Date.now();
      const { resumedFrom } = await fetchImageFile({
        url: `${this.o.regionUrl}${path}`,
        sha256,
        size,
        partPath: this.cache.partOf(sha256),
        headers: () => this.o.sign(path),
      });
      await this.cache.admit(sha256, size);
      this.o.log.info({ sha256, size, resumedFrom, durationMs: Date.now() - started }, 'boot image file fetched and verified');
    } finally {
      release();
    }
  }

  /** Links every cached file of the list to its path under the boot root; unlinks what the list no longer names. */
  private async relink(): Promise<string[]> {
    const root = join(this.o.bootRoot, 'images');
    const want = new Map<string, string>();
    for (const image of this.manifest.images) {
      for (const f of image.files) if (this.cache.has(f.sha256)) want.set(bootImagePath(image, f.filename), f.sha256);
    }
    for (const old of this.manifest.linked) {
      if (want.has(old)) continue;
      await unlink(join(root, old)).catch(() => undefined);
      // Drop the emptied directories up to images/ (rmdir refuses a non-empty one).
      for (let d = dirname(join(root, old)); d.startsWith(root) && d !== root; d = dirname(d)) {
        if (!(await rmdir(d).then(() => true, () => false))) break;
      }
    }
    for (const [rel, sha256] of want) {
      const target = join(root, rel);
      const src = this.cache.pathOf(sha256);
      const [a, b] = await Promise.all([stat(target).catch(() => null), stat(src)]);
      if (a && a.ino === b.ino && a.dev === b.dev) continue;
      await mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.kiln-tmp`;
      await unlink(tmp).catch(() => undefined);
      // A hard link shares the verified bytes; another file system gets a copy.
      await link(src, tmp).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EXDEV') throw e;
        await copyFile(src, tmp);
      });
      await rename(tmp, target);
    }
    this.manifest.linked = [...want.keys()];
    const tmp = `${this.manifestFile}.tmp`;
    await mkdir(this.o.stateDir, { recursive: true });
    await writeFile(tmp, JSON.stringify(this.manifest));
    await rename(tmp, this.manifestFile);
    return this.manifest.linked;
  }
}
