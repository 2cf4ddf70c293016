import type { BoxKeyPair } from '@kiln/contracts';

/**
 * Who this rack is: its stable id and its box key pair (both from the state directory), and its
 * host name. The box secret key never leaves the rack; the region seals secrets to its public key.
 */
export interface RackIdentity {
  rackId: string;
  hostname: string;
  box: BoxKeyPair;
  /** The rack's NATS nkey seed (a user nkey); the NATS server knows only its public key. */
  nkeySeed: Uint8Array;
  /** The region signing key pinned at enrollment, if the rack enrolled. */
  regionSigningKey: string | null;
}

export const RACK_IDENTITY = Symbol('RACK_IDENTITY');
