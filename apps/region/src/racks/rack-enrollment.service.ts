import { Inject, Injectable } from '@nestjs/common';
import { RackEnrollmentReply, RackEnrollmentRequest } from '@kiln/contracts';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { log } from '../logging/logger';
import { NatsServerConfigWriter } from './nats-server-config.writer';
import { RacksRepository } from './racks.repository';
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
    private readonly racks: RacksRepository,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
    private readonly natsConfig: NatsServerConfigWriter,
  ) {}

  /** A new one-time token; only its hash is stored. */
  createToken(ttlMs = 24 * 3600_000): Promise<{ token: string; expires: Date }> {
    return this.racks.createEnrollmentToken(ttlMs);
  }

  async enroll(req: RackEnrollmentRequest): Promise<RackEnrollmentReply> {
    const outcome = await this.racks.enroll(req);
    if (outcome === 'token') throw new EnrollmentRefused('the enrollment token is unknown, spent or expired');
    if (outcome === 'enrolled') throw new EnrollmentRefused('a rack with this id is already enrolled; revoke it first');
    log().info({ rackId: req.rackId, hostname: req.hostname, nkey: req.nkey }, 'rack enrolled');
    await this.natsConfig.sync();
    return { rackId: req.rackId, regionSigningKey: regionSigner(this.config).publicKey };
  }

  /** The rack can do nothing on the bus any more and is sent no secrets; false if it was not enrolled. */
  async revoke(rackId: string): Promise<boolean> {
    const revoked = await this.racks.forgetKeys(rackId);
    log().warn({ rackId }, 'rack revoked');
    await this.natsConfig.sync();
    return revoked;
  }
}
