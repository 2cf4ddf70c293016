import type { BootConfig, RequestOf, GetBootConfig } from '@kiln/contracts';
import { NodeStatus } from '@kiln/lifecycle';

/** The machine facts the region's boot config for a MAC needs. */
export interface BootMachine {
  systemId: string;
  hostname: string;
  status: NodeStatus;
  architecture: string;
  ephemeralDeploy: boolean;
}

/** The ephemeral image every netboot uses until boot-resource selection lands. */
export const EPHEMERAL_IMAGE = { os: 'ubuntu', series: 'jammy', kernel: 'ga-22.04', label: 'stable' } as const;
export const RACK_HTTP_PORT = 5248;

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
 * The region's half of the boot story (apps/rack/src/dhcp/README.md, "What a machine boots").
 * The answer shapes the per-MAC config the rack renders for the loader (pxelinux.cfg/01-<mac>,
 * grub.cfg-<mac>, ipxe.cfg?mac=...): the kernel, initrd and command line to boot, or "boot the
 * local disk". It does not shape the DHCP reply: the loader a DHCP reply names (boot file, iPXE
 * script URL, next server) is the rack's, from the client's architecture alone.
 *
 * What a MAC boots: unknown -> enlist; New/Commissioning/Testing/Releasing/Disk erasing/Rescue ->
 * the ephemeral environment; Deploying -> the installer; everything else (Deployed included) ->
 * the local disk. An ephemeral deployment boots the ephemeral environment while Deploying/Deployed.
 */
export function decideBootConfig(m: BootMachine | null, req: RequestOf<typeof GetBootConfig>): BootConfig {
  const rack = req.serverAddress;
  const arch = debianArch(m?.architecture || null, req.clientArch);
  const imagePath = `${EPHEMERAL_IMAGE.os}/${arch}/${EPHEMERAL_IMAGE.kernel}/${EPHEMERAL_IMAGE.series}/${EPHEMERAL_IMAGE.label}`;
  const netboot = (kind: 'enlist' | 'ephemeral' | 'installer', purpose: Purpose): BootConfig => {
    const base = `http://${rack}:${req.httpPort ?? RACK_HTTP_PORT}`;
    const preseed = m
      ? `${base}/MAAS/metadata/latest/by-id/${m.systemId}/?op=get_preseed`
      : `${base}/MAAS/metadata/latest/enlist-preseed/?op=get_enlist_preseed`;
    const cmdline = [
      'nomodeset',
      'ro',
      `root=squash:${base}/images/${imagePath}/squashfs`,
      `ip=::::${m?.hostname ?? 'maas-enlist'}:BOOTIF`,
      'ip6=off',
      "cc:{'datasource_list': ['MAAS']}end_cc",
      `cloud-config-url=${preseed}`,
      'overlayroot=tmpfs',
      'overlayroot_cfgdisk=disabled',
      `log_host=${rack}`,
      'log_port=5247',
    ].join(' ');
    return {
      kind,
      purpose,
      systemId: m?.systemId ?? null,
      hostname: m?.hostname ?? null,
      arch,
      kernel: `${imagePath}/boot-kernel`,
      initrd: `${imagePath}/boot-initrd`,
      cmdline,
    };
  };
  if (!m) return netboot('enlist', 'enlistment');
  const ephemeral = EPHEMERAL.get(m.status);
  if (ephemeral) return netboot('ephemeral', ephemeral);
  if (m.ephemeralDeploy && (m.status === NodeStatus.DEPLOYING || m.status === NodeStatus.DEPLOYED)) {
    return netboot('ephemeral', 'deploying');
  }
  if (m.status === NodeStatus.DEPLOYING) return netboot('installer', 'deploying');
  return { kind: 'local', purpose: 'local', systemId: m.systemId, hostname: m.hostname };
}
