// The one helper every codec spec uses (STYLE habit 9, after dns-packet's testEncoder):
//   decode(encode(v)) equals v;  encode is deterministic and stable under decode;
//   encodingLength(v) equals encode(v).length;  and, given a golden capture,
//   decode(golden) equals v and (when the golden is in canonical order) encode(v) equals golden.
// Test-only: it calls Jest's expect, so the library index does not export it.
import type { Codec } from '../codec';

export interface CodecLawOptions {
  /**
   * The golden is exactly what encode produces (canonical option order and padding). Clear it for
   * captures from clients that order options their own way: the decode and length laws still apply.
   */
  byteExact?: boolean;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function expectCodecLaws<T>(codec: Codec<T>, value: T, golden?: Uint8Array, opts: CodecLawOptions = {}): void {
  const bytes = codec.encode(value);
  expect(codec.encodingLength(value)).toBe(bytes.length);
  expect(codec.decode(bytes)).toStrictEqual(value);
  // Deterministic, and a fixed point: encoding what we decoded gives the same bytes again.
  expect(hex(codec.encode(value))).toBe(hex(bytes));
  expect(hex(codec.encode(codec.decode(bytes)))).toBe(hex(bytes));

  if (golden !== undefined) {
    expect(codec.decode(golden)).toStrictEqual(value);
    if (opts.byteExact ?? true) {
      // Hex strings give a readable diff when a byte moves.
      expect(hex(bytes)).toBe(hex(golden));
    } else {
      // Same content, own order: re-encoding the decoded golden is still a fixed point.
      expect(hex(codec.encode(codec.decode(golden)))).toBe(hex(bytes));
    }
  }
}
