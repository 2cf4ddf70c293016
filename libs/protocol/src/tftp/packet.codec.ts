// TFTP packet codec (RFC 1350, option extension RFC 2347, options RFC 2348, 2349, 7440).
//
//   RRQ/WRQ  | 01/02 | filename | 0 | mode | 0 | opt1 | 0 | value1 | 0 | ...
//   DATA     | 03 | block | data (0..blksize bytes)
//   ACK      | 04 | block
//   ERROR    | 05 | code | message | 0
//   OACK     | 06 | opt1 | 0 | value1 | 0 | ...
//
// decodeTftp throws only MalformedPacketError. encodeTftp is deterministic: the mode and the
// known option names in lower case, known options in the order blksize, timeout, tsize,
// windowsize, then unknown options in the order given.
import type { Codec } from '../codec';
import { MalformedKind, MalformedPacketError } from '../errors';
import { asBuffer, assertLatin1, assertUint, copyBytes } from '../internal/bytes';

export enum TftpOpcode {
  RRQ = 1,
  WRQ = 2,
  DATA = 3,
  ACK = 4,
  ERROR = 5,
  OACK = 6,
}

/** RFC 1350 error codes, plus 8 from RFC 2347. Decoded packets may carry other numbers. */
export enum TftpErrorCode {
  NOT_DEFINED = 0,
  FILE_NOT_FOUND = 1,
  ACCESS_VIOLATION = 2,
  DISK_FULL = 3,
  ILLEGAL_OPERATION = 4,
  UNKNOWN_TID = 5,
  FILE_EXISTS = 6,
  NO_SUCH_USER = 7,
  /** RFC 2347: the client refuses the server's OACK. */
  OPTION_NEGOTIATION = 8,
}

export const TFTP_PORT = 69;

export type TftpMode = 'netascii' | 'octet' | 'mail';

export interface TftpUnknownOption {
  /** As received (case kept). */
  name: string;
  value: string;
}

/**
 * Options of a request or OACK. A known option whose value is not a decimal integer is kept in
 * `unknown` (RFC 2347: a server ignores options it cannot honour), so it is never negotiated.
 */
export interface TftpOptions {
  /** RFC 2348: bytes per DATA block, 8..65464. */
  blksize?: number;
  /** RFC 2349: retransmission timeout in seconds, 1..255. */
  timeout?: number;
  /** RFC 2349: transfer size in bytes; 0 in an RRQ asks the server for the size. */
  tsize?: number;
  /** RFC 7440: blocks sent per ACK, 1..65535. */
  windowsize?: number;
  /** Options not listed above, in the order received. Absent when empty. */
  unknown?: TftpUnknownOption[];
}

export interface TftpRequestPacket {
  opcode: TftpOpcode.RRQ | TftpOpcode.WRQ;
  /** Decoded as UTF-8 (invalid UTF-8 is malformed); pass it through `confinePath` before use. */
  filename: string;
  /** Lower-cased (the wire form is case-insensitive). */
  mode: TftpMode;
  options: TftpOptions;
}

export interface TftpDataPacket {
  opcode: TftpOpcode.DATA;
  block: number;
  data: Uint8Array;
}

export interface TftpAckPacket {
  opcode: TftpOpcode.ACK;
  block: number;
}

export interface TftpErrorPacket {
  opcode: TftpOpcode.ERROR;
  code: number;
  message: string;
}

export interface TftpOackPacket {
  opcode: TftpOpcode.OACK;
  options: TftpOptions;
}

export type TftpPacket = TftpRequestPacket | TftpDataPacket | TftpAckPacket | TftpErrorPacket | TftpOackPacket;

const KNOWN = ['blksize', 'timeout', 'tsize', 'windowsize'] as const;
type KnownOption = (typeof KNOWN)[number];
const MODES: readonly TftpMode[] = ['netascii', 'octet', 'mail'];
const DECIMAL = /^[0-9]{1,16}$/;

function malformed(kind: MalformedKind, message: string, offset?: number) {
  return new MalformedPacketError('tftp', kind, message, offset);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Index of the NUL ending the string that starts at `start`, or -1. */
function nulFrom(b: Uint8Array, start: number): number {
  return b.indexOf(0, start);
}

function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] > 0x7f) return false;
  return true;
}

function decodeFilename(b: Uint8Array, start: number, end: number): string {
  if (isAscii(b, start, end)) return asBuffer(b).toString('latin1', start, end);
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    throw malformed('bad-string', 'filename is not valid UTF-8', start);
  }
}

function parseDecimal(v: string): number | undefined {
  if (!DECIMAL.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

function allZero(b: Uint8Array, start: number): boolean {
  for (let i = start; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Option pairs from `start` to the end of the packet. */
function decodeOptions(b: Uint8Array, start: number): TftpOptions {
  const options: TftpOptions = {};
  const buf = asBuffer(b);
  let seen = 0;
  let i = start;
  while (i < b.length) {
    // Some PXE ROMs pad requests with NULs after the last option; that is not an option.
    if (b[i] === 0 && allZero(b, i)) break;
    const nameEnd = nulFrom(b, i);
    if (nameEnd < 0) throw malformed('truncated', 'option name without NUL', i);
    if (nameEnd === i) throw malformed('bad-option-pair', 'empty option name', i);
    const valueStart = nameEnd + 1;
    if (valueStart >= b.length) throw malformed('bad-option-pair', 'option without a value', i);
    const valueEnd = nulFrom(b, valueStart);
    if (valueEnd < 0) throw malformed('truncated', 'option value without NUL', valueStart);
    const name = buf.toString('latin1', i, nameEnd);
    const value = buf.toString('latin1', valueStart, valueEnd);
    const known = KNOWN.indexOf(name.toLowerCase() as KnownOption);
    if (known >= 0) {
      if (seen & (1 << known)) throw malformed('duplicate-option', `option ${KNOWN[known]} given twice`, i);
      seen |= 1 << known;
    }
    const n = known >= 0 ? parseDecimal(value) : undefined;
    if (n !== undefined) options[KNOWN[known]] = n;
    else (options.unknown ??= []).push({ name, value });
    i = valueEnd + 1;
  }
  return options;
}

export function decodeTftp(buf: Uint8Array): TftpPacket {
  const b = buf;
  if (b.length < 2) throw malformed('truncated', `${b.length} bytes, no opcode`);
  const opcode = (b[0] << 8) | b[1];
  switch (opcode) {
    case TftpOpcode.RRQ:
    case TftpOpcode.WRQ: {
      const nameEnd = nulFrom(b, 2);
      if (nameEnd < 0) throw malformed('truncated', 'filename without NUL', 2);
      const modeEnd = nulFrom(b, nameEnd + 1);
      if (modeEnd < 0) throw malformed('truncated', 'mode without NUL', nameEnd + 1);
      const mode = asBuffer(b).toString('latin1', nameEnd + 1, modeEnd).toLowerCase();
      if (!MODES.includes(mode as TftpMode)) throw malformed('bad-mode', `mode ${JSON.stringify(mode)}`, nameEnd + 1);
      return {
        opcode,
        filename: decodeFilename(b, 2, nameEnd),
        mode: mode as TftpMode,
        options: decodeOptions(b, modeEnd + 1),
      };
    }
    case TftpOpcode.DATA:
      if (b.length < 4) throw malformed('truncated', 'DATA without block number');
      return { opcode, block: (b[2] << 8) | b[3], data: copyBytes(b, 4, b.length) };
    case TftpOpcode.ACK:
      // Trailing bytes are ignored, as tftp-hpa does.
      if (b.length < 4) throw malformed('truncated', 'ACK without block number');
      return { opcode, block: (b[2] << 8) | b[3] };
    case TftpOpcode.ERROR: {
      if (b.length < 4) throw malformed('truncated', 'ERROR without code');
      // A missing terminating NUL is tolerated: the message runs to the end of the packet.
      const end = nulFrom(b, 4);
      return {
        opcode,
        code: (b[2] << 8) | b[3],
        message: asBuffer(b).toString('latin1', 4, end < 0 ? b.length : end),
      };
    }
    case TftpOpcode.OACK:
      return { opcode, options: decodeOptions(b, 2) };
    default:
      throw malformed('bad-opcode', `opcode ${opcode}`, 0);
  }
}

// ---------------------------------------------------------------------------------------------

function assertNoNul(s: string, field: string): void {
  if (s.includes('\0')) throw new TypeError(`${field}: contains NUL`);
}

/** The option (name, value) pairs in wire order. */
function optionPairs(o: TftpOptions): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let emitted = 0;
  KNOWN.forEach((name, k) => {
    const v = o[name];
    if (v === undefined) return;
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`option ${name}: expected a non-negative integer`);
    emitted |= 1 << k;
    pairs.push([name, String(v)]);
  });
  for (const u of o.unknown ?? []) {
    if (typeof u.name !== 'string' || u.name === '') throw new TypeError('option name: expected a non-empty string');
    assertLatin1(u.name, 'option name');
    assertLatin1(u.value, `option ${u.name}`);
    assertNoNul(u.name, 'option name');
    assertNoNul(u.value, `option ${u.name}`);
    // A known name may sit here with a value that is not a number, but only once.
    const k = KNOWN.indexOf(u.name.toLowerCase() as KnownOption);
    if (k >= 0) {
      if (emitted & (1 << k)) throw new TypeError(`option ${u.name}: given twice`);
      emitted |= 1 << k;
    }
    pairs.push([u.name, u.value]);
  }
  return pairs;
}

function pairsLength(pairs: Array<[string, string]>): number {
  let n = 0;
  for (const [k, v] of pairs) n += k.length + v.length + 2;
  return n;
}

function writePairs(out: Buffer, at: number, pairs: Array<[string, string]>): number {
  for (const [k, v] of pairs) {
    at += out.write(k, at, 'latin1');
    out[at++] = 0;
    at += out.write(v, at, 'latin1');
    out[at++] = 0;
  }
  return at;
}

function checkRequest(p: TftpRequestPacket): void {
  if (typeof p.filename !== 'string') throw new TypeError('filename: expected a string');
  assertNoNul(p.filename, 'filename');
  if (!MODES.includes(p.mode)) throw new TypeError(`mode: expected netascii, octet or mail, got ${p.mode}`);
}

export function tftpEncodingLength(p: TftpPacket): number {
  switch (p.opcode) {
    case TftpOpcode.RRQ:
    case TftpOpcode.WRQ:
      checkRequest(p);
      return 2 + Buffer.byteLength(p.filename, 'utf8') + 1 + p.mode.length + 1 + pairsLength(optionPairs(p.options));
    case TftpOpcode.DATA:
      return 4 + p.data.length;
    case TftpOpcode.ACK:
      return 4;
    case TftpOpcode.ERROR:
      return 4 + p.message.length + 1;
    case TftpOpcode.OACK:
      return 2 + pairsLength(optionPairs(p.options));
    default:
      throw new TypeError(`opcode: ${(p as { opcode: unknown }).opcode} is not a TFTP opcode`);
  }
}

export function encodeTftp(p: TftpPacket): Buffer {
  switch (p.opcode) {
    case TftpOpcode.RRQ:
    case TftpOpcode.WRQ: {
      checkRequest(p);
      const pairs = optionPairs(p.options);
      const nameLen = Buffer.byteLength(p.filename, 'utf8');
      const out = Buffer.allocUnsafe(2 + nameLen + 1 + p.mode.length + 1 + pairsLength(pairs));
      out.writeUInt16BE(p.opcode, 0);
      let at = 2 + out.write(p.filename, 2, 'utf8');
      out[at++] = 0;
      at += out.write(p.mode, at, 'latin1');
      out[at++] = 0;
      writePairs(out, at, pairs);
      return out;
    }
    case TftpOpcode.DATA: {
      assertUint(p.block, 0xffff, 'block');
      if (!(p.data instanceof Uint8Array)) throw new TypeError('data: expected a Uint8Array');
      const out = Buffer.allocUnsafe(4 + p.data.length);
      out.writeUInt16BE(TftpOpcode.DATA, 0);
      out.writeUInt16BE(p.block, 2);
      out.set(p.data, 4);
      return out;
    }
    case TftpOpcode.ACK: {
      assertUint(p.block, 0xffff, 'block');
      const out = Buffer.allocUnsafe(4);
      out.writeUInt16BE(TftpOpcode.ACK, 0);
      out.writeUInt16BE(p.block, 2);
      return out;
    }
    case TftpOpcode.ERROR: {
      assertUint(p.code, 0xffff, 'code');
      assertLatin1(p.message, 'message');
      assertNoNul(p.message, 'message');
      const out = Buffer.allocUnsafe(4 + p.message.length + 1);
      out.writeUInt16BE(TftpOpcode.ERROR, 0);
      out.writeUInt16BE(p.code, 2);
      out.write(p.message, 4, 'latin1');
      out[out.length - 1] = 0;
      return out;
    }
    case TftpOpcode.OACK: {
      const pairs = optionPairs(p.options);
      const out = Buffer.allocUnsafe(2 + pairsLength(pairs));
      out.writeUInt16BE(TftpOpcode.OACK, 0);
      writePairs(out, 2, pairs);
      return out;
    }
    default:
      throw new TypeError(`opcode: ${(p as { opcode: unknown }).opcode} is not a TFTP opcode`);
  }
}

/** Bytes before the payload of a DATA packet (opcode, block). */
export const TFTP_DATA_HEADER_LENGTH = 4;

/**
 * Writes a DATA header (opcode 3, `block`) into `out[0..4)`, for servers that read the payload
 * straight into `out[4..]` and so avoid the copy `encodeTftp` makes. `decodeTftp(out)` is then
 * the DATA packet `{ block, data: out.subarray(4) }`.
 */
export function writeTftpDataHeader(out: Uint8Array, block: number): void {
  assertUint(block, 0xffff, 'block');
  if (out.length < TFTP_DATA_HEADER_LENGTH) throw new RangeError('out: shorter than a DATA header');
  out[0] = 0;
  out[1] = TftpOpcode.DATA;
  out[2] = block >>> 8;
  out[3] = block & 0xff;
}

export const tftpCodec: Codec<TftpPacket> = {
  decode: decodeTftp,
  encode: encodeTftp,
  encodingLength: tftpEncodingLength,
};
