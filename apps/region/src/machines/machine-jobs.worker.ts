import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import { DataSource } from 'typeorm';
import { Effect, MONITORED_STATUSES, statusName, NodeStatus } from '@kiln/lifecycle';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { EventsRepository } from '../events/events.repository';
import { bullConnection } from '../jobs/jobs.module';
import { JOB_NAMES, JobName, JobPayloads, LIFECYCLE_QUEUE, LIFECYCLE_QUEUE_NAME } from '../jobs/jobs.types';
import { log, withLogContext } from '../logging/logger';
import { MachineLifecycleService } from './machine-lifecycle.service';

type Handlers = { [K in JobName]: (data: JobPayloads[K], job: Job) => Promise<string> };

/**
 * The region's lifecycle worker. Every region runs one; BullMQ shares the work between them.
 * Handlers are idempotent: they re-read the machine and do nothing if it moved on.
 */
@Injectable()
export class MachineJobsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: Worker | null = null;
  private readonly handlers: Handlers = {
    'deadline.sweep': () => this.sweep(),
    'machine.effect': (data) => this.effect(data),
  };

  constructor(
    private readonly ds: DataSource,
    private readonly lifecycle: MachineLifecycleService,
    private readonly events: EventsRepository,
    @Inject(LIFECYCLE_QUEUE) private readonly queue: Queue,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {
    // A job name without a handler is a start-up failure, not a job that sits in Redis forever.
    for (const name of JOB_NAMES) if (!this.handlers[name]) throw new Error(`no handler for job ${name}`);
  }

  async onApplicationBootstrap() {
    this.worker = new Worker(
      LIFECYCLE_QUEUE_NAME,
      (job) =>
        withLogContext({ jobId: job.id, job: job.name }, () => {
          const handler = this.handlers[job.name as JobName] as (d: unknown, j: Job) => Promise<string>;
          if (!handler) throw new Error(`unknown job ${job.name}`);
          return handler(job.data, job);
        }),
      { connection: bullConnection(this.config.redis.url), prefix: this.config.redis.prefix, concurrency: 8 },
    );
    this.worker.on('failed', (job, err) => log().warn({ jobId: job?.id, job: job?.name, err }, 'lifecycle job failed'));
    this.worker.on('error', (err) => log().error({ err }, 'lifecycle worker error'));
    // Idempotent: every region upserts the same scheduler, so there is one sweep per interval.
    await this.queue.upsertJobScheduler(
      'deadline-sweep',
      { every: this.config.lifecycle.sweepIntervalMs },
      { name: 'deadline.sweep', data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }

  async onApplicationShutdown() {
    await this.worker?.close();
  }

  /** Fails every machine whose deadline of record has passed. Safe to run from several regions at once. */
  async sweep(): Promise<string> {
    const rows: { system_id: string }[] = await this.ds.query(
      `SELECT system_id FROM machines WHERE status_expires IS NOT NULL AND status_expires < now() AND status = ANY($1)
       ORDER BY status_expires LIMIT 500`,
      [[...MONITORED_STATUSES]],
    );
    let failed = 0;
    for (const { system_id } of rows) {
      try {
        const r = await this.lifecycle.apply(system_id, { type: 'timedOut' }, null);
        if (r.decision) failed++;
      } catch (err) {
        log().warn({ systemId: system_id, err }, 'could not time out machine');
      }
    }
    if (failed) log().info({ failed }, 'deadline sweep failed machines past their deadline');
    return `failed ${failed}`;
  }

  async effect(job: JobPayloads['machine.effect']): Promise<string> {
    const [m] = await this.ds.query(
      `SELECT m.id, m.system_id, m.hostname, m.status, m.version, m.status_expires, b.power_type
         FROM machines m LEFT JOIN bmcs b ON b.id = m.bmc_id WHERE m.system_id = $1`,
      [job.systemId],
    );
    if (!m) return 'skipped: machine deleted';
    if (m.status !== job.status) {
      // The transition that asked for this effect is history: the machine moved on since.
      return `skipped: machine is ${statusName(m.status as NodeStatus)} now`;
    }
    const say = (type: string, level: 'INFO' | 'WARNING', description: string) =>
      this.events.append({ machineId: m.id, systemId: m.system_id, hostname: m.hostname, type, level, description, action: job.effect.kind });
    const power = (m.power_type as string | null) ?? '';
    const deadline = m.status_expires ? ` (deadline ${new Date(m.status_expires).toISOString()})` : '';
    const e: Effect = job.effect;
    switch (e.kind) {
      case 'powerOn':
      case 'powerCycle':
      case 'powerOff': {
        const verb = e.kind === 'powerOn' ? 'on' : e.kind === 'powerCycle' ? 'cycle' : `off (${e.stopMode})`;
        if (power === 'manual') {
          await say(`Power ${verb.split(' ')[0]}`, 'INFO', `Manual power: the operator must power ${verb} this machine by hand`);
        } else if (power === '') {
          await say(`Power ${verb.split(' ')[0]}`, 'WARNING', `Cannot power ${verb}: no power type is configured`);
        } else {
          await say(
            `Power ${verb.split(' ')[0]}`,
            'WARNING',
            `Power ${verb} via ${power} not sent: no rack controller is connected to drive this BMC${deadline}`,
          );
        }
        return `power ${verb}`;
      }
      case 'startCommissioning':
      case 'startTesting':
      case 'startDeployment':
      case 'startReleaseScripts': {
        const what = {
          startCommissioning: 'commissioning environment',
          startTesting: 'testing environment',
          startDeployment: 'installer',
          startReleaseScripts: 'release environment',
        }[e.kind];
        await say('Waiting for boot', 'INFO', `${statusName(m.status as NodeStatus)}: waiting for the machine to network-boot the ${what}${deadline}`);
        return `waiting for ${what}`;
      }
      case 'abortScripts':
        await say('Aborted', 'INFO', 'Pending and running scripts were marked aborted');
        return 'aborted scripts';
      default:
        return `nothing to do for ${e.kind}`;
    }
  }
}
