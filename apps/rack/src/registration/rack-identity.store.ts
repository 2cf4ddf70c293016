import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { nkeys } from 'nats';
import { BoxKeyPair, generateBoxKeyPair, isBoxPublicKey, rackId as rackIdSchema } from '@kiln/contracts';
import { readFileIfExists, writeFileAtomic } from './state.files';

const ALPHABET = 'abcdefghjkmnpqrstvwxyz0123456789';

/** A new rack id: 8 characters, lower-case letters (no i, l, o, u) and digits, like MAAS system ids. */
export function newRackId(): string {
  return [...randomBytes(8)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

/**
 * The rack's stable id, kept in `<stateDir>/rack-id`: created on first start, read ever after, so
 * the region sees the same rack across restarts (and re-installs that keep the state directory).
 */
export async function loadOrCreateRackId(stateDir: string): Promise<string> {
  const path = join(stateDir, 'rack-id');
  const existing = (await readFileIfExists(path))?.trim();
  if (existing) {
    const ok = rackIdSchema.safeParse(existing);
    if (!ok.success) throw new Error(`${path} holds "${existing}", which is not a rack id; remove it to get a new one`);
    return existing;
  }
  const id = newRackId();
  await writeFileAtomic(path, `${id}\n`);
  return id;
}

/**
 * The rack's X25519 box key pair, kept in `<stateDir>/rack-box.key` (mode 0600): created on first
 * start. The region seals BMC credentials to its public key; the secret key never leaves the rack.
 */
export async function loadOrCreateBoxKeyPair(stateDir: string): Promise<BoxKeyPair> {
  const path = join(stateDir, 'rack-box.key');
  const existing = await readFileIfExists(path);
  if (existing) {
    let kp: Partial<BoxKeyPair> = {};
    try {
      kp = JSON.parse(existing) as Partial<BoxKeyPair>;
    } catch {
      // reported below
    }
    if (typeof kp.publicKey !== 'string' || typeof kp.secretKey !== 'string' || !isBoxPublicKey(kp.publicKey)) {
      throw new Error(`${path} is not a rack box key; remove it to get a new one (the rack then re-registers its new public key)`);
    }
    return { publicKey: kp.publicKey, secretKey: kp.secretKey };
  }
  const kp = generateBoxKeyPair();
  await writeFileAtomic(path, `${JSON.stringify(kp)}\n`);
  return kp;
}

/**
 * The rack's NATS identity, a user nkey seed kept in `<stateDir>/rack-nats.nk` (mode 0600),
 * created on first start. Only its public key ever leaves the rack: the operator (or enrollment)
 * puts it in the NATS server's config with this rack's permissions.
 */
export async function loadOrCreateNatsSeed(stateDir: string): Promise<{ seed: Uint8Array; publicKey: string }> {
  const path = join(stateDir, 'rack-nats.nk');
  const existing = (await readFileIfExists(path))?.trim();
  if (existing) {
    try {
      const seed = new TextEncoder().encode(existing);
      return { seed, publicKey: nkeys.fromSeed(seed).getPublicKey() };
    } catch {
      throw new Error(`${path} is not an nkey seed; remove it to get a new one (and enroll its new public key)`);
    }
  }
  const kp = nkeys.createUser();
  await writeFileAtomic(path, `${new TextDecoder().decode(kp.getSeed())}\n`);
  return { seed: kp.getSeed(), publicKey: kp.getPublicKey() };
}
