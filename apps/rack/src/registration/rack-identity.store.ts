import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { rackId as rackIdSchema } from '@kiln/contracts';
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
