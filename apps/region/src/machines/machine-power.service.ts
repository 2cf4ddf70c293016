import { Injectable } from '@nestjs/common';
import type { Actor } from '../common/actor';
import { timedOut, unavailable } from '../common/domain.error';
import { MachineEvents } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { PowerClient, PowerFailure } from '../power/power.client';
import { MachineListingService } from './machine-listing.service';
import { MachinesRepository } from './machines.repository';

/** Asking a machine's BMC, through a rack, what it says now. */
@Injectable()
export class MachinePowerService {
  constructor(
    private readonly listing: MachineListingService,
    private readonly repo: MachinesRepository,
    private readonly events: EventsRepository,
    private readonly power: PowerClient,
  ) {}

  /** Asks the BMC now, through a rack; records and returns what it says. */
  async queryPowerState(systemId: string, actor: Actor): Promise<string> {
    const rec = await this.listing.get(systemId, actor);
    const target = await this.power.target(systemId);
    if (!target || target.power_type === 'manual' || target.power_type === '') return 'unknown';
    try {
      const r = await this.power.run(target, { kind: 'query' }, 55_000);
      await this.repo.setPowerState(rec.row.id, r.state, null);
      return r.state;
    } catch (e) {
      const f = e as PowerFailure;
      await this.repo.setPowerState(rec.row.id, 'error', f.message);
      await this.events.append({
        machineId: rec.row.id,
        systemId,
        hostname: rec.row.hostname,
        ...MachineEvents.POWER_QUERY_FAILED,
        description: `BMC query failed (${f.code}): ${f.message}`,
        action: 'query_power_state',
        username: actor.username,
      });
      if (f.code === 'TIMEOUT' || f.code === 'BMC_TIMEOUT') throw timedOut(`Timed out querying the BMC of ${rec.row.hostname}: ${f.message}`);
      throw unavailable(`Unable to query the power state of ${rec.row.hostname} (${f.code}): ${f.message}`);
    }
  }
}
