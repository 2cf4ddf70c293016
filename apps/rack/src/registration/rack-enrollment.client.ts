import { join } from 'node:path';
import { RACK_ENROLLMENT_PATH, rackEnrollmentReply } from '@kiln/contracts';
import { readFileIfExists, writeFileAtomic } from './state.files';

export interface EnrollmentInput {
  stateDir: string;
  regionUrl: string | null;
  token: string | null;
  rackId: string;
  hostname: string;
  nkeyPublic: string;
  boxPublicKey: string;
}

/**
 * The region signing key this rack pinned when it enrolled (`<stateDir>/region-signing.pub`).
 * A rack that has not enrolled yet and was given a token (KILN_RACK_ENROLL_TOKEN) enrolls now:
 * it sends the region only its public keys, and pins the key the region answers with.
 * null: not enrolled and nothing to enroll with.
 */
export async function pinnedRegionKey(e: EnrollmentInput, fetchFn: typeof fetch = fetch): Promise<string | null> {
  const path = join(e.stateDir, 'region-signing.pub');
  const pinned = (await readFileIfExists(path))?.trim();
  if (pinned) return pinned;
  if (!e.token) return null;
  if (!e.regionUrl) throw new Error('KILN_RACK_ENROLL_TOKEN needs KILN_REGION_URL (where to enroll)');
  const res = await fetchFn(`${e.regionUrl}${RACK_ENROLLMENT_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: e.token, rackId: e.rackId, hostname: e.hostname, nkey: e.nkeyPublic, boxPublicKey: e.boxPublicKey }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`the region refused the enrollment (${res.status}): ${text.slice(0, 300)}`);
  const reply = rackEnrollmentReply.parse(JSON.parse(text));
  if (reply.rackId !== e.rackId) throw new Error(`the region enrolled rack ${reply.rackId}, not ${e.rackId}`);
  await writeFileAtomic(path, `${reply.regionSigningKey}\n`);
  return reply.regionSigningKey;
}
