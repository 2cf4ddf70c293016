import { MessageSigner, MessageVerifier } from './message-signature';

const body = Buffer.from('{"ok":true}');

describe('region message signatures', () => {
  const region = MessageSigner.fromSecret('region-secret');

  it('derives the same key on every region that shares the secret, another from another secret', () => {
    expect(MessageSigner.fromSecret('region-secret').publicKey).toBe(region.publicKey);
    expect(MessageSigner.fromSecret('other').publicKey).not.toBe(region.publicKey);
    expect(Buffer.from(region.publicKey, 'base64url')).toHaveLength(32);
  });

  it('accepts a fresh signed message once', () => {
    const v = new MessageVerifier([region.publicKey]);
    const sig = region.sign('rack.r1.power.on', body);
    expect(v.check('rack.r1.power.on', body, sig)).toBeNull();
    expect(v.check('rack.r1.power.on', body, sig)).toBe('replayed');
  });

  it('refuses unsigned messages, other signers, other subjects, other bodies', () => {
    const v = new MessageVerifier([region.publicKey]);
    const sig = region.sign('rack.r1.power.on', body);
    expect(v.check('rack.r1.power.on', body, null)).toBe('unsigned');
    expect(v.check('rack.r1.power.on', body, { nonce: 'x', signedAt: Date.now() })).toBe('unsigned');
    expect(v.check('rack.r2.power.on', body, sig)).toBe('bad-signature');
    expect(v.check('rack.r1.power.on', Buffer.from('{"ok":false}'), sig)).toBe('bad-signature');
    expect(v.check('rack.r1.power.on', body, { ...sig, nonce: 'another' })).toBe('bad-signature');
    expect(v.check('rack.r1.power.on', body, { ...sig, signedAt: sig.signedAt + 1 })).toBe('bad-signature');
    const attacker = MessageSigner.fromSecret('guess');
    expect(v.check('rack.r1.power.on', body, attacker.sign('rack.r1.power.on', body))).toBe('bad-signature');
    // Untouched, it still verifies: none of the refusals above consumed its nonce.
    expect(v.check('rack.r1.power.on', body, sig)).toBeNull();
  });

  it('refuses messages signed too long ago or too far ahead', () => {
    const v = new MessageVerifier([region.publicKey], { maxSkewMs: 60_000 });
    const now = Date.now();
    expect(v.check('s', body, region.sign('s', body, now - 61_000), now)).toBe('stale');
    expect(v.check('s', body, region.sign('s', body, now + 61_000), now)).toBe('stale');
    expect(v.check('s', body, region.sign('s', body, now - 59_000), now)).toBeNull();
  });

  it('forgets nonces once they are stale, and keeps at most maxNonces', () => {
    const v = new MessageVerifier([region.publicKey], { maxSkewMs: 1000, maxNonces: 10 });
    const t0 = 1_000_000;
    for (let i = 0; i < 50; i++) expect(v.check('s', body, region.sign('s', body, t0 + i), t0 + i)).toBeNull();
    expect((v as unknown as { seen: Map<string, number> }).seen.size).toBeLessThanOrEqual(10);
  });
});
