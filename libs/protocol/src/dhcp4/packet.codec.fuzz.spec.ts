// Fuzzing the DHCPv4 decoder (insomniacslk FuzzDHCPv4, STYLE habit 9): whatever arrives on
// port 67, decodeDhcp4 either returns a packet or throws MalformedPacketError, and a packet it
// returns can be encoded and decodes to the same value again.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { MalformedPacketError } from '../errors';
import { DHCLIENT_DISCOVER, IPXE_DISCOVER, RELAYED_DISCOVER, UDHCPC_DISCOVER } from './fixtures/discover.goldens';
import { DhcpOption } from './options';
import { decodeDhcp4, encodeDhcp4 } from './packet.codec';

const RUNS = 20_000;
const GOLDENS = [DHCLIENT_DISCOVER, UDHCPC_DISCOVER, IPXE_DISCOVER, RELAYED_DISCOVER];

/** How many inputs decoded, so a property cannot pass by rejecting everything. */
let decodedCount = 0;

/** The decoder contract, checked on one input. Returns false to fail the property. */
function decoderContract(buf: Uint8Array): boolean {
  let decoded;
  try {
    decoded = decodeDhcp4(buf);
  } catch (e) {
    if (e instanceof MalformedPacketError) return true;
    throw e; // anything else is a bug: let fast-check shrink and report it
  }
  decodedCount++;
  // Decodable means encodable, and decode(encode(.)) is a fixed point.
  const again = decodeDhcp4(encodeDhcp4(decoded));
  return isDeepStrictEqual(again, decoded);
}

const KNOWN_CODES = Object.values(DhcpOption).filter((c) => c !== 0 && c !== 255);

/** An option TLV, biased towards codes the decoder types, with sometimes-wrong lengths. */
const optionTlv = fc
  .tuple(
    fc.oneof(fc.constantFrom(...KNOWN_CODES), fc.integer({ min: 0, max: 255 })),
    fc.uint8Array({ maxLength: 40 }),
    fc.integer({ min: -2, max: 2 }),
    fc.nat(9),
  )
  .map(([code, data, skew, lie]) => {
    // Most of the time the length byte is honest; sometimes it is off by a little.
    const len = lie === 0 ? Math.max(0, Math.min(255, data.length + skew)) : data.length;
    return [code, len, ...data];
  });

/** TLVs packed into a fixed-size field (sname 64, file 128), as overloading servers do. */
function field(size: number, tlvs: number[][]): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const t of tlvs) {
    if (at + t.length > size) break;
    out.set(t, at);
    at += t.length;
  }
  if (at < size) out[at] = 255;
  return out;
}

/** A header that passes the fixed checks most of the time, then random options. */
const structuredPacket = fc
  .record({
    op: fc.constantFrom(1, 2, 2, 1, 0, 3),
    hlen: fc.integer({ min: 0, max: 18 }),
    chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    options: fc.array(optionTlv, { maxLength: 12 }),
    end: fc.boolean(),
    overload: fc.option(fc.constantFrom(1, 2, 3, 0, 9)),
    sname: fc.array(optionTlv, { maxLength: 3 }),
    file: fc.array(optionTlv, { maxLength: 5 }),
  })
  .map((g) => {
    const opts = g.options.flat();
    if (g.overload !== null) opts.unshift(52, 1, g.overload);
    if (g.end) opts.push(255);
    const b = new Uint8Array(240 + opts.length);
    b[0] = g.op;
    b[1] = 1;
    b[2] = g.hlen;
    b.set(g.chaddr, 28);
    b.set(field(64, g.sname), 44);
    b.set(field(128, g.file), 108);
    b.set([99, 130, 83, 99], 236);
    b.set(opts, 240);
    return b;
  });

/** A golden with a few bytes changed, or cut short. */
const mutatedGolden = fc
  .tuple(
    fc.constantFrom(...GOLDENS),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.nat(), weight: 1 }),
  )
  .map(([golden, flips, cut]) => {
    const b = Uint8Array.from(golden);
    for (const [at, value] of flips) {
      // Aim half the flips at the options area, where the lengths are.
      const i = at % 2 === 0 ? 240 + (at % (b.length - 240)) : at % b.length;
      b[i] = value;
    }
    return cut === null ? b : b.subarray(0, cut % (b.length + 1));
  });

/** A golden with one option's length byte replaced. */
const lengthFlip = fc.tuple(fc.constantFrom(...GOLDENS), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([golden, which, len]) => {
  const b = Uint8Array.from(golden);
  const lengthBytes: number[] = [];
  for (let i = 240; i < b.length && b[i] !== 255; i += 2 + b[i + 1]) lengthBytes.push(i + 1);
  b[lengthBytes[which % lengthBytes.length]] = len;
  return b;
});

describe('decodeDhcp4 fuzz', () => {
  beforeEach(() => {
    decodedCount = 0;
  });

  it(`random bytes (${RUNS} runs)`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), decoderContract), { numRuns: RUNS });
  });

  it(`random options behind a valid cookie (${RUNS} runs)`, () => {
    fc.assert(fc.property(structuredPacket, decoderContract), { numRuns: RUNS });
    expect(decodedCount).toBeGreaterThan(RUNS / 4);
  });

  it(`mutated and truncated goldens (${RUNS} runs)`, () => {
    fc.assert(fc.property(mutatedGolden, decoderContract), { numRuns: RUNS });
    expect(decodedCount).toBeGreaterThan(RUNS / 4);
  });

  it(`goldens with a flipped option length (${RUNS} runs)`, () => {
    fc.assert(fc.property(lengthFlip, decoderContract), { numRuns: RUNS });
    expect(decodedCount).toBeGreaterThan(RUNS / 20);
  });

  it('every truncation of every golden', () => {
    for (const g of GOLDENS) for (let n = 0; n <= g.length; n++) expect(decoderContract(g.subarray(0, n))).toBe(true);
  });

});
