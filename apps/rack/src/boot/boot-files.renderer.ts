import type { Logger } from 'pino';
import type { BootConfig } from '@kiln/contracts';
import type { BootFileRequest, BootFileSource, RenderedBootFile } from '../tftp/boot-files.port';
import type { BootConfigSource } from './boot-config.source';

export type BootTemplate = 'pxelinux' | 'grub' | 'ipxe';

/** Which per-machine config a path asks for; null for anything else (static files). */
export function templateFor(path: string): BootTemplate | null {
  if (/^pxelinux\.cfg\/01-([0-9a-f]{2}-){5}[0-9a-f]{2}$/i.test(path)) return 'pxelinux';
  if (/^(grub\/)?grub\.cfg-([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(path)) return 'grub';
  if (/^(ipxe\.cfg|boot\.ipxe)(-([0-9a-f]{2}[:-]){5}[0-9a-f]{2})?$/i.test(path)) return 'ipxe';
  return null;
}

/**
 * Where Debian's and Ubuntu's signed network GRUB (grubnetx64.efi, which the rack hands out as
 * grubx64.efi behind shim) looks for its config: the image's prefix is "/grub" on the server it
 * was loaded from, and its built-in config sources $prefix/x86_64-efi/grub.cfg (arm64-efi on arm64)
 * if that exists, else $prefix/grub.cfg. The rack renders the latter for every client.
 */
export const GRUB_GENERIC_CONFIG_PATH = 'grub/grub.cfg';

/**
 * The generic GRUB config: it loads the machine's own config (`grub/grub.cfg-<mac>`, rendered per
 * MAC like MAAS's, with GRUB's lower-case colon-separated ${net_default_mac}). The rack renders
 * that one for any MAC (unknown ones enlist), so GRUB only goes on past `configfile` when the rack
 * could not render it (the region unreachable and nothing cached): it then says so and returns to
 * the firmware, which tries its next boot option. Pure.
 */
export function renderGrubGenericConfig(): string {
  return (
    '# Kiln rack: generic GRUB config, loaded first by the network GRUB.\n' +
    'set default="0"\nset timeout=0\n' +
    'echo "Kiln: loading grub/grub.cfg-${net_default_mac}"\n' +
    'configfile /grub/grub.cfg-${net_default_mac}\n' +
    'echo "Kiln: this rack has no boot config for ${net_default_mac} now; back to the firmware in 10 s"\n' +
    'sleep 10\nexit\n'
  );
}

/**
 * A kernel command line as the arguments of GRUB's `linux` command. GRUB's script parser treats
 * { } $ ; | & < > and backslashes outside quotes as its own syntax (an unescaped `cc:{...}end_cc`
 * is a syntax error that loses the whole menu entry), so those are escaped. Quotes stay GRUB
 * quotes, which GRUB removes, as in MAAS's GRUB configs: `cc:{'datasource_list': ['MAAS']}end_cc`
 * reaches the kernel as `cc:{datasource_list: [MAAS]}end_cc`, the same YAML to cloud-init. (GRUB
 * 2.06 hands the kernel a literal quote backslash-escaped.) Pure.
 */
export function grubKernelArgs(cmdline: string): string {
  let out = '';
  let quote = '';
  for (const ch of cmdline) {
    if (quote) {
      if (ch === quote) quote = '';
      else if (quote === '"' && (ch === '$' || ch === '\\')) out += '\\';
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if ('{}$;|&<>\\'.includes(ch)) {
      out += '\\';
    }
    out += ch;
  }
  return out;
}

/**
 * Renders what a machine should boot as a PXELINUX, GRUB or iPXE config. Pure.
 *
 * With the machine's MAC: the kernel and initrd URLs carry `?mac=`, so the HTTP server can tell
 * whose download it is (each becomes a boot step in the machine's events), and the GRUB and iPXE
 * command lines get `BOOTIF=01-<mac>`, which the `ip=...:BOOTIF` of the command line needs to pick
 * the interface (PXELINUX adds it itself: IPAPPEND 2), as MAAS's configs do.
 */
export function renderBootFile(template: BootTemplate, config: BootConfig, base: string, mac?: string): string {
  if (config.kind === 'local') {
    switch (template) {
      case 'pxelinux':
        return 'DEFAULT local\nLABEL local\n  LOCALBOOT 0\n';
      case 'grub':
        return 'set default="0"\nset timeout=0\nmenuentry "Local disk" {\n  exit\n}\n';
      case 'ipxe':
        return '#!ipxe\necho Booting from the local disk\nexit\n';
    }
  }
  if (config.kind === 'no-image') return renderNoImage(template, config.message);
  const tag = mac ? `?mac=${mac}` : '';
  const bootif = mac ? ` BOOTIF=01-${mac.replace(/:/g, '-')}` : '';
  const kernel = `${base}/images/${config.kernel}${tag}`;
  const initrd = `${base}/images/${config.initrd}${tag}`;
  switch (template) {
    case 'pxelinux':
      return `DEFAULT execute\nLABEL execute\n  KERNEL ${kernel}\n  INITRD ${initrd}\n  APPEND ${config.cmdline}\n  IPAPPEND 2\n`;
    case 'grub': {
      // The kernel and initrd over HTTP, else over TFTP from the same rack: Debian's signed network
      // GRUB has no HTTP built in (`insmod http` loads http.mod from its prefix, see
      // tools/rack/install-boot-loaders.sh) and, with Secure Boot on, loads no modules. insmod
      // reports success either way, so what decides is whether `linux` loads the kernel.
      const http = base.replace(/^http:\/\//, '(http,').replace(/\/?$/, ')');
      const tftp = `(tftp,${new URL(base).hostname})`;
      const args = grubKernelArgs(config.cmdline) + bootif;
      // `?` is a wildcard to GRUB's script parser (it would try to expand the path): escaped.
      const gtag = tag.replace('?', '\\?');
      return (
        'set default="0"\nset timeout=0\n' +
        `menuentry "${config.purpose}" {\n  echo "Kiln: ${config.purpose}"\n  insmod http\n` +
        `  if linux ${http}/images/${config.kernel}${gtag} ${args}; then\n    initrd ${http}/images/${config.initrd}${gtag}\n  else\n` +
        `    echo "Kiln: no kernel over HTTP, loading it over TFTP"\n` +
        `    linux ${tftp}/images/${config.kernel} ${args}\n    initrd ${tftp}/images/${config.initrd}\n  fi\n}\n`
      );
    }
    case 'ipxe':
      return `#!ipxe\necho Kiln: ${config.purpose}\nkernel ${kernel} ${config.cmdline}${bootif}\ninitrd ${initrd}\nboot\n`;
  }
}

/**
 * What a machine is told when the region has no image for it: the reason on its console, a
 * pause (so that it does not hammer the rack), then back to the firmware, which tries its next
 * boot option or netboots again. Pure.
 */
export function renderNoImage(template: BootTemplate, message: string): string {
  const text = `Kiln: ${message.replace(/["\\$\n]/g, ' ')}`;
  switch (template) {
    case 'pxelinux':
      return `SAY ${text}\nDEFAULT local\nTIMEOUT 300\nLABEL local\n  LOCALBOOT -1\n`;
    case 'grub':
      return `set default="0"\nset timeout=0\necho "${text}"\nsleep 30\nexit\n`;
    case 'ipxe':
      return `#!ipxe\necho ${text}\nsleep 30\nexit\n`;
  }
}

/**
 * The TFTP and HTTP servers' rendered files: the generic GRUB config (the same for every client,
 * made without asking the region), and the per-machine files, made from the region's (cached)
 * answer to "what should this MAC boot?". `serverAddressFor` picks the rack address facing the
 * client, so the URLs in the file are reachable from it.
 */
export class BootFilesRenderer implements BootFileSource {
  constructor(
    private readonly source: BootConfigSource,
    private readonly serverAddressFor: (clientAddress: string) => string,
    private readonly httpPort: number,
    private readonly log?: Logger,
  ) {}

  async render(req: BootFileRequest): Promise<RenderedBootFile | null> {
    if (req.path === GRUB_GENERIC_CONFIG_PATH) return { content: Buffer.from(renderGrubGenericConfig()) };
    const template = templateFor(req.path);
    if (!template || !req.mac) return null;
    const serverAddress = this.serverAddressFor(req.client.address);
    const answer = await this.source.get({ mac: req.mac, serverAddress });
    if (answer.config.kind === 'no-image') {
      this.log?.warn({ mac: req.mac, systemId: answer.config.systemId, arch: answer.config.arch, path: req.path }, `cannot netboot: ${answer.config.message}`);
    }
    const content = renderBootFile(template, answer.config, `http://${serverAddress}:${this.httpPort}`, req.mac);
    return {
      content: Buffer.from(content),
      contentType: template === 'ipxe' ? 'text/plain; charset=utf-8' : undefined,
      mac: req.mac,
      systemId: answer.config.systemId ?? undefined,
    };
  }
}

/** The rack address on the client's subnet (by the rack's interface CIDRs), else the first one. */
export function addressFacing(cidrs: string[], client: string): string {
  const v4 = cidrs.filter((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c));
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const c = toInt(client);
  for (const cidr of v4) {
    const [addr, bits] = cidr.split('/');
    const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
    if ((toInt(addr) & mask) === (c & mask)) return addr;
  }
  return v4[0]?.split('/')[0] ?? '127.0.0.1';
}
