import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RackEnrollmentReply, RackEnrollmentRequest } from '@kiln/contracts';
import { createEnrollmentToken, forgetRackKeys, hashEnrollmentToken } from '@kiln/db';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { log } from '../logging/logger';
import { NatsServerConfigWriter } from './nats-server-config.writer';
import { regionSigner } from '../nats/nats.module';

export class EnrollmentRefused extends Error {}

/**
 * Rack enrollment and revocation. A token enrolls one rack, once, before it expires; the rack's
 * public keys are recorded and the NATS server's config is rewritten so that it may connect.
 * Revoking a rack removes its keys: the server cuts its connection and it receives no secrets.
 */
@Injectable()
export class RackEnrollmentService {
  constructor(
    private readonly ds: DataSource,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
    private readonly natsConfig: NatsServerConfigWriter,
  ) {}

  /** A new one-time token; only its hash is stored. */
  createToken(ttlMs = 24 * 3600_000): Promise<{ token: string; expires: Date }> {
    return createEnrollmentToken(this.ds, ttlMs);
  }

  async enroll(req: RackEnrollmentRequest): Promise<RackEnrollmentReply> {
    await this.ds.transaction(async (em) => {
      const [spent] = await em.query(
        `UPDATE rack_enrollment_tokens SET used_by = $2 WHERE token_hash = $1 AND used_by IS NULL AND expires > now() RETURNING 1`,
        [hashEnrollmentToken(req.token), req.rackId],
      );
      if (!spent?.length) throw new EnrollmentRefused('the enrollment token is unknown, spent or expired');
      const rows: unknown[] = await em.query(
        `INSERT INTO rack_controllers (system_id, hostname, status, box_public_key, nats_nkey) VALUES ($1, $2, 'unknown', $3, $4)
         ON CONFLICT (system_id) DO UPDATE SET box_public_key = EXCLUDED.box_public_key, nats_nkey = EXCLUDED.nats_nkey
           WHERE rack_controllers.nats_nkey IS NULL
         RETURNING 1`,
        [req.rackId, req.hostname, req.boxPublicKey, req.nkey],
      );
      if (!rows.length) throw new EnrollmentRefused('a rack with this id is already enrolled; revoke it first');
    });
    log().info({ rackId: req.rackId, hostname: req.hostname, nkey: req.nkey }, 'rack enrolled');
    await this.natsConfig.sync();
    return { rackId: req.rackId, regionSigningKey: regionSigner(this.config).publicKey };
  }

  /** The rack can do nothing on the bus any more and is sent no secrets; false if it was not enrolled. */
  async revoke(rackId: string): Promise<boolean> {
    const revoked = await forgetRackKeys(this.ds, rackId);
    log().warn({ rackId }, 'rack revoked');
    await this.natsConfig.sync();
    return revoked;
  }
}
