import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MAX_NEIGHBOURS_PER_EVENT } from '@kiln/contracts';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { RackEventsPublisher } from '../events/rack-events.publisher';
import { log } from '../logging/logger';
import { discoverInterfaces } from '../registration/interfaces.discovery';
import { NeighbourBatch, parseNeighbourTable, SkipReason } from './neighbour.table';

const run = promisify(execFile);

/** Reads the kernel's neighbour table as iproute2 JSON (seconds since last heard from included). */
export type NeighbourTableReader = () => Promise<string>;

export const readKernelNeighbours: NeighbourTableReader = async () =>
  (await run('ip', ['-j', '-s', '-4', 'neigh', 'show'], { timeout: 5_000, maxBuffer: 16 * 1024 * 1024 })).stdout;

/**
 * Hosts the rack sees on the interfaces it serves (MAAS's neighbours). The kernel already keeps
 * what ARP told it: a host that sends an ARP request or reply to the rack, or that the rack
 * talks to, gets an entry in the neighbour table, with how long ago it was last heard from. The
 * rack reads that table every poll period (no raw socket, no extra privilege, nothing to miss
 * while the process restarts), keeps one sighting per (interface, IP, MAC) with its count and
 * first/last time, and sends the period's sightings to the region as one event per report period.
 * Entries it cannot use are counted by reason and logged, never sent.
 */
@Injectable()
export class NeighboursWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly batch = new NeighbourBatch();
  private pollTimer: NodeJS.Timeout | null = null;
  private reportTimer: NodeJS.Timeout | null = null;
  private polling = false;
  readonly skipped: Record<SkipReason | 'read-failed', number> = { malformed: 0, 'not-served': 0, 'not-ipv4': 0, 'no-lladdr': 0, 'not-live': 0, 'read-failed': 0 };

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(RackEventsPublisher) private readonly publisher: RackEventsPublisher,
    private readonly read: NeighbourTableReader = readKernelNeighbours,
  ) {}

  onApplicationBootstrap() {
    const { pollMs, reportMs } = this.config.neighbours;
    if (pollMs === 0) return;
    this.pollTimer = setInterval(() => void this.poll(), pollMs);
    this.reportTimer = setInterval(() => this.report(), reportMs);
    void this.poll();
    log().info({ pollMs, reportMs }, 'reporting hosts seen by ARP on the served interfaces');
  }

  /** Reads the table once and adds what is new to the current period. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const served = new Set(discoverInterfaces(this.config.interfaces).map((i) => i.name));
      const { entries, skipped } = parseNeighbourTable(await this.read(), served, Date.now());
      this.batch.add(entries);
      const bad = skipped.malformed;
      for (const [k, n] of Object.entries(skipped) as [SkipReason, number][]) this.skipped[k] += n;
      if (bad) log().warn({ malformed: bad, total: this.skipped.malformed }, 'neighbour table entries dropped: malformed');
    } catch (err) {
      if (this.skipped['read-failed']++ % 100 === 0) log().warn({ err: (err as Error).message, failures: this.skipped['read-failed'] }, 'could not read the neighbour table');
    } finally {
      this.polling = false;
    }
  }

  /** Sends the period's sightings (in events of at most MAX_NEIGHBOURS_PER_EVENT); nothing when there are none. */
  report(): number {
    const all = this.batch.take();
    for (let i = 0; i < all.length; i += MAX_NEIGHBOURS_PER_EVENT) this.publisher.neighbours(all.slice(i, i + MAX_NEIGHBOURS_PER_EVENT));
    if (all.length) log().debug({ sightings: all.length }, 'neighbours reported');
    return all.length;
  }

  onApplicationShutdown() {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.reportTimer) clearInterval(this.reportTimer);
  }
}

@Module({ providers: [{ provide: NeighboursWatcher, inject: [RACK_CONFIG, RackEventsPublisher], useFactory: (c: RackConfig, p: RackEventsPublisher) => new NeighboursWatcher(c, p) }] })
export class NeighboursModule {}
