// Fuzzing the TFTP decoder: whatever arrives on port 69 or a transfer port, decodeTftp returns a
// packet or throws MalformedPacketError, and what it returns encodes and decodes to itself.
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { MalformedPacketError } from '../errors';
import { decodeTftp, encodeTftp } from './packet.codec';

const RUNS = 20_000;

let decodedCount = 0;

function decoderContract(buf: Uint8Array): boolean {
  let decoded;
  try {
    decoded = decodeTftp(buf);
  } catch (e) {
    if (e instanceof MalformedPacketError) return true;
    throw e;
  }
  decodedCount++;
  return isDeepStrictEqual(decodeTftp(encodeTftp(decoded)), decoded);
}

const GOLDENS = [
  '\x00\x01boot.ipxe\x00octet\x00blksize\x001432\x00tsize\x000\x00',
  '\x00\x01vmlinuz\x00octet\x00tsize\x000\x00blksize\x001468\x00timeout\x006\x00',
  '\x00\x02upload.bin\x00NETASCII\x00tsize\x0042\x00',
  '\x00\x03\x00\x01hello',
  '\x00\x04\x00\x09',
  '\x00\x05\x00\x01File not found\x00',
  '\x00\x06blksize\x001468\x00windowsize\x008\x00',
].map((s) => Uint8Array.from(Buffer.from(s, 'latin1')));

/** Strings that make up requests: names, modes, option names and values, and junk. */
const token = fc.oneof(
  fc.constantFrom('octet', 'OCTET', 'netascii', 'mail', 'blksize', 'tsize', 'timeout', 'windowsize', '0', '1468', '65464', '', 'x'),
  fc.string({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b).toString('latin1')),
);

/** An opcode (mostly valid) followed by NUL-separated tokens, sometimes unterminated or padded. */
const structured = fc
  .tuple(fc.integer({ min: 0, max: 8 }), fc.array(token, { maxLength: 10 }), fc.boolean(), fc.nat(3))
  .map(([opcode, tokens, terminated, pad]) => {
    const body = tokens.join('\0') + (terminated && tokens.length > 0 ? '\0' : '');
    return Uint8Array.from([0, opcode, ...Buffer.from(body, 'utf8'), ...new Array<number>(pad).fill(0)]);
  });

const mutatedGolden = fc
  .tuple(
    fc.constantFrom(...GOLDENS),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, { arbitrary: fc.nat(), weight: 1 }),
  )
  .map(([golden, flips, cut]) => {
    const b = Uint8Array.from(golden);
    for (const [at, value] of flips) b[at % b.length] = value;
    return cut === null ? b : b.subarray(0, cut % (b.length + 1));
  });

describe('decodeTftp fuzz', () => {
  beforeEach(() => {
    decodedCount = 0;
  });

  it(`random bytes (${RUNS} runs)`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), decoderContract), { numRuns: RUNS });
  });

  it(`random opcodes and strings (${RUNS} runs)`, () => {
    fc.assert(fc.property(structured, decoderContract), { numRuns: RUNS });
    expect(decodedCount).toBeGreaterThan(RUNS / 10);
  });

  it(`mutated and truncated goldens (${RUNS} runs)`, () => {
    fc.assert(fc.property(mutatedGolden, decoderContract), { numRuns: RUNS });
    expect(decodedCount).toBeGreaterThan(RUNS / 4);
  });
});
