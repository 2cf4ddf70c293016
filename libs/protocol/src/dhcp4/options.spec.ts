// Laws of the option table: for every row, a value of its type survives encode then decode
// unchanged, travels under the row's code, and a packet carrying it obeys the codec laws.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { expectCodecLaws } from '../testing/codec-laws';
import {
  ClasslessRoute,
  DHCP4_OPTION_TABLE,
  Dhcp4Options,
  Dhcp4OptionType,
  Dhcp4OptionValueTypes,
  UserClass,
} from './options';
import { BootOp, decodeDhcp4, Dhcp4Packet, dhcp4Codec, encodeDhcp4 } from './packet.codec';

function packet(options: Dhcp4Options): Dhcp4Packet {
  return {
    op: BootOp.REPLY,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0x0a0b0c0d,
    secs: 0,
    flags: { broadcast: false },
    ciaddr: '0.0.0.0',
    yiaddr: '10.77.0.9',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: '52:54:00:77:00:09',
    sname: '',
    file: '',
    options,
  };
}

/** Codes of the options in an encoded packet, in wire order. */
function wireCodes(b: Uint8Array): number[] {
  const codes: number[] = [];
  for (let i = 240; b[i] !== 255; i += 2 + b[i + 1]) codes.push(b[i]);
  return codes;
}

const latin1Text = (opts: { minLength?: number; maxLength?: number } = {}) =>
  fc.array(fc.integer({ min: 0, max: 255 }), opts).map((a) => String.fromCharCode(...a));
const u8 = fc.integer({ min: 0, max: 255 });
const ip = fc.ipV4();

/** A destination as RFC 3442 carries it: prefix width and only its significant octets set. */
const route: fc.Arbitrary<ClasslessRoute> = fc
  .tuple(fc.integer({ min: 0, max: 32 }), fc.array(u8, { minLength: 4, maxLength: 4 }), ip)
  .map(([width, octets, router]) => {
    const n = (width + 7) >> 3;
    const d = octets.map((o, k) => (k < n ? o : 0));
    return { destination: `${d.join('.')}/${width}`, router };
  });

/** fc.record, but with plain objects (the decoder builds those; fast-check's default has no prototype). */
const record: typeof fc.record = ((model: never, constraints: object = {}) =>
  fc.record(model, { ...constraints, noNullPrototype: true })) as typeof fc.record;

/** User classes in their canonical form (a 'plain' value that parses as a list would not be). */
const userClass: fc.Arbitrary<UserClass> = fc.oneof(
  record({ format: fc.constant('rfc3004' as const), classes: fc.array(latin1Text({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 4 }) }),
  record({
    format: fc.constant('plain' as const),
    value: fc.oneof(fc.constant('iPXE'), fc.constant(''), latin1Text({ maxLength: 30 }).map((s) => '\0' + s)),
  }),
);

/** Values of every type: the record type makes a new value type without an arbitrary a compile error. */
const VALUES: { [T in Dhcp4OptionType]: fc.Arbitrary<Dhcp4OptionValueTypes[T]> } = {
  ip,
  ips: fc.array(ip, { maxLength: 8 }),
  u16: fc.integer({ min: 0, max: 0xffff }),
  u32: fc.integer({ min: 0, max: 0xffffffff }),
  u8s: fc.array(u8, { maxLength: 40 }),
  u16s: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }),
  string: latin1Text({ maxLength: 80 }),
  bytes: fc.uint8Array({ maxLength: 80 }),
  'message-type': fc.integer({ min: 1, max: 8 }),
  'user-class': userClass,
  'relay-agent-info': record(
    {
      circuitId: fc.uint8Array({ maxLength: 20 }),
      remoteId: fc.uint8Array({ maxLength: 20 }),
      other: fc.array(
        record({ code: u8.filter((c) => c !== 1 && c !== 2), data: fc.uint8Array({ maxLength: 10 }) }),
        { minLength: 1, maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  ),
  'client-ndi': record({ type: u8, major: u8, minor: u8 }),
  'client-machine-id': record({ type: u8, uuid: fc.uuid().map((u) => u.toLowerCase()) }),
  'classless-routes': fc.array(route, { maxLength: 6 }),
};

describe('the option table', () => {
  it('has one row per code and per field name', () => {
    const codes = DHCP4_OPTION_TABLE.map((r) => r.code);
    const names = DHCP4_OPTION_TABLE.map((r) => r.name);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(names).size).toBe(names.length);
    expect(codes.every((c) => c > 0 && c < 255)).toBe(true);
  });

  it.each(DHCP4_OPTION_TABLE.map((r) => [`${r.code} ${r.name} (${r.type})`, r] as const))(
    '%s: decode(encode(v)) equals v, under its code',
    (_label, row) => {
      fc.assert(
        fc.property(VALUES[row.type] as fc.Arbitrary<unknown>, (v) => {
          const p = packet({ [row.name]: v } as Dhcp4Options);
          const bytes = encodeDhcp4(p);
          const codes = wireCodes(bytes);
          // Long payloads split into several options of the same code (RFC 3396).
          if (codes.length === 0 || codes.some((c) => c !== row.code)) return false;
          return isDeepStrictEqual(decodeDhcp4(bytes), p);
        }),
        { numRuns: 200 },
      );
    },
  );

  it('a packet with every row at once obeys the codec laws', () => {
    const one = fc.sample(record(Object.fromEntries(DHCP4_OPTION_TABLE.map((r) => [r.name, VALUES[r.type]]))), {
      numRuns: 20,
      seed: 42,
    });
    for (const options of one) expectCodecLaws(dhcp4Codec, packet(options as Dhcp4Options));
  });
});

describe('classless static routes (121)', () => {
  it('writes only the significant destination octets', () => {
    const b = encodeDhcp4(
      packet({
        classlessStaticRoutes: [
          { destination: '0.0.0.0/0', router: '10.77.0.1' },
          { destination: '10.20.0.0/16', router: '10.77.0.2' },
          { destination: '192.168.7.128/25', router: '10.77.0.3' },
        ],
      }),
    );
    expect(Array.from(b.subarray(240, 240 + 2 + 21))).toEqual([
      121, 21,
      0, 10, 77, 0, 1,
      16, 10, 20, 10, 77, 0, 2,
      25, 192, 168, 7, 128, 10, 77, 0, 3,
    ]);
  });

  it.each([
    ['no prefix', '10.0.0.0'],
    ['prefix 33', '10.0.0.0/33'],
    ['bits past the prefix octets', '10.20.30.0/16'],
    ['bad address', '10.0.0/8'],
  ])('refuses a destination with %s', (_name, destination) => {
    expect(() => encodeDhcp4(packet({ classlessStaticRoutes: [{ destination, router: '10.77.0.1' }] }))).toThrow(TypeError);
  });

  it('keeps a route list that overruns, or a width over 32, raw', () => {
    const base = encodeDhcp4(packet({}));
    const withOption = (payload: number[]) => {
      const b = Buffer.alloc(base.length + 2 + payload.length);
      base.copy(b, 0, 0, 240);
      b.set([121, payload.length, ...payload, 255], 240);
      return b;
    };
    expect(decodeDhcp4(withOption([24, 10, 0, 0, 10, 77, 0])).options.raw).toEqual([
      { code: 121, data: Uint8Array.of(24, 10, 0, 0, 10, 77, 0) },
    ]);
    expect(decodeDhcp4(withOption([33, 10, 0, 0, 0, 0, 10, 77, 0, 1])).options.raw).toEqual([
      { code: 121, data: Uint8Array.of(33, 10, 0, 0, 0, 0, 10, 77, 0, 1) },
    ]);
  });
});
