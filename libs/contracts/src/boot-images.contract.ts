import { z } from 'zod';
import { rpc } from './contract';
import { rackId } from './net.schema';

/** The netboot files of an image, by name on the rack. */
export const BOOT_IMAGE_FILES = ['boot-kernel', 'boot-initrd', 'squashfs'] as const;
/** The file of a deployable image: the root tarball the installer writes to the disk. */
export const ROOT_IMAGE_FILE = 'root-tgz' as const;
/** Every file a rack may be told to hold. */
export const RACK_IMAGE_FILES = [...BOOT_IMAGE_FILES, ROOT_IMAGE_FILE] as const;
export type BootImageFile = (typeof RACK_IMAGE_FILES)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'not a sha256');

/** One image a rack should hold: a boot resource's newest complete set. */
export const bootImage = z.object({
  /** The boot resource's name, e.g. debian/bookworm. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)?$/i).max(255),
  /** e.g. amd64/generic. */
  architecture: z.string().regex(/^[a-z0-9_-]+\/[a-z0-9._-]+$/i).max(255),
  /** The set's version. */
  version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  files: z
    .array(z.object({ filename: z.enum(RACK_IMAGE_FILES), sha256, size: z.number().int().nonnegative() }))
    .max(16),
});
export type BootImage = z.output<typeof bootImage>;

/**
 * Where a rack serves an image's file, under its boot root's `images/` (HTTP /images/<path>, and
 * TFTP images/<path>): `<name>/<architecture>/<version>/<file>`, e.g.
 * debian/bookworm/amd64/generic/20260101/boot-kernel. The squashfs is served as
 * `filesystem.squashfs`: live-boot's `fetch=` only mounts a URL that ends in `.squashfs` (it
 * picks how to mount by the extension). A deployable image's root tarball is `root.tgz`. The
 * region's boot config and installer config name the same paths.
 */
export function bootImagePath(image: Pick<BootImage, 'name' | 'architecture' | 'version'>, filename: BootImageFile): string {
  const file = filename === 'squashfs' ? 'filesystem.squashfs' : filename === ROOT_IMAGE_FILE ? 'root.tgz' : filename;
  return `${image.name}/${image.architecture}/${image.version}/${file}`;
}

/**
 * region.rack.<rackId>.boot.images — "which images should I hold?". A rack asks when it has
 * registered and then every KILN_RACK_IMAGE_SYNC_SECONDS, fetches the files it lacks over HTTP
 * from a region (`downloadPath` + sha256, signed, see `rackDownloadSigningString`), and serves
 * them from its cache, also while no region answers.
 */
export const GetBootImages = rpc({
  name: 'GetBootImages',
  answeredBy: 'region',
  since: 1,
  subject: (rackId: string) => `region.rack.${rackId}.boot.images`,
  request: z.object({ rackId }),
  reply: z.object({
    images: z.array(bootImage).max(1024),
    /** Path on the region's HTTP port under which a file is fetched by its sha256. */
    downloadPath: z.string().startsWith('/').max(255),
  }),
});

/** Headers of a rack's signed download request. */
export const HEADER_RACK_ID = 'kiln-rack-id';
export const HEADER_RACK_SIGNED_AT = 'kiln-rack-signed-at';
export const HEADER_RACK_SIGNATURE = 'kiln-rack-signature';
/** How far a download request's signing time may be from the region's clock. */
export const RACK_DOWNLOAD_MAX_SKEW_MS = 5 * 60_000;

/**
 * What a rack signs, with the nkey it is enrolled with, to fetch a file from a region: the
 * method, the path and the time (milliseconds since the epoch). The region checks the signature
 * against the rack's enrolled public nkey and the time against its clock.
 */
export function rackDownloadSigningString(method: string, path: string, signedAt: number): string {
  return `kiln-rack-download-v1\n${method.toUpperCase()}\n${path}\n${signedAt}`;
}
