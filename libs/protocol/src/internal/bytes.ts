// Small byte helpers shared by the codecs. Everything here is allocation-light: the DHCP codec
// runs once per datagram, and a boot storm is thousands of datagrams per second.

/** Two lower-case hex digits for every byte value, so formatting never concatenates per bit. */
export const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A Buffer view over the same memory (no copy), so Buffer's fast readers and toString apply. */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** A plain Uint8Array copy of `buf[start, end)`, never a view into the datagram. */
export function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
}

export function ipFromBytes(buf: Uint8Array, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

export function ipListFromBytes(buf: Uint8Array, start: number, end: number): string[] {
  const out: string[] = [];
  for (let i = start; i < end; i += 4) out.push(ipFromBytes(buf, i));
  return out;
}

const CODE_0 = 48;
const CODE_DOT = 46;

/**
 * Writes a dotted-quad IPv4 address at `at`. Throws `TypeError` on anything that is not exactly
 * four decimal octets 0-255 (no leading '+', no empty parts, no leading zeros beyond "0").
 */
export function writeIp(out: Uint8Array, at: number, ip: string, field: string): void {
  if (typeof ip !== 'string') throw new TypeError(`${field}: expected a dotted-quad string`);
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i <= ip.length; i++) {
    const c = i === ip.length ? CODE_DOT : ip.charCodeAt(i);
    if (c === CODE_DOT) {
      if (digits === 0 || part > 3) throw new TypeError(`${field}: not an IPv4 address: ${JSON.stringify(ip)}`);
      out[at + part] = value;
      part++;
      value = 0;
      digits = 0;
      leadingZero = false;
      continue;
    }
    const d = c - CODE_0;
    if (d < 0 || d > 9 || leadingZero) throw new TypeError(`${field}: not an IPv4 address: ${JSON.stringify(ip)}`);
    if (digits === 0 && d === 0) leadingZero = true;
    value = value * 10 + d;
    digits++;
    if (value > 255) throw new TypeError(`${field}: not an IPv4 address: ${JSON.stringify(ip)}`);
  }
  if (part !== 4) throw new TypeError(`${field}: not an IPv4 address: ${JSON.stringify(ip)}`);
}

const SCRATCH4 = new Uint8Array(4);

export function isIpv4(ip: string): boolean {
  try {
    writeIp(SCRATCH4, 0, ip, 'ip');
    return true;
  } catch {
    return false;
  }
}


/** "aa:bb:cc" style, lower case. */
export function colonHex(buf: Uint8Array, start: number, end: number): string {
  if (end <= start) return '';
  let s = HEX[buf[start]];
  for (let i = start + 1; i < end; i++) s += ':' + HEX[buf[i]];
  return s;
}

/** "aabbcc" style, lower case. Uses Buffer's native hex encoder. */
export function plainHex(buf: Uint8Array, start: number, end: number): string {
  return asBuffer(buf).toString('hex', start, end);
}

export function latin1(buf: Uint8Array, start: number, end: number): string {
  return asBuffer(buf).toString('latin1', start, end);
}

/** Throws unless every UTF-16 unit fits in one byte, so latin1 encoding is lossless. */
export function assertLatin1(s: string, field: string): void {
  if (typeof s !== 'string') throw new TypeError(`${field}: expected a string`);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      throw new TypeError(`${field}: character U+${s.charCodeAt(i).toString(16)} does not fit in one byte`);
    }
  }
}

export function assertUint(n: number, max: number, field: string): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${field}: expected an integer 0..${max}, got ${n}`);
}

/** 0..15 for a hex digit's char code, else -1. */
export function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Writes a hardware address given as "aa:bb:cc:dd:ee:ff" (or dashes) or compact hex "aabbcc" at
 * `at`, and returns its byte length. Throws `TypeError` on anything else. Hand-rolled because
 * it runs for every encoded DHCP packet.
 */
export function writeHwAddr(out: Uint8Array, at: number, text: string, max: number, field: string): number {
  if (typeof text !== 'string') throw new TypeError(`${field}: expected a hex string`);
  const bad = () => new TypeError(`${field}: not a colon-separated or compact hex address: ${JSON.stringify(text)}`);
  const sep = text.length > 2 ? text.charCodeAt(2) : 0;
  const separated = sep === 58 /* : */ || sep === 45; /* - */
  const step = separated ? 3 : 2;
  if (separated ? (text.length + 1) % 3 !== 0 : text.length % 2 !== 0) throw bad();
  const n = separated ? (text.length + 1) / 3 : text.length / 2;
  if (n > max) throw new TypeError(`${field}: longer than ${max} bytes`);
  for (let k = 0; k < n; k++) {
    const i = k * step;
    const hi = hexNibble(text.charCodeAt(i));
    const lo = hexNibble(text.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) throw bad();
    if (separated && k < n - 1 && text.charCodeAt(i + 2) !== sep) throw bad();
    out[at + k] = (hi << 4) | lo;
  }
  return n;
}
