// Recognises the per-MAC file names that boot loaders ask for, so a rendered file can be tied to
// a machine before the region is asked:
//   PXELINUX  pxelinux.cfg/01-52-54-00-12-34-56   (ARP type 01, then the MAC with dashes)
//   GRUB      grub/grub.cfg-52:54:00:12:34:56      (also with dashes; any directory prefix)
//   iPXE      ipxe/52:54:00:12:34:56.ipxe, ipxe/mac-525400123456.ipxe, boot.ipxe?mac=...
// Pure: no I/O.

const SEP_MAC = /(?:^|[^0-9a-f])((?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2})(?![0-9a-f])/i;
const PLAIN_MAC = /(?:^|[^0-9a-z])(?:mac-?)?([0-9a-f]{12})(?![0-9a-z])/i;

/** Lower-case colon-separated form of a MAC written with ':' or '-' or without separators. */
export function normaliseMac(text: string): string | undefined {
  const hex = text.replace(/[:-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** The MAC a boot path names, or undefined. `query` is consulted for `mac=` (iPXE scripts). */
export function macFromBootPath(path: string, query?: URLSearchParams): string | undefined {
  const fromQuery = query?.get('mac');
  if (fromQuery) {
    const m = normaliseMac(fromQuery);
    if (m) return m;
  }
  const base = path.slice(path.lastIndexOf('/') + 1);
  // PXELINUX: "01-" (Ethernet hardware type) before the six octets.
  const pxe = /^01-((?:[0-9a-f]{2}-){5}[0-9a-f]{2})$/i.exec(base);
  if (pxe) return normaliseMac(pxe[1]);
  const sep = SEP_MAC.exec(base);
  if (sep) return normaliseMac(sep[1]);
  const plain = PLAIN_MAC.exec(base);
  if (plain) return normaliseMac(plain[1]);
  return undefined;
}
