import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ROOT_IMAGE_FILE } from '@kiln/contracts';
import { conflict, invalid, notFound } from '../common/domain.error';
import { log } from '../logging/logger';
import { BootResourceFileRow, BootResourceRow, BootResourcesRepository } from './boot-resources.repository';

/** MAAS's BOOT_RESOURCE_TYPE. */
export const RESOURCE_TYPE = { synced: 0, uploaded: 1, generated: 2 } as const;
export const RESOURCE_TYPE_NAME: Record<number, string> = { 0: 'Synced', 1: 'Uploaded', 2: 'Generated' };

/** Bytes per stored chunk: large enough for few rows, small enough to hold one in memory. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

/** The file types MAAS accepts for an uploaded resource, and those of the netboot files. */
export const FILETYPES = ['tgz', 'ddtgz', 'ddtbz', 'ddtxz', 'ddtar', 'ddbz2', 'ddgz', 'ddxz', 'ddraw', 'root-tgz', 'root-dd', 'boot-kernel', 'boot-initrd', 'squashfs'] as const;

const SHA256 = /^[0-9a-f]{64}$/;
/** A set's version: letters, digits, dots, dashes, underscores. */
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;
/** `<os>/<series>` (debian/bookworm) or a custom image's bare name. */
const NAME = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)?$/i;
/** `<arch>/<subarch>`, e.g. amd64/generic. */
const ARCH = /^[a-z0-9_-]+\/[a-z0-9._-]+$/i;

export interface NewFileInput {
  filename: string;
  filetype: string;
  sha256: string;
  size: number;
}

export interface CreateResourceInput {
  name: string;
  architecture: string;
  title?: string;
  /** Extra fields kept with the resource (subarches, kernel, ...). */
  extra?: Record<string, string>;
  version?: string;
  label?: string;
  rtype?: number;
  files: NewFileInput[];
}

/** What a boot config needs of an image: where its netboot files are on a rack. */
export interface NetbootImage {
  name: string;
  architecture: string;
  version: string;
  files: Record<'boot-kernel' | 'boot-initrd' | 'squashfs', { sha256: string; size: number }>;
}

/** A deployable image: the newest complete root tarball of a resource, for the installer. */
export interface DeployableImage {
  name: string;
  architecture: string;
  version: string;
  file: { sha256: string; size: number };
}

/** The rack-side path of a resource file (under the rack's images/): `<name>/<arch>/<version>/<filename>`. */
export function rackImagePath(r: { name: string; architecture: string }, version: string, filename: string): string {
  return `${r.name}/${r.architecture}/${version}/${filename}`;
}

/**
 * Boot resources: create (with their files' digests and sizes), the uploads that fill them
 * (streamed, checked against the digest, content-addressed), listing and deletion, and what the
 * racks and the boot config need of them.
 */
@Injectable()
export class BootResourcesService {
  /** Contents whose stored bytes this process hashed and found matching (content id -> sha256). */
  private readonly verified = new Map<number, string>();

  constructor(private readonly repo: BootResourcesRepository) {}

  list(): Promise<BootResourceRow[]> {
    return this.repo.list();
  }

  async get(id: number): Promise<BootResourceRow> {
    const r = Number.isSafeInteger(id) ? await this.repo.get(id) : null;
    if (!r) throw notFound('No BootResource matches the given query.');
    return r;
  }

  async create(input: CreateResourceInput): Promise<BootResourceRow> {
    const errors: Record<string, string[]> = {};
    if (!NAME.test(input.name)) errors.name = ['Enter a valid name: <os>/<series> or a custom image name.'];
    if (!ARCH.test(input.architecture)) errors.architecture = ['Select a valid choice. That choice is not one of the available choices.'];
    for (const f of input.files) {
      if (!SHA256.test(f.sha256)) errors.sha256 = ['Enter a valid sha256 (64 hexadecimal digits).'];
      if (!Number.isSafeInteger(f.size) || f.size < 0) errors.size = ['Enter a whole number.'];
      if (!(FILETYPES as readonly string[]).includes(f.filetype)) errors.filetype = ['Select a valid choice. That choice is not one of the available choices.'];
    }
    if (input.version !== undefined && !VERSION.test(input.version)) errors.version = ['Enter a valid version: up to 64 letters, digits, dots, dashes or underscores.'];
    for (const f of input.files) if (!/^[A-Za-z0-9._-]{1,64}$/.test(f.filename)) errors.filename = ['Enter a valid file name.'];
    if (new Set(input.files.map((f) => f.filename)).size !== input.files.length) errors.filename = ['A file name appears twice.'];
    if (Object.keys(errors).length) throw invalid(errors);
    const extra: Record<string, string> = { ...(input.extra ?? {}) };
    if (input.title) extra.title = input.title;
    if (!extra.subarches) extra.subarches = input.architecture.split('/')[1];
    const id = await this.repo.createWithSet({
      rtype: input.rtype ?? RESOURCE_TYPE.uploaded,
      name: input.name,
      architecture: input.architecture,
      extra,
      version: input.version ?? utcVersion(new Date()),
      label: input.label ?? 'uploaded',
      files: input.files,
    });
    // A replaced file's partial upload is no longer named by anything.
    await this.repo.collectGarbage();
    log().info({ resourceId: id, name: input.name, architecture: input.architecture, files: input.files.map((f) => f.filename) }, 'boot resource created');
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    if (!(await this.repo.delete(id))) throw notFound('No BootResource matches the given query.');
    const dropped = await this.repo.collectGarbage();
    log().info({ resourceId: id, contentsDropped: dropped }, 'boot resource deleted');
  }

  /**
   * Appends one upload request's bytes to a file (MAAS's chunked PUT: each request carries the
   * next part, `declaredLength` bytes). Streamed into Postgres chunk by chunk, never held whole.
   * Once every byte is in, the digest is checked: a mismatch drops the bytes (the file starts
   * over) and is refused; a match seals them, sharing an identical copy when there is one.
   */
  async upload(resourceId: number, fileId: number, body: AsyncIterable<Buffer>, declaredLength: number | undefined): Promise<BootResourceFileRow> {
    const file = Number.isSafeInteger(resourceId) && Number.isSafeInteger(fileId) ? await this.repo.file(resourceId, fileId) : null;
    if (!file) throw notFound('No BootResourceFile matches the given query.');
    if (file.rtype !== RESOURCE_TYPE.uploaded) throw invalid('Cannot upload to a resource file that is not an uploaded resource.');
    if (file.complete) throw invalid('Cannot upload to a complete file.');
    if (declaredLength === undefined) throw invalid('Missing Content-Length header.');
    let contentId = file.contentId ?? (await this.repo.startContent(file.id, file.size));
    const content = await this.repo.content(contentId);
    if (!content) throw conflict('The upload was restarted by another request; try again.');
    let offset = content.stored;
    if (offset + declaredLength > file.size) throw invalid('Too much content. Content-Length exceeds the size of the file.');
    // A whole file in one request is hashed on the way in; a file in parts is re-read at the end.
    const hash = offset === 0 ? createHash('sha256') : null;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let received = 0;
    const flush = async () => {
      if (!pendingBytes) return;
      const data = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      if (!(await this.repo.appendChunk(contentId, offset, data))) throw conflict('Another upload to this file is in progress.');
      offset += data.length;
    };
    for await (const chunk of body) {
      received += chunk.length;
      if (received > declaredLength) throw invalid('The body is longer than its Content-Length.');
      hash?.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= CHUNK_BYTES) await flush();
    }
    await flush();
    if (received !== declaredLength) throw invalid('The body is shorter than its Content-Length.');
    if (offset < file.size) return { ...file, contentId, stored: offset };
    const digest = hash ? hash.digest('hex') : await this.digestOf(contentId);
    if (digest !== file.sha256) {
      await this.repo.dropContent(contentId);
      log().warn({ resourceId, fileId, expected: file.sha256, got: digest }, 'boot resource upload refused: sha256 mismatch');
      throw invalid('Saved content does not match given SHA256 value.');
    }
    contentId = await this.repo.sealContent(contentId, digest);
    log().info({ resourceId, fileId, sha256: digest, size: file.size }, 'boot resource file complete');
    return { ...file, contentId, stored: file.size, complete: true };
  }

  /** Reads stored bytes back (start..end inclusive), a chunk at a time. */
  async *read(contentId: number, start: number, end: number): AsyncGenerator<Buffer> {
    let pos = start;
    while (pos <= end) {
      const chunk = await this.repo.chunkAt(contentId, pos);
      if (!chunk) throw new Error(`stored content ${contentId} has no byte ${pos}`);
      const from = pos - chunk.start;
      const to = Math.min(chunk.data.length, end - chunk.start + 1);
      const piece = chunk.data.subarray(from, to);
      pos += piece.length;
      yield piece;
    }
  }

  /** The complete stored bytes with this digest (for the racks' downloads). */
  async content(sha256: string): Promise<{ id: number; size: number }> {
    const c = SHA256.test(sha256) ? await this.repo.contentBySha256(sha256) : null;
    if (!c) throw notFound('No such boot resource file.');
    return { id: c.id, size: c.size };
  }

  private async digestOf(contentId: number): Promise<string> {
    const c = await this.repo.content(contentId);
    const hash = createHash('sha256');
    if (c && c.size > 0) for await (const piece of this.read(contentId, 0, c.size - 1)) hash.update(piece);
    return hash.digest('hex');
  }

  /**
   * What is wrong with the stored root tarball of a deployable image, or null when it is whole:
   * its bytes missing or cut short (checked on every call), or not matching its sha256 (hashed
   * again once per content and region process: a deploy does not re-read gigabytes each time).
   */
  async deployableImageProblem(image: DeployableImage): Promise<string | null> {
    const what = `its stored ${ROOT_IMAGE_FILE}`;
    const c = await this.repo.contentBySha256(image.file.sha256);
    if (!c) return `${what} is missing`;
    const stored = await this.repo.storedBytes(c.id);
    if (stored !== image.file.size) return stored === 0 ? `${what} is missing` : `${what} holds ${stored} of its ${image.file.size} bytes`;
    if (this.verified.get(c.id) === image.file.sha256) return null;
    let digest: string;
    try {
      digest = await this.digestOf(c.id);
    } catch (err) {
      return `${what} cannot be read back (${(err as Error).message})`;
    }
    if (digest !== image.file.sha256) {
      log().warn({ contentId: c.id, expected: image.file.sha256, got: digest }, 'stored deployable image does not match its sha256');
      return `${what} does not match its sha256 (expected ${image.file.sha256}, got ${digest})`;
    }
    this.verified.set(c.id, digest);
    return null;
  }

  /**
   * The images racks should hold: the newest complete set of every resource that has the
   * netboot files (boot-kernel, boot-initrd, squashfs).
   */
  async netbootImages(): Promise<NetbootImage[]> {
    const out: NetbootImage[] = [];
    for (const r of await this.repo.list()) {
      const image = netbootImageOf(r);
      if (image) out.push(image);
    }
    return out;
  }

  /** The deployable images racks should hold too: every resource's newest complete root tarball. */
  async deployableImages(): Promise<DeployableImage[]> {
    const out: DeployableImage[] = [];
    for (const r of await this.repo.list()) {
      const image = deployableImageOf(r);
      if (image) out.push(image);
    }
    return out;
  }

  /**
   * The image a machine of `architecture` (amd64/generic) deploys for `<osystem>/<series>`: the
   * resource's newest set with a complete root tarball, of the machine's subarchitecture or
   * generic. null: the region has none (never imported, or its upload is not complete).
   */
  async deployableImage(osystem: string, series: string, architecture: string): Promise<DeployableImage | null> {
    const [base, sub] = architecture.split('/');
    const candidates = (await this.repo.list()).filter((r) => r.name === `${osystem}/${series}` && r.architecture.split('/')[0] === base);
    const ranked = candidates.sort((a, b) => rankArch(b.architecture, sub) - rankArch(a.architecture, sub));
    for (const r of ranked) {
      const image = deployableImageOf(r);
      if (image) return image;
    }
    return null;
  }
}

function rankArch(architecture: string, sub: string | undefined): number {
  const s = architecture.split('/')[1];
  return sub && s === sub ? 2 : s === 'generic' ? 1 : 0;
}

/** The newest set of `r` with a complete root tarball (root-tgz), as a DeployableImage; null if none. */
export function deployableImageOf(r: BootResourceRow): DeployableImage | null {
  for (const set of r.sets) {
    const root = set.files.find((f) => f.complete && f.filetype === ROOT_IMAGE_FILE);
    if (root) return { name: r.name, architecture: r.architecture, version: set.version, file: { sha256: root.sha256, size: root.size } };
  }
  return null;
}

/** The newest set of `r` whose three netboot files are all complete, as a NetbootImage; null if none. */
export function netbootImageOf(r: BootResourceRow): NetbootImage | null {
  for (const set of r.sets) {
    const byName = new Map(set.files.filter((f) => f.complete).map((f) => [f.filetype, f]));
    const kernel = byName.get('boot-kernel');
    const initrd = byName.get('boot-initrd');
    const squashfs = byName.get('squashfs');
    if (kernel && initrd && squashfs) {
      const f = (x: BootResourceFileRow) => ({ sha256: x.sha256, size: x.size });
      return { name: r.name, architecture: r.architecture, version: set.version, files: { 'boot-kernel': f(kernel), 'boot-initrd': f(initrd), squashfs: f(squashfs) } };
    }
  }
  return null;
}

/** MAAS's version of an uploaded set: the UTC date and time of the upload. */
function utcVersion(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
