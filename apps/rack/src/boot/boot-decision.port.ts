// The DHCP half of the rack's boot story (apps/rack/src/dhcp/README.md, "What a machine boots").
//
// A boot decision is the loader a DHCP reply names: the boot file (TFTP path, or URL for UEFI
// HTTP boot), the iPXE script URL, the next server. It is a function of the request alone: the
// client's architecture, whether it is iPXE or HTTP boot, and the rack's address on the client's
// subnet, with MAAS's loader names. The region's answer for the MAC (BootConfigSource, in
// boot-config.source.ts) does NOT shape it: the DHCP reply is the same whether the machine is new,
// commissioning, deploying or deployed, and whether the region answers or not. The region's answer
// shapes what the loader fetches next: the per-MAC pxelinux/GRUB/iPXE config the rack renders over
// TFTP and HTTP (boot-files.renderer.ts). What the DHCP reply may carry is also bounded by the
// region's DHCP configuration (boot enabled on the subnet, disabled architectures), which the
// handler applies before it asks for a decision.
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

/**
 * The port the DHCP handler asks for a network-booting client's loader. The handler asks only for
 * clients that network boot (option 93, vendor class PXEClient/HTTPClient, or iPXE) on a subnet the
 * region's DHCP configuration lets boot, and turns the decision into the reply's file, siaddr and
 * options. In production: RackBootDecisions (boot-decision.adapter.ts); tests: InMemoryBootDecisions.
 */
export interface BootDecisionSource {
  /**
   * May answer synchronously (the common case) or with a promise. Never rejects: every client
   * that network boots gets a loader, known to the region or not.
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
 * Per-MAC overrides let tests hand one client another loader; requests are recorded.
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

/** The rack's loader for a request, with MAAS's names (what RackBootDecisions answers too). Pure. */
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

