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

/** Renders what a machine should boot as a PXELINUX, GRUB or iPXE config. Pure. */
export function renderBootFile(template: BootTemplate, config: BootConfig, base: string): string {
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
  const kernel = `${base}/images/${config.kernel}`;
  const initrd = `${base}/images/${config.initrd}`;
  switch (template) {
    case 'pxelinux':
      return `DEFAULT execute\nLABEL execute\n  KERNEL ${kernel}\n  INITRD ${initrd}\n  APPEND ${config.cmdline}\n  IPAPPEND 2\n`;
    case 'grub': {
      const g = base.replace(/^http:\/\//, '(http,').replace(/\/?$/, ')');
      return (
        'set default="0"\nset timeout=0\n' +
        `menuentry "${config.purpose}" {\n  linux ${g}/images/${config.kernel} ${config.cmdline}\n  initrd ${g}/images/${config.initrd}\n}\n`
      );
    }
    case 'ipxe':
      return `#!ipxe\necho Kiln: ${config.purpose}\nkernel ${kernel} ${config.cmdline}\ninitrd ${initrd}\nboot\n`;
  }
}

/**
 * The TFTP and HTTP servers' per-machine files, made from the region's (cached) answer to "what
 * should this MAC boot?". `serverAddressFor` picks the rack address facing the client, so the URLs
 * in the file are reachable from it.
 */
export class BootFilesRenderer implements BootFileSource {
  constructor(
    private readonly source: BootConfigSource,
    private readonly serverAddressFor: (clientAddress: string) => string,
    private readonly httpPort: number,
  ) {}

  async render(req: BootFileRequest): Promise<RenderedBootFile | null> {
    const template = templateFor(req.path);
    if (!template || !req.mac) return null;
    const serverAddress = this.serverAddressFor(req.client.address);
    const answer = await this.source.get({ mac: req.mac, serverAddress });
    const content = renderBootFile(template, answer.config, `http://${serverAddress}:${this.httpPort}`);
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
