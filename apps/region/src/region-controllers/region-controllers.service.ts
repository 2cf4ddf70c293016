import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { hostname } from 'node:os';
import { conflict, notFound } from '../common/domain.error';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { log } from '../logging/logger';
import { newSystemId } from '../machines/names';
import { RegionControllersRepository, RegionRow } from './region-controllers.repository';

/** A region silent for this many heartbeat intervals is not running (racks are judged the same way). */
export const MISSED_HEARTBEATS = 3;

export type RegionStatus = 'running' | 'dead';

/**
 * The region processes. Regions keep no state of their own, so each one records itself in
 * Postgres when it starts, heartbeats at the racks' interval, and removes its record when it stops
 * cleanly. A region that died without stopping stays listed as dead until an administrator
 * deletes it; a running region cannot be deleted.
 */
@Injectable()
export class RegionControllersService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private systemId: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: RegionControllersRepository,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  private get intervalMs(): number {
    return this.config.racks.heartbeatIntervalMs;
  }

  /** This process's system id, once recorded. */
  get self(): string | null {
    return this.systemId;
  }

  async onApplicationBootstrap(): Promise<void> {
    let systemId = newSystemId();
    while (await this.repo.systemIdTaken(systemId)) systemId = newSystemId();
    await this.repo.insert({ systemId, hostname: hostname(), pid: process.pid, version: this.config.version });
    this.systemId = systemId;
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
    log().info({ regionId: systemId }, 'region controller recorded');
  }

  private async beat(): Promise<void> {
    const id = this.systemId;
    if (!id) return;
    try {
      if (!(await this.repo.heartbeat(id))) {
        // Deleted while it looked dead (a long pause): record it again.
        await this.repo.insert({ systemId: id, hostname: hostname(), pid: process.pid, version: this.config.version });
      }
    } catch (err) {
      log().warn({ err, regionId: id }, 'region heartbeat not recorded');
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const id = this.systemId;
    this.systemId = null;
    if (id) await this.repo.delete(id).catch((err) => log().warn({ err, regionId: id }, 'region record not removed'));
  }

  status(r: RegionRow, now = Date.now()): RegionStatus {
    return now - new Date(r.last_seen).getTime() <= MISSED_HEARTBEATS * this.intervalMs ? 'running' : 'dead';
  }

  list(): Promise<RegionRow[]> {
    return this.repo.list();
  }

  defaultDomain(): Promise<{ id: number; name: string }> {
    return this.repo.defaultDomain();
  }

  async get(systemId: string): Promise<RegionRow> {
    const r = await this.repo.bySystemId(systemId);
    if (!r) throw notFound('No RegionController matches the given query.');
    return r;
  }

  /** Refused while the region heartbeats (stop it first); a dead region's record is forgotten. */
  async delete(systemId: string): Promise<void> {
    const r = await this.get(systemId);
    if (systemId === this.systemId || this.status(r) === 'running') {
      throw conflict(`Unable to delete region controller ${r.hostname} (${systemId}): it is running (last heartbeat ${new Date(r.last_seen).toISOString()}). Stop it first.`);
    }
    await this.repo.delete(systemId);
    log().warn({ regionId: systemId }, 'region controller deleted');
  }
}
