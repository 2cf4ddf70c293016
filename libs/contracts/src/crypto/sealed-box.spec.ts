import fc from 'fast-check';
import { generateBoxKeyPair, isBoxPublicKey, openSealed, sealTo, SealedBoxError } from './sealed-box';

describe('sealed boxes', () => {
  const rack = generateBoxKeyPair();

  it('opens what was sealed to the key pair, in the same context', () => {
    const sealed = sealTo(rack.publicKey, '{"power_pass":"s3cret"}', 'power:rack-a:abc123');
    expect(openSealed(rack, sealed, 'power:rack-a:abc123').toString('utf8')).toBe('{"power_pass":"s3cret"}');
  });

  it('shows nothing of the plaintext on the wire, and never seals twice alike', () => {
    const a = sealTo(rack.publicKey, 'power_pass=s3cret');
    const b = sealTo(rack.publicKey, 'power_pass=s3cret');
    expect(a).not.toContain('s3cret');
    expect(Buffer.from(a.split('.')[1], 'base64url').toString('latin1')).not.toContain('s3cret');
    expect(a).not.toBe(b);
  });

  it("refuses another rack's key, another context, and any altered byte", () => {
    const other = generateBoxKeyPair();
    const sealed = sealTo(rack.publicKey, 'secret', 'power:rack-a:abc123');
    expect(() => openSealed(other, sealed, 'power:rack-a:abc123')).toThrow(SealedBoxError);
    expect(() => openSealed(rack, sealed, 'power:rack-a:other')).toThrow(SealedBoxError);
    const raw = Buffer.from(sealed.split('.')[1], 'base64url');
    for (const i of [0, 33, 50, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i] ^= 1;
      expect(() => openSealed(rack, `kb1.${bad.toString('base64url')}`, 'power:rack-a:abc123')).toThrow(SealedBoxError);
    }
  });

  it('refuses garbage with a SealedBoxError, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          openSealed(rack, s);
          return false;
        } catch (e) {
          return e instanceof SealedBoxError;
        }
      }),
    );
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.string({ maxLength: 40 }), (bytes, ctx) => {
        return openSealed(rack, sealTo(rack.publicKey, bytes, ctx), ctx).equals(Buffer.from(bytes));
      }),
      { numRuns: 50 },
    );
  });

  it('tells public keys from other strings', () => {
    expect(isBoxPublicKey(rack.publicKey)).toBe(true);
    expect(isBoxPublicKey('short')).toBe(false);
    expect(isBoxPublicKey('')).toBe(false);
  });
});
