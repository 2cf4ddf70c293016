import { z } from 'zod';
import { isUserNkey } from './bus-permissions';
import { isBoxPublicKey } from './crypto/sealed-box';
import { rackId } from './net.schema';

/**
 * POST <region>/MAAS/kiln/racks/enroll — a new rack joins with a one-time token an administrator
 * issued (`kiln rack-token`). It sends only public keys: its NATS nkey (the server will let it in
 * with its own permissions) and its X25519 box key (secrets for it are sealed to it). The region
 * answers with the key its messages are signed with, which the rack pins.
 */
export const rackEnrollmentRequest = z.object({
  token: z.string().min(16).max(128),
  rackId,
  hostname: z.string().min(1).max(255),
  nkey: z.string().refine(isUserNkey, 'a NATS user public nkey'),
  boxPublicKey: z.string().max(64).refine(isBoxPublicKey, 'an X25519 public key (base64url, 32 bytes)'),
});
export type RackEnrollmentRequest = z.output<typeof rackEnrollmentRequest>;

export const rackEnrollmentReply = z.object({
  rackId,
  /** base64url Ed25519 public key of the regions' message signatures. */
  regionSigningKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});
export type RackEnrollmentReply = z.output<typeof rackEnrollmentReply>;

export const RACK_ENROLLMENT_PATH = '/MAAS/kiln/racks/enroll';
