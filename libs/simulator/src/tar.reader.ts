import { gunzipSync } from 'node:zlib';

const BLOCK = 512;

function text(buf: Buffer, offset: number, length: number): string {
  const raw = buf.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
}

function octal(buf: Buffer, offset: number, length: number): number {
  const s = text(buf, offset, length).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** PAX extended header records ("<len> key=value\n"). */
function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number(data.subarray(i, space).toString());
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** The regular files of a tar (plain or gzip-compressed, as a runner opening it "r:*" accepts). */
export function readTar(archive: Uint8Array): Map<string, Buffer> {
  let buf = Buffer.from(archive);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const files = new Map<string, Buffer>();
  let offset = 0;
  let nextPath: string | null = null;
  while (offset + BLOCK <= buf.length) {
    const h = buf.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const prefix = text(h, 345, 155);
    const name = text(h, 0, 100);
    const data = buf.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      nextPath = paxRecords(data).path ?? null;
      continue;
    }
    if (type === 'L') {
      nextPath = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const path = nextPath ?? (prefix ? `${prefix}/${name}` : name);
    nextPath = null;
    if (type === '0' || type === '\0') files.set(path.replace(/^\.\//, ''), Buffer.from(data));
  }
  return files;
}
