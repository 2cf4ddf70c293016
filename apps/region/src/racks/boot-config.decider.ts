import { bootImagePath, type BootConfig, type BootImage, type RequestOf, type GetBootConfig } from '@kiln/contracts';
import { NodeStatus } from '@kiln/lifecycle';

/** The machine facts the region's boot config for a MAC needs. */
export interface BootMachine {
  systemId: string;
  hostname: string;
  status: NodeStatus;
  architecture: string;
  ephemeralDeploy: boolean;
  /** false once the installer said the disk can boot (netboot_off): Deploying then boots locally. */
  netboot?: boolean;
  /** The release being deployed (`<osystem>/<series>`): an ephemeral deployment boots that image. */
  release?: string | null;
}

/** An image the region holds complete (a boot resource's newest set with its netboot files). */
export type BootImageRef = Pick<BootImage, 'name' | 'architecture' | 'version'>;

export const RACK_HTTP_PORT = 5248;
/** What the ephemeral environment boots when the region has several images for an architecture. */
export const EPHEMERAL_IMAGE_NAMES = ['debian/bookworm'] as const;

type Purpose = Exclude<BootConfig['purpose'], 'local'>;

/** Statuses whose machine boots the ephemeral environment, and why (ARCHITECTURE.md, the boot path). */
const EPHEMERAL: ReadonlyMap<NodeStatus, Purpose> = new Map<NodeStatus, Purpose>([
  [NodeStatus.NEW, 'commissioning'],
  [NodeStatus.COMMISSIONING, 'commissioning'],
  [NodeStatus.TESTING, 'testing'],
  [NodeStatus.RELEASING, 'releasing'],
  [NodeStatus.DISK_ERASING, 'disk-erasing'],
  [NodeStatus.ENTERING_RESCUE_MODE, 'rescue'],
  [NodeStatus.RESCUE_MODE, 'rescue'],
]);

/** Debian architecture from a MAAS architecture ("amd64/generic") or, for unknown machines, option 93. */
export function debianArch(machineArch: string | null, clientArch: number | undefined): string {
  if (machineArch) return machineArch.split('/')[0];
  // RFC 4578: 0x0b ARM 64-bit UEFI, 0x13 ARM 64-bit UEFI HTTP boot.
  if (clientArch === 0x0b || clientArch === 0x13) return 'arm64';
  return 'amd64';
}

/**
 * The image a machine of `arch` (Debian "amd64", or MAAS "amd64/generic") boots: one of its
 * architecture, the machine's own subarchitecture first, then the ephemeral image's name
 * (EPHEMERAL_IMAGE_NAMES), then the newest version. null: the region has none. Pure.
 * With `only` (an ephemeral deployment's release), images of that name alone.
 */
export function pickImage(images: readonly BootImageRef[], arch: string, only?: string): BootImageRef | null {
  const [base, sub] = arch.split('/');
  const rank = (i: BootImageRef) => {
    const [ib, is] = i.architecture.split('/');
    if (ib !== base || (only !== undefined && i.name !== only)) return -1;
    const named = (EPHEMERAL_IMAGE_NAMES as readonly string[]).indexOf(i.name);
    return (sub && is === sub ? 4 : is === 'generic' ? 2 : 0) + (named >= 0 ? 1 : 0);
  };
  let best: BootImageRef | null = null;
  for (const i of images) {
    const r = rank(i);
    if (r < 0) continue;
    if (!best || r > rank(best) || (r === rank(best) && i.version.localeCompare(best.version, undefined, { numeric: true }) > 0)) best = i;
  }
  return best;
}

/**
 * The kernel command line of the ephemeral image (tools/images/README.md, "Kernel command
 * line"): live-boot's initramfs takes an address by DHCP and fetches the squashfs from the rack
 * into RAM; cloud-init's MAAS datasource is seeded with the preseed URL of reference §4.3 (the
 * enlistment preseed for an unknown machine, the machine's own otherwise), through the rack's
 * /MAAS/metadata/ proxy. The serial console comes last so that it is /dev/console.
 */
export function ephemeralCmdline(base: string, squashfsPath: string, systemId: string | null, kernelOpts: string | null = null): string {
  const preseed = systemId
    ? `${base}/MAAS/metadata/latest/by-id/${systemId}/?op=get_preseed`
    : `${base}/MAAS/metadata/latest/enlist-preseed/?op=get_enlist_preseed`;
  return [
    'console=tty0',
    'console=ttyS0,115200',
    'boot=live',
    'ip=dhcp',
    'net.ifnames=0',
    'ip6=off',
    `fetch=${base}/images/${squashfsPath}`,
    "cc:{'datasource_list': ['MAAS']}end_cc",
    `cloud-config-url=${preseed}`,
    // MAAS's global kernel_opts setting, last so that it can override what comes before.
    ...(kernelOpts?.trim() ? [kernelOpts.trim()] : []),
  ].join(' ');
}

/**
 * The region's half of the boot story (apps/rack/src/dhcp/README.md, "What a machine boots").
 * The answer shapes the per-MAC config the rack renders for the loader (pxelinux.cfg/01-<mac>,
 * grub.cfg-<mac>, ipxe.cfg?mac=...): the kernel, initrd and command line to boot, or "boot the
 * local disk". It does not shape the DHCP reply: the loader a DHCP reply names (boot file, iPXE
 * script URL, next server) is the rack's, from the client's architecture alone.
 *
 * What a MAC boots: unknown -> enlist; New/Commissioning/Testing/Releasing/Disk erasing/Rescue ->
 * the ephemeral environment; Deploying -> the installer until it turned netboot off; everything
 * else (Deployed included) -> the local disk. An ephemeral deployment boots the ephemeral environment while Deploying/Deployed.
 * A netboot with no image of the machine's architecture on the region is answered `no-image`.
 */
export function decideBootConfig(
  m: BootMachine | null,
  req: RequestOf<typeof GetBootConfig>,
  images: readonly BootImageRef[],
  opts: { kernelOpts?: string | null } = {},
): BootConfig {
  const rack = req.serverAddress;
  const arch = debianArch(m?.architecture || null, req.clientArch);
  const netboot = (kind: 'enlist' | 'ephemeral' | 'installer', purpose: Purpose, release?: string): BootConfig => {
    const image = pickImage(images, m?.architecture || arch, release);
    if (!image) {
      return {
        kind: 'no-image',
        purpose,
        systemId: m?.systemId ?? null,
        hostname: m?.hostname ?? null,
        arch,
        message: release
          ? `The region has no ${release} boot image for ${arch} to deploy in memory: import one (kiln boot-resource-import <dir>, or POST boot-resources/).`
          : `The region has no boot image for ${arch}: import one (kiln boot-resource-import <dir>, or POST boot-resources/).`,
      };
    }
    const base = `http://${rack}:${req.httpPort ?? RACK_HTTP_PORT}`;
    return {
      kind,
      purpose,
      systemId: m?.systemId ?? null,
      hostname: m?.hostname ?? null,
      arch,
      kernel: bootImagePath(image, 'boot-kernel'),
      initrd: bootImagePath(image, 'boot-initrd'),
      cmdline: ephemeralCmdline(base, bootImagePath(image, 'squashfs'), m?.systemId ?? null, opts.kernelOpts ?? null),
    };
  };
  if (!m) return netboot('enlist', 'enlistment');
  const ephemeral = EPHEMERAL.get(m.status);
  if (ephemeral) return netboot('ephemeral', ephemeral);
  if (m.ephemeralDeploy && (m.status === NodeStatus.DEPLOYING || m.status === NodeStatus.DEPLOYED)) {
    // The release deployed in memory is the image booted (deploy checked that the region has it).
    return netboot('ephemeral', 'deploying', m.release || undefined);
  }
  // Deploying with netboot off: the installer is done and the machine boots its new system.
  if (m.status === NodeStatus.DEPLOYING && m.netboot !== false) return netboot('installer', 'deploying');
  return { kind: 'local', purpose: 'local', systemId: m.systemId, hostname: m.hostname };
}
