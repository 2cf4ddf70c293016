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
