import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Proof that a rack knows the shared secret, without sending the secret itself: an HMAC-SHA256
 * over the rack id and a timestamp. The region accepts proofs within `maxSkewMs` of its clock.
 */
export function rackAuthProof(secret: string, rackId: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`kiln-rack-register:${rackId}:${timestampMs}`).digest('hex');
}

export function verifyRackAuthProof(
  secret: string,
  rackId: string,
  auth: { timestamp: number; proof: string },
  nowMs: number,
  maxSkewMs = 5 * 60_000,
): boolean {
  if (!secret || Math.abs(nowMs - auth.timestamp) > maxSkewMs) return false;
  const expected = Buffer.from(rackAuthProof(secret, rackId, auth.timestamp), 'hex');
  const given = Buffer.from(auth.proof, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
