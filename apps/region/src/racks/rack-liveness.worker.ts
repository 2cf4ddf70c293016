import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { bullConnection } from '../jobs/jobs.module';
import { log, withLogContext } from '../logging/logger';
import { RacksRepository } from './racks.repository';

export const RACKS_QUEUE_NAME = 'racks';
/** A rack silent for this many heartbeat intervals is dead (MAAS does the same with its rackd service). */
export const MISSED_HEARTBEATS = 3;
/** Receipts outlive the JetStream stream's max age, so a redelivery is always recognised. */
const RECEIPT_RETENTION_MS = 8 * 24 * 3600_000;

/**
 * Marks silent racks dead. A repeatable BullMQ job (one scheduler shared by all regions, each run
 * idempotent: the UPDATE only touches racks that are not dead yet), so it survives restarts.
 */
@Injectable()
export class RackLivenessWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private queue: Queue | null = null;
  private worker: Worker | null = null;

  constructor(
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
    private readonly racks: RacksRepository,
  ) {}

  async onApplicationBootstrap() {
    const connection = bullConnection(this.config.redis.url);
    const prefix = this.config.redis.prefix;
    this.queue = new Queue(RACKS_QUEUE_NAME, { connection, prefix });
    this.worker = new Worker(RACKS_QUEUE_NAME, (job) => withLogContext({ jobId: job.id, job: job.name }, () => this.sweep()), {
      connection,
      prefix,
      concurrency: 1,
    });
    this.worker.on('error', (err) => log().error({ err }, 'rack liveness worker error'));
    await this.queue.upsertJobScheduler(
      'rack-liveness',
      { every: this.config.racks.heartbeatIntervalMs },
      { name: 'rack.liveness', data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }

  async onModuleDestroy() {
    await this.worker?.close();
    await this.queue?.close();
  }

  async sweep(): Promise<string> {
    const silentMs = MISSED_HEARTBEATS * this.config.racks.heartbeatIntervalMs;
    const dead = await this.racks.markSilentDead(silentMs);
    for (const r of dead) {
      log().warn(
        { rackId: r.systemId, hostname: r.hostname, lastSeen: r.lastSeen?.toISOString() ?? null, silentMs },
        'rack marked dead: no heartbeat',
      );
    }
    await this.racks.pruneEventReceipts(RECEIPT_RETENTION_MS);
    return `dead ${dead.length}`;
  }
}
