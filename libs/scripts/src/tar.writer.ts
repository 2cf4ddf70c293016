/**
 * A minimal POSIX ustar writer: regular files only, fixed owner and time, so the same entries give
 * the same bytes. Paths longer than ustar allows get a PAX `path` record.
 */
export interface TarEntry {
  path: string;
  data: Uint8Array;
  mode: number;
}

const BLOCK = 512;

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar field too long: ${value}`);
  bytes.copy(buf, offset);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits followed by NUL, as GNU tar and Python's tarfile write them.
  const s = value.toString(8).padStart(length - 1, '0');
  if (s.length > length - 1) throw new Error(`tar numeric field overflow: ${value}`);
  writeString(buf, offset, length, `${s}\0`);
}

function header(name: string, prefix: string, size: number, mode: number, type: '0' | 'x', mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156);
  writeString(h, 156, 1, type);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

function pad(data: Uint8Array): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [Buffer.from(data)] : [Buffer.from(data), Buffer.alloc(BLOCK - rest, 0)];
}

/** Splits a path into ustar's (prefix, name), or undefined when it does not fit. */
function splitPath(path: string): [string, string] | undefined {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return [prefix, name];
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  // The record length counts its own digits.
  let len = bodyLen + 1;
  while (bodyLen + String(len).length !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

/** Renders entries in the order given; `mtime` is seconds since the epoch (default 0). */
export function writeTar(entries: readonly TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    let split = splitPath(e.path);
    if (!split) {
      const pax = Buffer.from(paxRecord('path', e.path), 'utf8');
      parts.push(header('PaxHeader', '', pax.length, 0o644, 'x', mtime), ...pad(pax));
      split = ['', e.path.slice(0, 100)];
      while (Buffer.byteLength(split[1]) > 100) split = ['', split[1].slice(0, -1)];
    }
    parts.push(header(split[1], split[0], e.data.length, e.mode, '0', mtime), ...pad(e.data));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
