/**
 * The cloud-config documents the kernel command line points machines at (reference maas-api.md
 * §4.3): the enlistment preseed (datasource MAAS without credentials) and a known machine's
 * commissioning-like preseed (its node credentials, the status webhook, power_state). Pure.
 */
import { stringify } from 'yaml';
import { NodeStatus } from '@kiln/lifecycle';

export interface PreseedCredentials {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
}

/** `<origin>/MAAS/metadata/`: the URL the machine reached the region (or the rack's proxy) by. */
export function metadataUrl(origin: string): string {
  return `${origin.replace(/\/+$/, '')}/MAAS/metadata/`;
}

function document(body: Record<string, unknown>): string {
  return `#cloud-config\n${stringify(body, { lineWidth: 0 })}`;
}

const BLOCK_POWEROFF = 'test ! -e /tmp/block-poweroff';
const BLOCK_REBOOT = 'test ! -e /tmp/block-reboot';

export function renderEnlistPreseed(origin: string): string {
  return document({
    datasource: { MAAS: { metadata_url: metadataUrl(origin) } },
    manage_etc_hosts: true,
    power_state: { delay: 'now', mode: 'poweroff', timeout: 1800, condition: BLOCK_POWEROFF },
  });
}

export interface NodePreseedInput {
  origin: string;
  systemId: string;
  status: number;
  credentials: PreseedCredentials;
  /** SSH was asked for: the environment stays up after the run. */
  enableSsh: boolean;
  /** A deployment to RAM: the ephemeral environment is the deployed system (no installer). */
  ephemeralDeploy?: boolean;
}

/** power_state after the run, or null when the machine must stay up (SSH, rescue mode). */
export function powerStateFor(status: number, enableSsh: boolean): Record<string, unknown> | null {
  if (status === NodeStatus.ENTERING_RESCUE_MODE || status === NodeStatus.RESCUE_MODE) return null;
  if (enableSsh && (status === NodeStatus.COMMISSIONING || status === NodeStatus.TESTING)) return null;
  if (status === NodeStatus.DEPLOYING) return { delay: 'now', mode: 'reboot', timeout: 1800, condition: BLOCK_REBOOT };
  const timeout = status === NodeStatus.DISK_ERASING ? 7 * 24 * 3600 : 3600;
  return { delay: 'now', mode: 'poweroff', timeout, condition: BLOCK_POWEROFF };
}

export function renderNodePreseed(input: NodePreseedInput): string {
  const url = metadataUrl(input.origin);
  const creds = {
    consumer_key: input.credentials.consumerKey,
    token_key: input.credentials.tokenKey,
    token_secret: input.credentials.tokenSecret,
  };
  // Deploying to disk: the ephemeral environment reads the curtin metadata URL, whose user-data
  // is the installer (and whose user-data fetch, unlike the installed system's, leaves the
  // machine Deploying). The status webhook stays the plain one.
  const installing = input.status === NodeStatus.DEPLOYING && !input.ephemeralDeploy;
  const body: Record<string, unknown> = {
    datasource: { MAAS: { metadata_url: installing ? `${url}curtin/` : url, ...creds } },
    reporting: { maas: { type: 'webhook', endpoint: `${url}status/${input.systemId}`, ...creds } },
    manage_etc_hosts: true,
  };
  // An ephemeral deployment is the running system (booted again the same way while Deployed):
  // nothing powers it off or reboots it.
  const inMemory = input.ephemeralDeploy && (input.status === NodeStatus.DEPLOYING || input.status === NodeStatus.DEPLOYED);
  const power = inMemory ? null : powerStateFor(input.status, input.enableSsh);
  if (power) body.power_state = power;
  return document(body);
}

const VENDOR_BOUNDARY = '===============kiln-vendor-data==';

/**
 * vendor-data: one key, `cloud-init`, holding Kiln's vendor cloud-config (§4.2). A machine
 * deployed in memory runs the ephemeral image, whose SSH server is off unless asked for: its
 * vendor-data also starts it, as a vendor script (scripts-vendor), which the owner's user-data
 * cannot replace by having a runcmd of its own.
 */
export function renderVendorData(opts: { startSsh?: boolean } = {}): string {
  const config = '#cloud-config\nmanage_etc_hosts: true\n';
  if (!opts.startSsh) return stringify({ 'cloud-init': config });
  const script = '#!/bin/sh\n# Kiln: a machine deployed in memory is reachable over SSH, as a deployed one is.\nsystemctl start ssh.service\n';
  const part = (type: string, name: string, body: string) =>
    [`--${VENDOR_BOUNDARY}`, `Content-Type: ${type}; charset="utf-8"`, 'MIME-Version: 1.0', `Content-Disposition: attachment; filename="${name}"`, '', body].join('\n');
  const multipart = [
    `Content-Type: multipart/mixed; boundary="${VENDOR_BOUNDARY}"`,
    'MIME-Version: 1.0',
    '',
    part('text/cloud-config', 'kiln-vendor.cfg', config),
    part('text/x-shellscript', 'kiln-start-ssh.sh', script),
    `--${VENDOR_BOUNDARY}--`,
    '',
  ].join('\n');
  return stringify({ 'cloud-init': multipart });
}
