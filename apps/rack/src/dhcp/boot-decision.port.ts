// Port: what a network-booting client should boot. The region answers per MAC (unknown ->
// enlistment, commissioning-like -> ephemeral, deploying -> installer, deployed -> local disk) and
// the rack caches the answers so booting goes on while the region is unreachable (the rack core
// adapts that NATS contract to this port). The DHCP handler asks only for clients that network
// boot (option 93, vendor class PXEClient/HTTPClient, or iPXE) and turns the answer into the
// reply's file/siaddr/options.
import { ClientArch } from '@kiln/protocol';

export interface BootRequest {
  mac: string;
  /** Option 93's first code; undefined when the client sent none (some iPXE builds, plain DHCP). */
  clientArch?: number;
  /** Option 77 classes (["iPXE"] for iPXE). */
  userClass: string[];
  /** True for iPXE (option 175 or user class "iPXE"): it wants a script URL. */
  ipxe: boolean;
  /** True for UEFI HTTP boot architectures (16, 19, ...): the boot file must be a URL. */
  httpBoot: boolean;
  vendorClass?: string;
  subnetId: string;
  /** The rack's address on the client's subnet: where TFTP and HTTP boot are served. */
  serverAddress: string;
  interface?: string;
  relayAddress?: string;
}

export interface BootDecision {
  /** TFTP path for PXE ROMs ("lpxelinux.0", "bootx64.efi"), or a URL for HTTP-boot clients. */
  bootFile?: string;
  /** iPXE script URL, for iPXE clients ("http://10.0.0.1:5248/ipxe.cfg"). */
  ipxeScriptUrl?: string;
  /** TFTP server (siaddr); defaults to serverAddress. */
  nextServer?: string;
}

export interface BootDecisionSource {
  /**
   * May answer synchronously (a cache hit, the common case) or with a promise. Never rejects for
   * "unknown machine": that is a decision (enlistment).
   */
  decide(request: BootRequest): BootDecision | Promise<BootDecision>;
}

/** MAAS's boot loader names per architecture. */
export const MAAS_BOOT_FILES: Readonly<Record<number, string>> = {
  [ClientArch.X86_BIOS]: 'lpxelinux.0',
  [ClientArch.EFI_X86_64_BC]: 'bootx64.efi',
  [ClientArch.EFI_X86_64]: 'bootx64.efi',
  [ClientArch.EFI_ARM64]: 'bootaa64.efi',
};

/**
 * In-memory boot decisions with MAAS's file names: BIOS lpxelinux.0, UEFI x86-64 bootx64.efi,
 * arm64 bootaa64.efi, HTTP boot the same loaders by URL, iPXE `http://<rack>:5248/ipxe.cfg`.
 * Per-MAC overrides let tests model the region's answers. Counts calls.
 */
export class InMemoryBootDecisions implements BootDecisionSource {
  readonly overrides = new Map<string, BootDecision>();
  readonly requests: BootRequest[] = [];
  constructor(private readonly opts: { httpPort?: number; async?: boolean } = {}) {}

  decide(request: BootRequest): BootDecision | Promise<BootDecision> {
    this.requests.push(request);
    const d = this.overrides.get(request.mac) ?? defaultBootDecision(request, this.opts.httpPort ?? 5248);
    return this.opts.async ? Promise.resolve(d) : d;
  }
}

export function defaultBootDecision(r: BootRequest, httpPort = 5248): BootDecision {
  const base = `http://${r.serverAddress}:${httpPort}`;
  const decision: BootDecision = { ipxeScriptUrl: `${base}/ipxe.cfg` };
  if (r.clientArch === undefined) return decision;
  if (r.httpBoot) {
    const arm = r.clientArch === ClientArch.EFI_ARM64_HTTP || r.clientArch === ClientArch.ARM64_UBOOT_HTTP;
    decision.bootFile = `${base}/images/${arm ? 'bootaa64.efi' : 'bootx64.efi'}`;
    return decision;
  }
  const file = MAAS_BOOT_FILES[r.clientArch];
  if (file) decision.bootFile = file;
  return decision;
}

