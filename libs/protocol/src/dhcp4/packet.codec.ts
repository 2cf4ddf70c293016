// DHCPv4 / BOOTP packet codec (RFC 2131 2, RFC 2132 2-3 and 9.3, RFC 3396).
//
//   0      op htype hlen hops          4     xid
//   8      secs flags                  12    ciaddr   16 yiaddr   20 siaddr   24 giaddr
//   28     chaddr (16)                 44    sname (64)           108 file (128)
//   236    magic cookie 99.130.83.99   240   options ... 255 (end), zero padding
//
// decodeDhcp4 throws only MalformedPacketError. encodeDhcp4 is deterministic: option 53 first,
// then the other options by ascending code, option 82 last (RFC 3046 2.2: servers SHOULD echo
// it as the last option, relay agents append it last), then end, then zero padding to the
// 300-byte BOOTP minimum. Payloads over 255 bytes are split into consecutive options of the same
// code (RFC 3396), which decodeDhcp4 concatenates again.
import type { Codec } from '../codec';
import { MalformedPacketError } from '../errors';
import {
  asBuffer,
  assertLatin1,
  assertUint,
  colonHex,
  copyBytes,
  ipFromBytes,
  plainHex,
  writeHwAddr,
  writeIp,
} from '../internal/bytes';
import { decodeTypedOption, Dhcp4Options, PayloadWriter, RawOption, writeOptions } from './options';

export enum BootOp {
  REQUEST = 1,
  REPLY = 2,
}

export const DHCP4_SERVER_PORT = 67;
export const DHCP4_CLIENT_PORT = 68;
/** RFC 951 / RFC 1542: BOOTP packets are at least 300 bytes; some relays and clients insist. */
export const BOOTP_MIN_LENGTH = 300;
/** Fixed header plus magic cookie. */
export const DHCP4_HEADER_LENGTH = 240;
export const DHCP4_MAGIC_COOKIE = 0x63825363;

export interface Dhcp4Packet {
  op: BootOp;
  /** Hardware type; 1 = Ethernet. */
  htype: number;
  /** Hardware address length, 0..16. */
  hlen: number;
  hops: number;
  /** Transaction id, unsigned 32-bit. */
  xid: number;
  secs: number;
  /** The reserved flag bits must be zero (RFC 2131 2) and are neither decoded nor encoded. */
  flags: { broadcast: boolean };
  ciaddr: string;
  yiaddr: string;
  /** Next server (TFTP) address. */
  siaddr: string;
  /** Relay agent address; "0.0.0.0" when not relayed. */
  giaddr: string;
  /**
   * "52:54:00:77:00:00" for Ethernet (htype 1, hlen 6); otherwise the first `hlen` bytes as
   * compact lower-case hex ("" when hlen is 0, as InfiniBand clients send).
   */
  chaddr: string;
  /** Server host name: the NUL-terminated string in the 64-byte field; "" when overloaded. */
  sname: string;
  /** Boot file name: the NUL-terminated string in the 128-byte field; "" when overloaded. */
  file: string;
  options: Dhcp4Options;
}

const OP = 0;
const HTYPE = 1;
const HLEN = 2;
const HOPS = 3;
const XID = 4;
const SECS = 8;
const FLAGS = 10;
const CIADDR = 12;
const YIADDR = 16;
const SIADDR = 20;
const GIADDR = 24;
const CHADDR = 28;
const SNAME = 44;
const FILE = 108;
const COOKIE = 236;
const OPTIONS = 240;
const SNAME_LEN = 64;
const FILE_LEN = 128;
const BROADCAST_BIT = 0x8000;

function malformed(kind: ConstructorParameters<typeof MalformedPacketError>[1], message: string, offset?: number) {
  return new MalformedPacketError('dhcp4', kind, message, offset);
}

// Scratch state reused across calls; decode and encode are synchronous and never re-entered.
/** Flat (code, start, end) triples of every option instance, in wire order. */
const segments: number[] = [];
/** Instances per code in the current packet. */
const counts = new Int32Array(256);

/** Records the options of one area (options field, file or sname) in `segments`. */
function scanArea(b: Uint8Array, start: number, end: number, overloaded: boolean): void {
  let i = start;
  while (i < end) {
    const code = b[i];
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) return;
    if (i + 1 >= end) throw malformed('bad-option-length', `option ${code} has no length byte`, i);
    const len = b[i + 1];
    const s = i + 2;
    if (s + len > end) throw malformed('bad-option-length', `option ${code} needs ${len} bytes, ${end - s} left`, i);
    if (overloaded && code === 52) throw malformed('bad-option', 'option 52 inside an overloaded sname/file field', i);
    segments.push(code, s, s + len);
    counts[code]++;
    i = s + len;
  }
  // A missing 'end' is tolerated: the area simply ran out.
}

// payloadOf's result, in module variables rather than a fresh tuple per option.
const EMPTY = Buffer.alloc(0);
let pData: Buffer = EMPTY;
let pStart = 0;
let pEnd = 0;

/** Sets pData[pStart, pEnd) to the payload of `code`: the packet itself when it appeared once, else the RFC 3396 concatenation. */
function payloadOf(b: Buffer, code: number, firstIndex: number): void {
  if (counts[code] === 1) {
    pData = b;
    pStart = segments[firstIndex + 1];
    pEnd = segments[firstIndex + 2];
    return;
  }
  let total = 0;
  for (let k = firstIndex; k < segments.length; k += 3) {
    if (segments[k] === code) total += segments[k + 2] - segments[k + 1];
  }
  const joined = Buffer.allocUnsafe(total);
  let at = 0;
  for (let k = firstIndex; k < segments.length; k += 3) {
    if (segments[k] !== code) continue;
    at += b.copy(joined, at, segments[k + 1], segments[k + 2]);
  }
  pData = joined;
  pStart = 0;
  pEnd = total;
}

function cString(b: Buffer, start: number, len: number): string {
  if (b[start] === 0) return '';
  let end = start;
  const limit = start + len;
  while (end < limit && b[end] !== 0) end++;
  return b.toString('latin1', start, end);
}

export function decodeDhcp4(buf: Uint8Array): Dhcp4Packet {
  if (buf.length < OPTIONS) throw malformed('truncated', `${buf.length} bytes, the header alone is ${OPTIONS}`);
  // A view, not a copy (dgram hands us Buffers already); gives the native latin1 decoder.
  const b = asBuffer(buf);
  const op = b[OP];
  if (op !== BootOp.REQUEST && op !== BootOp.REPLY) throw malformed('bad-field', `op ${op} is neither 1 nor 2`, OP);
  const htype = b[HTYPE];
  const hlen = b[HLEN];
  if (hlen > 16) throw malformed('bad-field', `hlen ${hlen} exceeds the 16-byte chaddr field`, HLEN);
  if (b[COOKIE] !== 99 || b[COOKIE + 1] !== 130 || b[COOKIE + 2] !== 83 || b[COOKIE + 3] !== 99) {
    throw malformed('bad-cookie', 'no DHCP magic cookie', COOKIE);
  }

  segments.length = 0;
  counts.fill(0);
  scanArea(b, OPTIONS, b.length, false);

  // Option 52 (RFC 2132 9.3): 1 = file carries options, 2 = sname, 3 = both; file is read first.
  let overload = 0;
  if (counts[52] > 0) {
    payloadOf(b, 52, firstSegmentOf(52));
    if (pEnd - pStart === 1 && pData[pStart] >= 1 && pData[pStart] <= 3) overload = pData[pStart];
  }
  if (overload & 1) scanArea(b, FILE, FILE + FILE_LEN, true);
  if (overload & 2) scanArea(b, SNAME, SNAME + SNAME_LEN, true);

  const options: Dhcp4Options = {};
  let raw: RawOption[] | undefined;
  for (let k = 0; k < segments.length; k += 3) {
    const code = segments[k];
    if (counts[code] < 0) continue; // already handled (repeated option)
    payloadOf(b, code, k);
    counts[code] = -1;
    if (code === 52 && overload !== 0) continue; // consumed: sname/file were read as options
    if (!decodeTypedOption(options, code, pData, pStart, pEnd)) {
      (raw ??= []).push({ code, data: copyBytes(pData, pStart, pEnd) });
    }
  }
  if (raw) {
    if (raw.length > 1) raw.sort((x, y) => x.code - y.code);
    options.raw = raw;
  }
  pData = EMPTY; // do not keep the datagram alive until the next call

  return {
    op,
    htype,
    hlen,
    hops: b[HOPS],
    xid: ((b[XID] << 24) | (b[XID + 1] << 16) | (b[XID + 2] << 8) | b[XID + 3]) >>> 0,
    secs: (b[SECS] << 8) | b[SECS + 1],
    flags: { broadcast: (b[FLAGS] & 0x80) !== 0 },
    ciaddr: ipFromBytes(b, CIADDR),
    yiaddr: ipFromBytes(b, YIADDR),
    siaddr: ipFromBytes(b, SIADDR),
    giaddr: ipFromBytes(b, GIADDR),
    chaddr: htype === 1 && hlen === 6 ? colonHex(b, CHADDR, CHADDR + 6) : plainHex(b, CHADDR, CHADDR + hlen),
    sname: overload & 2 ? '' : cString(b, SNAME, SNAME_LEN),
    file: overload & 1 ? '' : cString(b, FILE, FILE_LEN),
    options,
  };
}

function firstSegmentOf(code: number): number {
  for (let k = 0; k < segments.length; k += 3) if (segments[k] === code) return k;
  return -1;
}

// ---------------------------------------------------------------------------------------------

const writer = new PayloadWriter();
/** Indexes (into writer.entries) of the options, in wire order. */
const order: number[] = [];

function sortKey(code: number): number {
  if (code === 53) return -1;
  if (code === 82) return 256;
  return code;
}

/** Serialises the options into `writer` and orders them; returns the options area length. */
function layoutOptions(p: Dhcp4Packet): number {
  writer.reset();
  if (p.options === null || typeof p.options !== 'object') throw new TypeError('options: expected an object');
  writeOptions(p.options, writer);
  const e = writer.entries;
  order.length = 0;
  for (let k = 0; k < e.length; k += 3) {
    // Insertion sort: a packet has a handful of options and most arrive nearly sorted.
    const key = sortKey(e[k]);
    let j = order.length;
    order.push(k);
    while (j > 0 && sortKey(e[order[j - 1]]) > key) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = k;
    if (j > 0 && e[order[j - 1]] === e[k]) throw new TypeError(`option ${e[k]} given twice (typed field and raw?)`);
    if (j + 1 < order.length && e[order[j + 1]] === e[k]) {
      throw new TypeError(`option ${e[k]} given twice (typed field and raw?)`);
    }
  }
  let total = 1; // end
  for (let k = 0; k < e.length; k += 3) {
    const len = e[k + 2];
    const pieces = len === 0 ? 1 : Math.ceil(len / 255);
    total += 2 * pieces + len;
  }
  return total;
}

/** Bytes `encodeDhcp4(p)` will produce. */
export function dhcp4EncodingLength(p: Dhcp4Packet): number {
  return Math.max(BOOTP_MIN_LENGTH, OPTIONS + layoutOptions(p));
}

function writeCString(out: Buffer, at: number, max: number, s: string, field: string): void {
  if (s === '') return;
  assertLatin1(s, field);
  if (s.length > max) throw new RangeError(`${field}: at most ${max} bytes`);
  out.write(s, at, 'latin1');
}

export function encodeDhcp4(p: Dhcp4Packet): Buffer {
  const optionsLength = layoutOptions(p);
  // From Node's pool (no zeroed ArrayBuffer per packet), then cleared.
  const out = Buffer.allocUnsafe(Math.max(BOOTP_MIN_LENGTH, OPTIONS + optionsLength)).fill(0);

  if (p.op !== BootOp.REQUEST && p.op !== BootOp.REPLY) throw new TypeError(`op: expected 1 or 2, got ${p.op}`);
  out[OP] = p.op;
  assertUint(p.htype, 0xff, 'htype');
  out[HTYPE] = p.htype;
  assertUint(p.hlen, 16, 'hlen');
  out[HLEN] = p.hlen;
  assertUint(p.hops, 0xff, 'hops');
  out[HOPS] = p.hops;
  assertUint(p.xid, 0xffffffff, 'xid');
  out.writeUInt32BE(p.xid, XID);
  assertUint(p.secs, 0xffff, 'secs');
  out.writeUInt16BE(p.secs, SECS);
  if (p.flags.broadcast) out.writeUInt16BE(BROADCAST_BIT, FLAGS);
  writeIp(out, CIADDR, p.ciaddr, 'ciaddr');
  writeIp(out, YIADDR, p.yiaddr, 'yiaddr');
  writeIp(out, SIADDR, p.siaddr, 'siaddr');
  writeIp(out, GIADDR, p.giaddr, 'giaddr');
  const n = writeHwAddr(out, CHADDR, p.chaddr, 16, 'chaddr');
  if (n !== p.hlen) throw new TypeError(`chaddr: ${n} bytes but hlen is ${p.hlen}`);
  writeCString(out, SNAME, SNAME_LEN, p.sname, 'sname');
  writeCString(out, FILE, FILE_LEN, p.file, 'file');
  out.writeUInt32BE(DHCP4_MAGIC_COOKIE, COOKIE);

  const e = writer.entries;
  const src = writer.buf;
  let at = OPTIONS;
  for (const k of order) {
    const code = e[k];
    let s = e[k + 1];
    let left = e[k + 2];
    do {
      const piece = left > 255 ? 255 : left;
      out[at++] = code;
      out[at++] = piece;
      for (let j = 0; j < piece; j++) out[at++] = src[s++];
      left -= piece;
    } while (left > 0);
  }
  out[at] = 255;
  return out;
}

/** The codec as one object, for `expectCodecLaws` and for servers that take a codec. */
export const dhcp4Codec: Codec<Dhcp4Packet> = {
  decode: decodeDhcp4,
  encode: encodeDhcp4,
  encodingLength: dhcp4EncodingLength,
};
