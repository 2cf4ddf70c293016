import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { nkeys } from 'nats';

/**
 * Rack enrollment tokens, rack keys, and the NATS server config file kept from them: the one copy
 * the region and the `kiln` CLI share (the config's text is `renderNatsServerConfig`'s).
 */

/** Anything that runs SQL: a DataSource or a transaction's EntityManager. */
export interface Queryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(sql: string, params?: unknown[]): Promise<any>;
}

/** Only this is stored of an enrollment token. */
export function hashEnrollmentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new one-time enrollment token, valid for `ttlMs`; shown once, stored as its hash. */
export async function createEnrollmentToken(q: Queryable, ttlMs: number): Promise<{ token: string; expires: Date }> {
  const token = randomBytes(24).toString('base64url');
  const expires = new Date(Date.now() + ttlMs);
  await q.query(`INSERT INTO rack_enrollment_tokens (token_hash, expires) VALUES ($1, $2)`, [hashEnrollmentToken(token), expires]);
  return { token, expires };
}

/** Forgets a rack's NATS nkey and box key (it may no longer connect, nor be sealed secrets); false if no such rack. */
export async function forgetRackKeys(q: Queryable, rackId: string): Promise<boolean> {
  const [, count] = await q.query(`UPDATE rack_controllers SET nats_nkey = NULL, box_public_key = NULL, status = 'dead' WHERE system_id = $1`, [rackId]);
  return count > 0;
}

/** The public key of the region's nkey seed file. */
export function regionNkeyPublicKey(seedFile: string): string {
  return nkeys.fromSeed(new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim())).getPublicKey();
}

/** The NATS users of every enrolled, not revoked, rack (the server config lists exactly these). */
export function enrolledRackNkeys(q: Queryable): Promise<{ rackId: string; nkey: string }[]> {
  return q.query(`SELECT system_id AS "rackId", nats_nkey AS nkey FROM rack_controllers WHERE nats_nkey IS NOT NULL ORDER BY system_id`);
}

/** Writes the server config atomically (mode 0600) when it differs from the file; true when it did. */
export async function writeNatsServerConfig(configFile: string, text: string): Promise<boolean> {
  if ((await readFile(configFile, 'utf8').catch(() => null)) === text) return false;
  const tmp = `${configFile}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, configFile);
  return true;
}

/**
 * Tells the NATS server of `pidFile` to reload its config (SIGHUP): a removed rack is cut off at
 * once. The pid signalled, or null when no server runs there.
 */
export async function reloadNatsServer(pidFile: string): Promise<number | null> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    process.kill(pid, 'SIGHUP');
    return pid;
  } catch {
    return null;
  }
}
