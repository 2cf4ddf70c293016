/**
 * A minimal BSON encoder (bsonspec.org, version 1.1) for the flat documents the API answers in
 * BSON: op=details returns `{lshw: <binary>, lldp: <binary>}` with null for what is missing.
 * Supports null, binary (Buffer, subtype 0), UTF-8 strings, booleans and 32-bit integers; keys
 * keep their insertion order.
 */

export type BsonValue = null | Buffer | string | boolean | number;

function cstring(s: string): Buffer {
  if (s.includes('\0')) throw new Error('BSON keys cannot contain NUL');
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
}

function element(key: string, v: BsonValue): Buffer {
  if (v === null) return Buffer.concat([Buffer.from([0x0a]), cstring(key)]);
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from([0x05]), cstring(key), int32(v.length), Buffer.from([0x00]), v]);
  if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    return Buffer.concat([Buffer.from([0x02]), cstring(key), int32(bytes.length + 1), bytes, Buffer.from([0])]);
  }
  if (typeof v === 'boolean') return Buffer.concat([Buffer.from([0x08]), cstring(key), Buffer.from([v ? 1 : 0])]);
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new Error(`BSON encoder: ${v} is not a 32-bit integer`);
  return Buffer.concat([Buffer.from([0x10]), cstring(key), int32(v)]);
}

/** One BSON document: int32 total length, the elements, a closing NUL. */
export function encodeBson(doc: Readonly<Record<string, BsonValue>>): Buffer {
  const body = Buffer.concat(Object.entries(doc).map(([k, v]) => element(k, v)));
  return Buffer.concat([int32(body.length + 5), body, Buffer.from([0])]);
}
