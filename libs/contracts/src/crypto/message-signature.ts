import { createHash, createPrivateKey, createPublicKey, hkdfSync, KeyObject, randomBytes, sign, verify } from 'node:crypto';

/**
 * Region signatures on bus messages: every request, push and reply a region sends a rack carries
 * an Ed25519 signature over the subject it was sent on, when it was signed, a one-time nonce and
 * the body. A rack acts only on messages that verify against the region key it pinned when it
 * enrolled, that are fresh, and whose nonce it has not seen: a message from anyone else on the
 * bus, one moved to another subject (another rack, another request's inbox), or one replayed, is
 * refused.
 *
 * Every region derives the same key pair from the shared KILN_SECRET_KEY, so any region may answer.
 */

/** NATS headers carrying the signature. */
export const HEADER_SIGNATURE = 'Kiln-Signature';
export const HEADER_SIGNED_AT = 'Kiln-Signed-At';
export const HEADER_NONCE = 'Kiln-Nonce';

const DOMAIN = 'kiln-region-message-v1';
/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SignedFields {
  subject: string;
  signedAt: number;
  nonce: string;
  body: Uint8Array;
}

export interface MessageSignature {
  signature: string;
  signedAt: number;
  nonce: string;
}

/** The signature a message's headers carry (see HEADER_*), for MessageVerifier.check; null without headers. */
export function signatureOfHeaders(headers: { get(name: string): string } | undefined): Partial<MessageSignature> | null {
  if (!headers) return null;
  return {
    signature: headers.get(HEADER_SIGNATURE) || undefined,
    nonce: headers.get(HEADER_NONCE) || undefined,
    signedAt: Number(headers.get(HEADER_SIGNED_AT) || NaN),
  };
}

function signedBytes(f: SignedFields): Buffer {
  const bodyHash = createHash('sha256').update(f.body).digest('hex');
  return Buffer.from(`${DOMAIN}\n${f.subject}\n${f.signedAt}\n${f.nonce}\n${bodyHash}`, 'utf8');
}

/** Signs what a region sends. */
export class MessageSigner {
  /** base64url of the 32 raw bytes of the Ed25519 public key: what racks pin. */
  readonly publicKey: string;

  private constructor(private readonly key: KeyObject) {
    this.publicKey = createPublicKey(key).export({ format: 'jwk' }).x as string;
  }

  /** The region's signing key, derived from KILN_SECRET_KEY (the same on every region). */
  static fromSecret(secret: string): MessageSigner {
    if (!secret) throw new Error('a signing key needs a secret');
    const seed = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), DOMAIN, 32));
    return new MessageSigner(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
  }

  sign(subject: string, body: Uint8Array, now = Date.now()): MessageSignature {
    const nonce = randomBytes(16).toString('base64url');
    const signature = sign(null, signedBytes({ subject, signedAt: now, nonce, body }), this.key).toString('base64url');
    return { signature, signedAt: now, nonce };
  }
}

export type VerifyFailure = 'unsigned' | 'bad-signature' | 'stale' | 'replayed';

export interface VerifierOptions {
  /** How far the signing time may be from the rack's clock, either way. */
  maxSkewMs?: number;
  /** Nonces remembered at most (oldest forgotten first; they are also forgotten once stale). */
  maxNonces?: number;
}

/**
 * Checks region signatures on a rack. Remembers nonces for the skew window, so each signed message
 * is accepted once.
 */
export class MessageVerifier {
  private readonly keys: KeyObject[];
  private readonly maxSkewMs: number;
  private readonly maxNonces: number;
  /** nonce -> the time after which it would be stale anyway (insertion order = age order). */
  private readonly seen = new Map<string, number>();

  /** `regionPublicKeys`: the pinned region key(s), base64url raw Ed25519 public keys. */
  constructor(regionPublicKeys: readonly string[], opts: VerifierOptions = {}) {
    if (regionPublicKeys.length === 0) throw new Error('a verifier needs at least one region public key');
    this.keys = regionPublicKeys.map((x) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
    this.maxSkewMs = opts.maxSkewMs ?? 120_000;
    this.maxNonces = opts.maxNonces ?? 200_000;
  }

  /** null when the message is authentic, fresh and new; otherwise why it is refused. */
  check(subject: string, body: Uint8Array, sig: Partial<MessageSignature> | null, now = Date.now()): VerifyFailure | null {
    if (!sig?.signature || !sig.nonce || sig.signedAt === undefined || !Number.isFinite(sig.signedAt)) return 'unsigned';
    if (sig.nonce.length > 64) return 'bad-signature';
    const data = signedBytes({ subject, signedAt: sig.signedAt, nonce: sig.nonce, body });
    const signature = Buffer.from(sig.signature, 'base64url');
    if (signature.length !== 64 || !this.keys.some((k) => verify(null, data, k, signature))) return 'bad-signature';
    if (Math.abs(now - sig.signedAt) > this.maxSkewMs) return 'stale';
    this.forgetStale(now);
    if (this.seen.has(sig.nonce)) return 'replayed';
    this.seen.set(sig.nonce, sig.signedAt + this.maxSkewMs);
    while (this.seen.size > this.maxNonces) this.seen.delete(this.seen.keys().next().value as string);
    return null;
  }

  private forgetStale(now: number) {
    for (const [nonce, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(nonce);
    }
  }
}
