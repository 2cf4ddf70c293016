/**
 * Option 119, the domain search list (RFC 3397): the names in DNS wire format, one after the other,
 * without compression (allowed, and what keeps the encoder trivial). Pure.
 */
export const DOMAIN_SEARCH_MAX_BYTES = 255;

/** The option's bytes for `names`; throws TypeError for a name DNS cannot carry or a list longer than one option. */
export function encodeDomainSearch(names: readonly string[]): Uint8Array {
  const out: number[] = [];
  for (const name of names) {
    const labels = name.replace(/\.$/, '').split('.');
    for (const label of labels) {
      const bytes = Buffer.from(label, 'ascii');
      if (bytes.length < 1 || bytes.length > 63) throw new TypeError(`domain search: bad label in '${name}'`);
      out.push(bytes.length, ...bytes);
    }
    out.push(0);
  }
  if (out.length > DOMAIN_SEARCH_MAX_BYTES) throw new TypeError(`domain search: ${out.length} bytes is more than one option holds`);
  return Uint8Array.from(out);
}

/** The names in option 119's bytes (uncompressed or compressed), for tests and logs. */
export function decodeDomainSearch(data: Uint8Array): string[] {
  const names: string[] = [];
  let i = 0;
  const readName = (start: number, depth: number): { name: string[]; next: number } => {
    const labels: string[] = [];
    let p = start;
    while (p < data.length) {
      const len = data[p];
      if (len === 0) return { name: labels, next: p + 1 };
      if ((len & 0xc0) === 0xc0) {
        if (depth > 8 || p + 1 >= data.length) throw new TypeError('domain search: bad pointer');
        const ptr = ((len & 0x3f) << 8) | data[p + 1];
        return { name: [...labels, ...readName(ptr, depth + 1).name], next: p + 2 };
      }
      labels.push(Buffer.from(data.subarray(p + 1, p + 1 + len)).toString('ascii'));
      p += 1 + len;
    }
    throw new TypeError('domain search: truncated');
  };
  while (i < data.length) {
    const { name, next } = readName(i, 0);
    names.push(name.join('.'));
    i = next;
  }
  return names;
}
