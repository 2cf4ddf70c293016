// Typed DHCPv4 options (RFC 2132, 3004, 3046, 3442, 4578, iPXE 175) and their byte forms.
//
// One table (`DHCP4_OPTION_TABLE`: code, field name, value type) drives both directions: the
// decoder looks an option up by code, the encoder by field name, and each value type has one
// byte codec. Adding an option is one table row (and its field in `Dhcp4Options`).
//
// Decoding is lossless: an option becomes a typed field only when its bytes fit that type
// exactly (an address option is 4 bytes, a lease time 4 bytes, ...). Anything else, including
// codes this module does not know, lands in `raw` and is re-encoded byte for byte. So a client
// with a quirky option 97 still gets its packet decoded; the handler simply sees no
// `clientMachineId`.
import {
  assertLatin1,
  assertUint,
  colonHex,
  copyBytes,
  HEX,
  hexNibble,
  ipFromBytes,
  ipListFromBytes,
  latin1,
  writeIp,
} from '../internal/bytes';

/** Option codes this library knows by name. */
export const DhcpOption = {
  PAD: 0,
  SUBNET_MASK: 1,
  TIME_OFFSET: 2,
  ROUTERS: 3,
  DNS_SERVERS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  INTERFACE_MTU: 26,
  BROADCAST_ADDRESS: 28,
  NTP_SERVERS: 42,
  VENDOR_SPECIFIC: 43,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS_ID: 60,
  CLIENT_ID: 61,
  TFTP_SERVER_NAME: 66,
  BOOTFILE_NAME: 67,
  USER_CLASS: 77,
  RELAY_AGENT_INFO: 82,
  CLIENT_ARCH: 93,
  CLIENT_NDI: 94,
  CLIENT_MACHINE_ID: 97,
  DOMAIN_SEARCH: 119,
  CLASSLESS_STATIC_ROUTES: 121,
  IPXE: 175,
  END: 255,
} as const;

/** Option 53 (RFC 2132 9.6). */
export enum DhcpMessageType {
  DISCOVER = 1,
  OFFER = 2,
  REQUEST = 3,
  DECLINE = 4,
  ACK = 5,
  NAK = 6,
  RELEASE = 7,
  INFORM = 8,
}

/**
 * Option 93, client system architecture (RFC 4578 2.1 and the IANA "Processor Architecture Types"
 * registry). A client may send several; PXE firmware sends one.
 */
export enum ClientArch {
  X86_BIOS = 0,
  NEC_PC98 = 1,
  EFI_ITANIUM = 2,
  DEC_ALPHA = 3,
  ARC_X86 = 4,
  INTEL_LEAN_CLIENT = 5,
  EFI_IA32 = 6,
  /** IANA "EFI BC" (byte code); in practice what x86-64 UEFI firmware (OVMF, most vendors) sends. */
  EFI_X86_64_BC = 7,
  EFI_XSCALE = 8,
  EFI_X86_64 = 9,
  EFI_ARM32 = 10,
  EFI_ARM64 = 11,
  POWERPC_OPEN_FIRMWARE = 12,
  POWERPC_EPAPR = 13,
  POWER_OPAL_V3 = 14,
  EFI_X86_HTTP = 15,
  EFI_X86_64_HTTP = 16,
  EFI_BC_HTTP = 17,
  EFI_ARM32_HTTP = 18,
  EFI_ARM64_HTTP = 19,
  X86_BIOS_HTTP = 20,
  ARM32_UBOOT = 21,
  ARM64_UBOOT = 22,
  ARM32_UBOOT_HTTP = 23,
  ARM64_UBOOT_HTTP = 24,
  EFI_RISCV32 = 25,
  EFI_RISCV32_HTTP = 26,
  EFI_RISCV64 = 27,
  EFI_RISCV64_HTTP = 28,
}

/** The arch name for logs ("EFI_X86_64_BC"), or "arch-<n>" for codes outside the enum. */
export function clientArchName(code: number): string {
  return ClientArch[code] ?? `arch-${code}`;
}

/** True for the UEFI HTTP-boot architectures (the client wants a URL in option 67). */
export function isHttpBootArch(code: number): boolean {
  return code >= ClientArch.EFI_X86_HTTP && code <= ClientArch.X86_BIOS_HTTP;
}

/** One option or sub-option kept as bytes. */
export interface RawOption {
  code: number;
  data: Uint8Array;
}

/**
 * Option 77. RFC 3004 says a list of length-prefixed classes; iPXE (and some older clients) send
 * the bare string "iPXE" instead. Decoding picks 'rfc3004' when the bytes parse exactly as a
 * non-empty list of non-empty classes, and 'plain' otherwise, so both re-encode unchanged.
 */
export type UserClass = { format: 'rfc3004'; classes: string[] } | { format: 'plain'; value: string };

/** The class strings whichever the format ("iPXE" plain gives ["iPXE"]). */
export function userClassStrings(uc: UserClass | undefined): string[] {
  if (!uc) return [];
  return uc.format === 'rfc3004' ? uc.classes : [uc.value];
}

/**
 * Option 82 (RFC 3046), added by a relay agent. The server echoes it in every reply
 * (RFC 3046 2.2); `reply.builder.ts` does that.
 */
export interface RelayAgentInfo {
  /** Sub-option 1: agent-local circuit (often "ifname:vlan" text, sometimes binary). */
  circuitId?: Uint8Array;
  /** Sub-option 2: the remote end of the circuit. */
  remoteId?: Uint8Array;
  /** Every other sub-option, in the order received. */
  other?: RawOption[];
}

/** Option 94 (RFC 4578 2.2): UNDI interface type and version, e.g. {1, 3, 16} = "UNDI:003016". */
export interface ClientNdi {
  type: number;
  major: number;
  minor: number;
}

/**
 * Option 97 (RFC 4578 2.3): a type byte (0 = GUID) and 16 bytes.
 *
 * `uuid` is the canonical RFC 4122 text form, the same string `dmidecode -s system-uuid` prints.
 * On the wire PXE (like SMBIOS 2.6+ and EFI) stores the first three fields little-endian; the
 * codec swaps them both ways.
 */
export interface ClientMachineId {
  type: number;
  uuid: string;
}

/**
 * One route of option 121 (RFC 3442). `destination` is CIDR text ("10.20.0.0/16"); only the
 * significant octets of its address (ceil(prefix / 8)) travel on the wire.
 */
export interface ClasslessRoute {
  destination: string;
  router: string;
}

/** The typed options of one packet. A key is present only when the option was. */
export interface Dhcp4Options {
  /** 53 */ messageType?: DhcpMessageType;
  /** 1 */ subnetMask?: string;
  /** 3 */ routers?: string[];
  /** 6 */ dnsServers?: string[];
  /** 12 */ hostname?: string;
  /** 15 */ domainName?: string;
  /** 26 */ interfaceMtu?: number;
  /** 28 */ broadcastAddress?: string;
  /** 42 */ ntpServers?: string[];
  /** 43, vendor-specific information, kept as bytes. */ vendorSpecific?: Uint8Array;
  /** 50 */ requestedIp?: string;
  /** 51, seconds */ leaseTime?: number;
  /** 54 */ serverId?: string;
  /** 55, option codes in the client's order of preference */ parameterRequestList?: number[];
  /** 56, text for NAK / DECLINE */ message?: string;
  /** 57 */ maxMessageSize?: number;
  /** 58, T1 seconds */ renewalTime?: number;
  /** 59, T2 seconds */ rebindingTime?: number;
  /** 60, e.g. "PXEClient:Arch:00007:UNDI:003016" */ vendorClassId?: string;
  /** 61, type byte then identifier (1 + MAC for Ethernet clients); see `formatClientId`. */ clientId?: Uint8Array;
  /** 66 */ tftpServerName?: string;
  /** 67 */ bootfileName?: string;
  /** 77 */ userClass?: UserClass;
  /** 82 */ relayAgentInfo?: RelayAgentInfo;
  /** 93 */ clientArch?: number[];
  /** 94 */ clientNdi?: ClientNdi;
  /** 97 */ clientMachineId?: ClientMachineId;
  /** 121 */ classlessStaticRoutes?: ClasslessRoute[];
  /** 175, iPXE encapsulated options, kept as bytes; see `decodeEncapsulated`, `encodeIpxeOptions`. */ ipxe?: Uint8Array;
  /**
   * Options the codec does not type, and typed codes whose bytes did not fit their type, sorted
   * by code. Re-encoded unchanged. Absent when empty.
   */
  raw?: RawOption[];
}

/**
 * True for a request from iPXE: it sends option 175 (what dnsmasq's `dhcp-match=set:ipxe,175`
 * keys on) and user class "iPXE". PXE ROMs without iPXE send neither, so the rack chain-loads
 * them into iPXE first.
 */
export function isIpxeClient(o: Dhcp4Options): boolean {
  return o.ipxe !== undefined || userClassStrings(o.userClass).includes('iPXE');
}

/** Lower-case colon hex of a client identifier, e.g. "01:52:54:00:77:00:00". A stable lease key. */
export function formatClientId(id: Uint8Array): string {
  return colonHex(id, 0, id.length);
}

// ---------------------------------------------------------------------------------------------
// Value types: how each kind of option payload maps to a typed value and back.

/** The value type names the table uses, and the TypeScript type each one decodes to. */
export interface Dhcp4OptionValueTypes {
  /** One address, 4 bytes. */
  ip: string;
  /** A list of addresses, 4 bytes each. */
  ips: string[];
  /** Big-endian 16-bit unsigned. */
  u16: number;
  /** Big-endian 32-bit unsigned. */
  u32: number;
  /** A list of bytes (e.g. option codes). */
  u8s: number[];
  /** A list of big-endian 16-bit unsigned (e.g. architecture types). */
  u16s: number[];
  /** Latin-1 text, one byte per character, no terminator. */
  string: string;
  /** Opaque bytes, kept as they came. */
  bytes: Uint8Array;
  /** Option 53: one byte, DISCOVER..INFORM. */
  'message-type': DhcpMessageType;
  /** Option 77: RFC 3004 class list or a bare string. */
  'user-class': UserClass;
  /** Option 82: RFC 3046 sub-options. */
  'relay-agent-info': RelayAgentInfo;
  /** Option 94: three bytes. */
  'client-ndi': ClientNdi;
  /** Option 97: type byte and a GUID. */
  'client-machine-id': ClientMachineId;
  /** Option 121: RFC 3442 (width, significant destination octets, router) triples. */
  'classless-routes': ClasslessRoute[];
}

export type Dhcp4OptionType = keyof Dhcp4OptionValueTypes;

/** How one value type reads and writes its payload. */
interface ValueCodec<T> {
  /** The value of payload `b[s, e)`, or undefined when the bytes do not fit the type (kept raw). */
  decode(b: Uint8Array, s: number, e: number): T | undefined;
  /** Appends the payload of `v`; throws TypeError / RangeError on a value that has no byte form. */
  encode(w: PayloadWriter, v: T, field: string): void;
}

function u16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

const VALUE_CODECS: { readonly [T in Dhcp4OptionType]: ValueCodec<Dhcp4OptionValueTypes[T]> } = {
  ip: {
    decode: (b, s, e) => (e - s === 4 ? ipFromBytes(b, s) : undefined),
    encode: (w, v, field) => w.ip(v, field),
  },
  ips: {
    decode: (b, s, e) => ((e - s) % 4 === 0 ? ipListFromBytes(b, s, e) : undefined),
    encode: (w, v, field) => {
      if (!Array.isArray(v)) throw new TypeError(`${field}: expected an array of addresses`);
      for (let i = 0; i < v.length; i++) w.ip(v[i], field);
    },
  },
  u16: {
    decode: (b, s, e) => (e - s === 2 ? u16(b, s) : undefined),
    encode: (w, v, field) => w.u16(v, field),
  },
  u32: {
    decode: (b, s, e) => (e - s === 4 ? u32(b, s) : undefined),
    encode: (w, v, field) => w.u32(v, field),
  },
  u8s: {
    decode: (b, s, e) => {
      const list = new Array<number>(e - s);
      for (let i = 0; i < list.length; i++) list[i] = b[s + i];
      return list;
    },
    encode: (w, v, field) => {
      for (const n of v) w.u8(n, field);
    },
  },
  u16s: {
    decode: (b, s, e) => {
      if ((e - s) % 2 !== 0) return undefined;
      const list = new Array<number>((e - s) >> 1);
      for (let i = 0; i < list.length; i++) list[i] = u16(b, s + 2 * i);
      return list;
    },
    encode: (w, v, field) => {
      for (const n of v) w.u16(n, field);
    },
  },
  string: {
    decode: (b, s, e) => latin1(b, s, e),
    encode: (w, v, field) => w.latin1(v, field),
  },
  bytes: {
    decode: (b, s, e) => copyBytes(b, s, e),
    encode: (w, v, field) => w.bytes(v, field),
  },
  'message-type': {
    decode: (b, s, e) => {
      const t = b[s];
      return e - s === 1 && t >= DhcpMessageType.DISCOVER && t <= DhcpMessageType.INFORM ? t : undefined;
    },
    encode: (w, v, field) => w.u8(v, field),
  },
  'user-class': { decode: decodeUserClass, encode: writeUserClass },
  'relay-agent-info': { decode: decodeRelayAgentInfo, encode: writeRelayAgentInfo },
  'client-ndi': {
    decode: (b, s, e) => (e - s === 3 ? { type: b[s], major: b[s + 1], minor: b[s + 2] } : undefined),
    encode: (w, v, field) => {
      w.u8(v.type, `${field}.type`);
      w.u8(v.major, `${field}.major`);
      w.u8(v.minor, `${field}.minor`);
    },
  },
  'client-machine-id': {
    decode: (b, s, e) => (e - s === 17 ? { type: b[s], uuid: guidToUuid(b, s + 1) } : undefined),
    encode: (w, v, field) => {
      w.u8(v.type, `${field}.type`);
      writeGuid(v.uuid, w, `${field}.uuid`);
    },
  },
  'classless-routes': { decode: decodeClasslessRoutes, encode: writeClasslessRoutes },
};

// ---------------------------------------------------------------------------------------------
// The table.

type TypedField = Exclude<keyof Dhcp4Options, 'raw'>;

/** The value types whose values are exactly the field's type (both ways assignable). */
type TypesFor<K extends TypedField> = {
  [T in Dhcp4OptionType]: [Dhcp4OptionValueTypes[T]] extends [NonNullable<Dhcp4Options[K]>]
    ? [NonNullable<Dhcp4Options[K]>] extends [Dhcp4OptionValueTypes[T]]
      ? T
      : never
    : never;
}[Dhcp4OptionType];

/** One row: option `code` is the field `name` of `Dhcp4Options`, with payload type `type`. */
export type Dhcp4OptionSpec = {
  [K in TypedField]: { readonly code: number; readonly name: K; readonly type: TypesFor<K> };
}[TypedField];

/**
 * Every option the codec types. A code absent here (or whose bytes do not fit its type) is kept
 * in `raw`. The type checker holds each row's value type to its field's type in `Dhcp4Options`.
 */
export const DHCP4_OPTION_TABLE = [
  { code: 1, name: 'subnetMask', type: 'ip' },
  { code: 3, name: 'routers', type: 'ips' },
  { code: 6, name: 'dnsServers', type: 'ips' },
  { code: 12, name: 'hostname', type: 'string' },
  { code: 15, name: 'domainName', type: 'string' },
  { code: 26, name: 'interfaceMtu', type: 'u16' },
  { code: 28, name: 'broadcastAddress', type: 'ip' },
  { code: 42, name: 'ntpServers', type: 'ips' },
  { code: 43, name: 'vendorSpecific', type: 'bytes' },
  { code: 50, name: 'requestedIp', type: 'ip' },
  { code: 51, name: 'leaseTime', type: 'u32' },
  { code: 53, name: 'messageType', type: 'message-type' },
  { code: 54, name: 'serverId', type: 'ip' },
  { code: 55, name: 'parameterRequestList', type: 'u8s' },
  { code: 56, name: 'message', type: 'string' },
  { code: 57, name: 'maxMessageSize', type: 'u16' },
  { code: 58, name: 'renewalTime', type: 'u32' },
  { code: 59, name: 'rebindingTime', type: 'u32' },
  { code: 60, name: 'vendorClassId', type: 'string' },
  { code: 61, name: 'clientId', type: 'bytes' },
  { code: 66, name: 'tftpServerName', type: 'string' },
  { code: 67, name: 'bootfileName', type: 'string' },
  { code: 77, name: 'userClass', type: 'user-class' },
  { code: 82, name: 'relayAgentInfo', type: 'relay-agent-info' },
  { code: 93, name: 'clientArch', type: 'u16s' },
  { code: 94, name: 'clientNdi', type: 'client-ndi' },
  { code: 97, name: 'clientMachineId', type: 'client-machine-id' },
  { code: 121, name: 'classlessStaticRoutes', type: 'classless-routes' },
  { code: 175, name: 'ipxe', type: 'bytes' },
] as const satisfies readonly Dhcp4OptionSpec[];

type AssertNever<T extends never> = T;
/** Fails to compile when a typed field of `Dhcp4Options` has no row in the table. */
export type Dhcp4OptionTableIsComplete = AssertNever<Exclude<TypedField, (typeof DHCP4_OPTION_TABLE)[number]['name']>>;

/** A row with its codec and error-message label resolved once. */
interface CompiledSpec {
  code: number;
  name: string;
  field: string;
  codec: ValueCodec<unknown>;
}

const BY_CODE: Array<CompiledSpec | undefined> = new Array(256).fill(undefined);
const BY_NAME = new Map<string, CompiledSpec>();
for (const row of DHCP4_OPTION_TABLE as readonly Dhcp4OptionSpec[]) {
  if (row.code <= 0 || row.code >= 255 || BY_CODE[row.code] || BY_NAME.has(row.name)) {
    throw new Error(`DHCP4_OPTION_TABLE: bad or repeated row ${row.code} ${row.name}`);
  }
  const spec: CompiledSpec = {
    code: row.code,
    name: row.name,
    field: `options.${row.name} (option ${row.code})`,
    codec: VALUE_CODECS[row.type] as ValueCodec<unknown>,
  };
  BY_CODE[row.code] = spec;
  BY_NAME.set(row.name, spec);
}

// ---------------------------------------------------------------------------------------------
// Decoding one option's (already concatenated, RFC 3396) payload into the typed record.

/**
 * Stores option `code` with payload `b[s, e)` in `o` when it fits the type. Returns false when it
 * does not (the caller keeps it raw).
 */
export function decodeTypedOption(o: Dhcp4Options, code: number, b: Uint8Array, s: number, e: number): boolean {
  const spec = BY_CODE[code];
  if (spec === undefined) return false;
  const v = spec.codec.decode(b, s, e);
  if (v === undefined) return false;
  (o as Record<string, unknown>)[spec.name] = v;
  return true;
}

function decodeUserClass(b: Uint8Array, s: number, e: number): UserClass {
  const classes: string[] = [];
  let i = s;
  while (i < e) {
    const n = b[i];
    if (n === 0 || i + 1 + n > e) return { format: 'plain', value: latin1(b, s, e) };
    classes.push(latin1(b, i + 1, i + 1 + n));
    i += 1 + n;
  }
  if (classes.length === 0) return { format: 'plain', value: '' };
  return { format: 'rfc3004', classes };
}

function decodeRelayAgentInfo(b: Uint8Array, s: number, e: number): RelayAgentInfo | undefined {
  const info: RelayAgentInfo = {};
  const other: RawOption[] = [];
  let i = s;
  while (i < e) {
    if (i + 2 > e) return undefined;
    const code = b[i];
    const n = b[i + 1];
    const ds = i + 2;
    if (ds + n > e) return undefined;
    if (code === 1) {
      if (info.circuitId) return undefined;
      info.circuitId = copyBytes(b, ds, ds + n);
    } else if (code === 2) {
      if (info.remoteId) return undefined;
      info.remoteId = copyBytes(b, ds, ds + n);
    } else {
      other.push({ code, data: copyBytes(b, ds, ds + n) });
    }
    i = ds + n;
  }
  if (other.length > 0) info.other = other;
  return info;
}

/**
 * RFC 3442: per route a prefix width (0..32), the ceil(width / 8) significant octets of the
 * destination, and the router. The destination's remaining octets read as 0.
 */
function decodeClasslessRoutes(b: Uint8Array, s: number, e: number): ClasslessRoute[] | undefined {
  const routes: ClasslessRoute[] = [];
  let i = s;
  while (i < e) {
    const width = b[i];
    if (width > 32) return undefined;
    const n = (width + 7) >> 3;
    if (i + 1 + n + 4 > e) return undefined;
    const d = [0, 0, 0, 0];
    for (let k = 0; k < n; k++) d[k] = b[i + 1 + k];
    routes.push({ destination: `${d[0]}.${d[1]}.${d[2]}.${d[3]}/${width}`, router: ipFromBytes(b, i + 1 + n) });
    i += 1 + n + 4;
  }
  return routes;
}

/** Wire GUID (first three fields little-endian) to canonical UUID text. */
function guidToUuid(b: Uint8Array, i: number): string {
  const h = (k: number) => HEX[b[i + k]];
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' +
    h(8) + h(9) + '-' + h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  );
}

/** Offset in the 36-character UUID text of each of its 16 bytes. */
const UUID_BYTE_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** Wire order of the 16 GUID bytes, as indexes into the canonical (big-endian) byte string. */
const GUID_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

// ---------------------------------------------------------------------------------------------
// Encoding: each typed field becomes (code, payload bytes) written into a growable scratch area.

/** Append-only byte area for option payloads; reused between calls (the codec is synchronous). */
export class PayloadWriter {
  buf: Buffer = Buffer.allocUnsafe(2048);
  pos = 0;
  /** Flat list of (code, start, length) triples. */
  readonly entries: number[] = [];

  reset(): void {
    this.pos = 0;
    this.entries.length = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  begin(code: number): number {
    this.entries.push(code, this.pos, 0);
    return this.entries.length - 1;
  }

  end(slot: number): void {
    this.entries[slot] = this.pos - this.entries[slot - 1];
  }

  u8(v: number, field: string): void {
    assertUint(v, 0xff, field);
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number, field: string): void {
    assertUint(v, 0xffff, field);
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number, field: string): void {
    assertUint(v, 0xffffffff, field);
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  ip(v: string, field: string): void {
    this.ensure(4);
    writeIp(this.buf, this.pos, v, field);
    this.pos += 4;
  }

  /** One byte per UTF-16 unit; throws on units above 0xff rather than mangling them. */
  latin1(v: string, field: string): void {
    if (typeof v !== 'string') throw new TypeError(`${field}: expected a string`);
    this.ensure(v.length);
    const buf = this.buf;
    let at = this.pos;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c > 0xff) assertLatin1(v, field);
      buf[at++] = c;
    }
    this.pos = at;
  }

  bytes(v: Uint8Array, field: string): void {
    if (!(v instanceof Uint8Array)) throw new TypeError(`${field}: expected a Uint8Array`);
    this.ensure(v.length);
    const buf = this.buf;
    let at = this.pos;
    // A loop beats Buffer#set for the few bytes an option carries.
    for (let i = 0; i < v.length; i++) buf[at++] = v[i];
    this.pos = at;
  }
}

/** "raw option 12" etc., built once: error messages must not cost a string per encoded option. */
const RAW_FIELD = Array.from({ length: 256 }, (_, code) => `raw option ${code}`);

/**
 * Writes every present typed field and every raw option into `w`, unsorted. Walks the keys that
 * are present rather than testing all of them: a reply's options object is often built with
 * spreads, and probing ~30 absent properties on such objects costs more than the rest of the
 * encoding.
 */
export function writeOptions(o: Dhcp4Options, w: PayloadWriter): void {
  const keys = Object.keys(o);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const v = (o as Record<string, unknown>)[key];
    if (v === undefined) continue;
    const spec = BY_NAME.get(key);
    if (spec !== undefined) {
      const slot = w.begin(spec.code);
      spec.codec.encode(w, v, spec.field);
      w.end(slot);
    } else if (key === 'raw') {
      writeRaw(v as RawOption[], w);
    } else {
      throw new TypeError(`options.${key}: not a DHCPv4 option field`);
    }
  }
}

function writeRaw(list: RawOption[], w: PayloadWriter): void {
  for (const r of list) {
    assertUint(r.code, 0xff, 'raw option code');
    if (r.code === 0 || r.code === 255) throw new TypeError(`raw option ${r.code}: pad and end are not options`);
    if (r.code === 52 && r.data.length === 1 && r.data[0] >= 1 && r.data[0] <= 3) {
      throw new TypeError('raw option 52: the encoder never overloads sname/file');
    }
    const slot = w.begin(r.code);
    w.bytes(r.data, RAW_FIELD[r.code]);
    w.end(slot);
  }
}

function writeUserClass(w: PayloadWriter, uc: UserClass, field: string): void {
  if (uc.format === 'plain') {
    w.latin1(uc.value, `${field}.value`);
    return;
  }
  if (uc.classes.length === 0) throw new TypeError(`${field}: an RFC 3004 list needs at least one class`);
  for (const c of uc.classes) {
    assertLatin1(c, `${field}.classes`);
    if (c.length === 0 || c.length > 255) throw new RangeError(`${field}: each class must be 1..255 bytes`);
    w.u8(c.length, field);
    w.latin1(c, `${field}.classes`);
  }
}

function writeSubOption(code: number, data: Uint8Array, w: PayloadWriter, field: string): void {
  if (data.length > 255) throw new RangeError(`${field}: a sub-option carries at most 255 bytes`);
  w.u8(code, field);
  w.u8(data.length, field);
  w.bytes(data, field);
}

function writeRelayAgentInfo(w: PayloadWriter, info: RelayAgentInfo, field: string): void {
  if (info.circuitId) writeSubOption(1, info.circuitId, w, `${field}.circuitId`);
  if (info.remoteId) writeSubOption(2, info.remoteId, w, `${field}.remoteId`);
  for (const r of info.other ?? []) {
    if (r.code === 1 || r.code === 2) throw new TypeError(`${field}.other: use circuitId / remoteId`);
    writeSubOption(r.code, r.data, w, `${field}.other`);
  }
}

const SCRATCH_IP = new Uint8Array(4);

function writeClasslessRoutes(w: PayloadWriter, routes: ClasslessRoute[], field: string): void {
  if (!Array.isArray(routes)) throw new TypeError(`${field}: expected an array of routes`);
  for (const r of routes) {
    const text = typeof r?.destination === 'string' ? r.destination : '';
    const slash = text.indexOf('/');
    const width = slash > 0 ? Number(text.slice(slash + 1)) : NaN;
    if (!/^\d{1,2}$/.test(text.slice(slash + 1)) || !(width >= 0 && width <= 32)) {
      throw new TypeError(`${field}: destination must be CIDR text, got ${JSON.stringify(r?.destination)}`);
    }
    writeIp(SCRATCH_IP, 0, text.slice(0, slash), field);
    const n = (width + 7) >> 3;
    for (let k = n; k < 4; k++) {
      if (SCRATCH_IP[k] !== 0) throw new TypeError(`${field}: ${text} has address bits past its prefix octets`);
    }
    w.u8(width, field);
    for (let k = 0; k < n; k++) w.u8(SCRATCH_IP[k], field);
    w.ip(r.router, field);
  }
}

function writeGuid(uuid: string, w: PayloadWriter, field: string): void {
  if (typeof uuid !== 'string' || uuid.length !== 36) throw new TypeError(`${field}: not a UUID: ${uuid}`);
  w.ensure(16);
  for (let k = 0; k < 16; k++) {
    const i = UUID_BYTE_AT[GUID_ORDER[k]];
    const hi = hexNibble(uuid.charCodeAt(i));
    const lo = hexNibble(uuid.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) throw new TypeError(`${field}: not a UUID: ${uuid}`);
    w.buf[w.pos + k] = (hi << 4) | lo;
  }
  if (uuid[8] !== '-' || uuid[13] !== '-' || uuid[18] !== '-' || uuid[23] !== '-') {
    throw new TypeError(`${field}: not a UUID: ${uuid}`);
  }
  w.pos += 16;
}

// ---------------------------------------------------------------------------------------------
// Encapsulated options (43, 175): plain TLV lists.

/**
 * Parses an encapsulated option list (the payload of 43 or 175). Pad (0) is skipped and end (255)
 * stops. Returns undefined when a length runs past the end; never throws.
 */
export function decodeEncapsulated(data: Uint8Array): RawOption[] | undefined {
  const out: RawOption[] = [];
  let i = 0;
  while (i < data.length) {
    const code = data[i];
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    if (i + 2 > data.length) return undefined;
    const n = data[i + 1];
    if (i + 2 + n > data.length) return undefined;
    out.push({ code, data: copyBytes(data, i + 2, i + 2 + n) });
    i += 2 + n;
  }
  return out;
}

/** iPXE encapsulated sub-options (175.x) that a server sends. */
export const IpxeOption = {
  /** 175.176: skip the ProxyDHCP wait (~3 s per boot) when set to 1. */
  NO_PXEDHCP: 176,
  /** 175.177: bus id of the NIC (client to server). */
  BUS_ID: 177,
  /** 175.235: iPXE version (client to server). */
  VERSION: 235,
} as const;

/** iPXE feature sub-options a client advertises in 175 (`DHCP_EB_FEATURE_*`). */
export const IpxeFeature = {
  PXE_EXT: 0x10,
  ISCSI: 0x11,
  AOE: 0x12,
  HTTP: 0x13,
  HTTPS: 0x14,
  TFTP: 0x15,
  FTP: 0x16,
  DNS: 0x17,
  BZIMAGE: 0x18,
  MULTIBOOT: 0x19,
  SLAM: 0x1a,
  SRP: 0x1b,
  NBI: 0x20,
  PXE: 0x21,
  ELF: 0x22,
  COMBOOT: 0x23,
  EFI: 0x24,
  FCOE: 0x25,
} as const;

/**
 * Builds the payload of option 175 for a reply. `noPxeDhcp: true` adds 175.176 = 1, which tells
 * iPXE not to wait ~3 s for ProxyDHCP offers. Further sub-options are appended in the order given.
 */
export function encodeIpxeOptions(sub: { noPxeDhcp?: boolean; extra?: RawOption[] }): Uint8Array {
  const parts: number[] = [];
  if (sub.noPxeDhcp) parts.push(IpxeOption.NO_PXEDHCP, 1, 1);
  for (const r of sub.extra ?? []) {
    assertUint(r.code, 254, 'ipxe sub-option code');
    if (r.data.length > 255) throw new RangeError('ipxe sub-option: at most 255 bytes');
    parts.push(r.code, r.data.length, ...r.data);
  }
  return Uint8Array.from(parts);
}
