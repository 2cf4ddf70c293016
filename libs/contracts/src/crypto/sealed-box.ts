import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  KeyObject,
  randomBytes,
} from 'node:crypto';

/**
 * Sealed boxes: a secret (BMC credentials, a machine's token) sealed by the region to the one rack
 * that needs it. X25519 with an ephemeral key per box, HKDF-SHA256, AES-256-GCM; the `context`
 * (e.g. "power:<rackId>:<systemId>") is authenticated, so a box cannot be replayed into another
 * request. Anyone on the bus sees ciphertext; only the holder of the rack's secret key reads it.
 *
 * Keys travel and rest as base64url of their 32 raw bytes.
 */
export interface BoxKeyPair {
  publicKey: string;
  secretKey: string;
}

const VERSION = 'kb1';
const INFO = 'kiln-sealed-box-v1';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SealedBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedBoxError';
  }
}

export function generateBoxKeyPair(): BoxKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { publicKey: jwk.x as string, secretKey: jwk.d as string };
}

/** True when `key` is a well-formed box public key. */
export function isBoxPublicKey(key: string): boolean {
  try {
    publicKeyObject(key);
    return true;
  } catch {
    return false;
  }
}

/** Seals `plaintext` to the holder of `recipientPublicKey`. */
export function sealTo(recipientPublicKey: string, plaintext: string | Uint8Array, context = ''): string {
  const recipient = publicKeyObject(recipientPublicKey);
  const eph = generateKeyPairSync('x25519');
  const ephPublic = rawPublic(eph.publicKey);
  const key = deriveKey(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), ephPublic, rawPublic(recipient), context);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return `${VERSION}.${Buffer.concat([ephPublic, nonce, cipher.getAuthTag(), ct]).toString('base64url')}`;
}

/** Opens a box sealed to `keyPair`. Throws SealedBoxError when it was not, or was altered. */
export function openSealed(keyPair: BoxKeyPair, sealed: string, context = ''): Buffer {
  const [version, body, extra] = sealed.split('.');
  if (version !== VERSION || body === undefined || extra !== undefined) throw new SealedBoxError('not a sealed box');
  const raw = Buffer.from(body, 'base64url');
  if (raw.length < KEY_BYTES + NONCE_BYTES + TAG_BYTES) throw new SealedBoxError('sealed box too short');
  const ephPublic = raw.subarray(0, KEY_BYTES);
  const nonce = raw.subarray(KEY_BYTES, KEY_BYTES + NONCE_BYTES);
  const tag = raw.subarray(KEY_BYTES + NONCE_BYTES, KEY_BYTES + NONCE_BYTES + TAG_BYTES);
  const ct = raw.subarray(KEY_BYTES + NONCE_BYTES + TAG_BYTES);
  let secret: KeyObject;
  let eph: KeyObject;
  try {
    secret = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: keyPair.publicKey, d: keyPair.secretKey }, format: 'jwk' });
    eph = publicKeyObject(ephPublic.toString('base64url'));
  } catch {
    throw new SealedBoxError('bad key');
  }
  const key = deriveKey(diffieHellman({ privateKey: secret, publicKey: eph }), ephPublic, Buffer.from(keyPair.publicKey, 'base64url'), context);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw new SealedBoxError('sealed box was not sealed to this key, for this context, or was altered');
  }
}

function publicKeyObject(key: string): KeyObject {
  if (Buffer.from(key, 'base64url').length !== KEY_BYTES) throw new SealedBoxError('a box public key is 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: key }, format: 'jwk' });
}

function rawPublic(k: KeyObject): Buffer {
  return Buffer.from(k.export({ format: 'jwk' }).x as string, 'base64url');
}

function deriveKey(shared: Buffer, ephPublic: Buffer, recipientPublic: Buffer, context: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephPublic, recipientPublic]), `${INFO}:${context}`, 32));
}
