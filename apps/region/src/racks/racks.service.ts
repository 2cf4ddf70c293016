import { Injectable } from '@nestjs/common';
import type { RackControllerEntity } from '@kiln/db';
import { invalid, notFound } from '../common/domain.error';
import { log } from '../logging/logger';
import { NetworkingRepository, type SubnetRow, type VlanRow } from '../networking/networking.repository';
import { RackEnrollmentService } from './rack-enrollment.service';
import { RacksRepository } from './racks.repository';

export interface RackNetworks {
  vlans: ReadonlyMap<number, VlanRow>;
  subnets: ReadonlyMap<number, SubnetRow>;
}

/** Longest an enrollment token may live (30 days); the default is 24 hours. */
export const MAX_TOKEN_TTL_HOURS = 720;

/**
 * The racks as operators manage them: listing, the one-time tokens new racks enroll with, and
 * deleting a rack, which revokes it first.
 */
@Injectable()
export class RacksService {
  constructor(
    private readonly racks: RacksRepository,
    private readonly enrollment: RackEnrollmentService,
    private readonly networking: NetworkingRepository,
  ) {}

  /** The VLANs and subnets rack interfaces are shown with (the model is small). */
  async networks(): Promise<RackNetworks> {
    const [vlans, subnets] = await Promise.all([this.networking.vlanMap(), this.networking.subnets()]);
    return { vlans, subnets: new Map(subnets.map((s) => [s.id, s])) };
  }

  list(): Promise<RackControllerEntity[]> {
    return this.racks.list();
  }

  async get(systemId: string): Promise<RackControllerEntity> {
    const rack = await this.racks.bySystemId(systemId);
    if (!rack) throw notFound('No RackController matches the given query.');
    return rack;
  }

  /** A token valid for `ttlHours` (1 to MAX_TOKEN_TTL_HOURS); `by` is who asked, for the log. */
  async createEnrollmentToken(ttlHours: number, by: string): Promise<{ token: string; expires: Date }> {
    if (!Number.isInteger(ttlHours) || ttlHours < 1 || ttlHours > MAX_TOKEN_TTL_HOURS) {
      throw invalid({ ttl_hours: [`Must be a whole number of hours from 1 to ${MAX_TOKEN_TTL_HOURS}.`] });
    }
    const { token, expires } = await this.enrollment.createToken(ttlHours * 3600_000);
    log().info({ by, expires }, 'rack enrollment token issued');
    return { token, expires };
  }

  /** Revokes the rack (off the bus, keys forgotten), then forgets it. Refused while it serves DHCP on a VLAN. */
  async delete(systemId: string, by: string): Promise<void> {
    const vlans = await this.racks.vlansServedBy(systemId);
    if (vlans === null) throw notFound('No RackController matches the given query.');
    if (vlans.length) {
      // As MAAS: a rack that serves DHCP on a VLAN is moved off it first (`kiln rack-revoke` cuts it off at once regardless).
      throw invalid(
        `Unable to delete rack controller ${systemId}: it is the primary or secondary rack controller of VLAN ${vlans.join(', ')}. Set another rack controller on those VLANs first.`,
      );
    }
    // Off the bus first (its nkey leaves the NATS server config, which reloads and cuts its connection), then forgotten.
    await this.enrollment.revoke(systemId);
    await this.racks.delete(systemId);
    log().warn({ rackId: systemId, by }, 'rack controller deleted');
  }
}
