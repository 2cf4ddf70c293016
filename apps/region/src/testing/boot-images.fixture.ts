import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { BootResourcesService } from '../boot-resources/boot-resources.service';
import type { RegionHarness } from './region.harness';

type Source = Buffer | { path: string };

function sha256(src: Source): string {
  const h = createHash('sha256');
  h.update(Buffer.isBuffer(src) ? src : readFileSync(src.path));
  return h.digest('hex');
}

/**
 * Puts an image into the region as `kiln boot-resource-import` leaves it: one set with the three
 * netboot files, their bytes stored (streamed from disk for files given by path). Racks then
 * fetch it with GetBootImages and serve it as images/<name>/<arch>/<version>/<file>.
 */
export async function registerBootImage(
  h: RegionHarness,
  image: { name?: string; architecture?: string; version: string; files: Record<'boot-kernel' | 'boot-initrd' | 'squashfs', Source> },
): Promise<void> {
  const resources = h.app.get(BootResourcesService);
  const entries = Object.entries(image.files) as Array<['boot-kernel' | 'boot-initrd' | 'squashfs', Source]>;
  const created = await resources.create({
    name: image.name ?? 'debian/bookworm',
    architecture: image.architecture ?? 'amd64/generic',
    version: image.version,
    files: entries.map(([filetype, src]) => ({
      filename: filetype,
      filetype,
      sha256: sha256(src),
      size: Buffer.isBuffer(src) ? src.length : statSync(src.path).size,
    })),
  });
  for (const f of created.sets.find((s) => s.version === image.version)!.files) {
    if (f.complete) continue;
    const src = image.files[f.filename as 'boot-kernel'];
    const body = Buffer.isBuffer(src) ? (async function* () { yield src; })() : createReadStream(src.path, { highWaterMark: 1 << 20 });
    await resources.upload(created.id, f.id, body as AsyncIterable<Buffer>, f.size);
  }
}

/**
 * Puts a deployable image into the region as `kiln boot-resource-import` leaves
 * build-deployable.sh's: one set with its root tarball (root-tgz), stored. `root` defaults to a
 * few bytes: enough for deploy's checks and the installer's configuration, not to boot.
 */
export async function registerDeployableImage(
  h: RegionHarness,
  image: { name?: string; architecture?: string; version: string; root?: Source },
): Promise<{ sha256: string; size: number }> {
  const resources = h.app.get(BootResourcesService);
  const src: Source = image.root ?? Buffer.from(`kiln test root tarball ${image.version}\n`);
  const digest = sha256(src);
  const size = Buffer.isBuffer(src) ? src.length : statSync(src.path).size;
  const created = await resources.create({
    name: image.name ?? 'debian/bookworm',
    architecture: image.architecture ?? 'amd64/generic',
    version: image.version,
    files: [{ filename: 'root-tgz', filetype: 'root-tgz', sha256: digest, size }],
  });
  const f = created.sets.find((s) => s.version === image.version)!.files.find((x) => x.filetype === 'root-tgz')!;
  if (!f.complete) {
    const body = Buffer.isBuffer(src) ? (async function* () { yield src; })() : createReadStream(src.path, { highWaterMark: 1 << 20 });
    await resources.upload(created.id, f.id, body as AsyncIterable<Buffer>, size);
  }
  return { sha256: digest, size };
}
