import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { DataSource, EntityManager } from 'typeorm';
import { COMMISSIONING_LIKE_STATUSES, Effect, MONITORED_STATUSES, NodeStatus, statusName } from '@kiln/lifecycle';
import { PowerClient, PowerFailure } from '../power/power.client';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { MachineEvents, type MachineEventType } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { bullConnection } from '../jobs/jobs.module';
import { JOB_NAMES, JobName, JobPayloads, LIFECYCLE_QUEUE, LIFECYCLE_QUEUE_NAME } from '../jobs/jobs.types';
import { log, withLogContext } from '../logging/logger';
import { EffectOutboxRepository } from './effect-outbox.repository';
import { MachineLifecycleService } from './machine-lifecycle.service';
import { MachinesRepository } from './machines.repository';

/** Effects younger than this are still on their way through the normal enqueue after commit. */
const OUTBOX_GRACE_MS = 5_000;
/** How long an effect waits before looking again when an earlier command of its machine has not run yet. */
const IN_ORDER_WAIT_MS = 500;

type Handlers = { [K in JobName]: (data: JobPayloads[K], job: Job, token?: string) => Promise<string> };
type Say = (type: MachineEventType, level: 'INFO' | 'WARNING', description: string, em?: EntityManager) => Promise<void>;

/** Event types of a power effect: asked of an operator (manual, none configured), and carried out. */
const POWER_ASKED: Record<'powerOn' | 'powerCycle' | 'powerOff', MachineEventType> = {
  powerOn: MachineEvents.POWER_ON.type,
  powerCycle: MachineEvents.POWER_CYCLE.type,
  powerOff: MachineEvents.POWER_OFF.type,
};
const POWER_DONE: Record<'powerOn' | 'powerCycle' | 'powerOff', MachineEventType> = {
  powerOn: MachineEvents.POWERED_ON.type,
  powerCycle: MachineEvents.POWERED_CYCLED.type,
  powerOff: MachineEvents.POWERED_OFF.type,
};

/**
 * The region's lifecycle worker. Every region runs one; BullMQ shares the work between them.
 * Handlers are idempotent: they re-read the machine and do nothing if it moved on.
 */
@Injectable()
export class MachineJobsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private worker: Worker | null = null;
  private upkeep: NodeJS.Timeout | null = null;
  private readonly handlers: Handlers = {
    'deadline.sweep': () => this.sweep(),
    'machine.effect': (data, job, token) => this.effect(data, job.attemptsMade + 1, job.opts.attempts ?? 1, job, token),
    'power.poll': () => this.pollPower(),
  };

  constructor(
    private readonly ds: DataSource,
    private readonly lifecycle: MachineLifecycleService,
    private readonly events: EventsRepository,
    private readonly powerClient: PowerClient,
    private readonly machines: MachinesRepository,
    private readonly outbox: EffectOutboxRepository,
    @Inject(LIFECYCLE_QUEUE) private readonly queue: Queue,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {
    // A job name without a handler is a start-up failure, not a job that sits in Redis forever.
    for (const name of JOB_NAMES) if (!this.handlers[name]) throw new Error(`no handler for job ${name}`);
  }

  async onApplicationBootstrap() {
    this.worker = new Worker(
      LIFECYCLE_QUEUE_NAME,
      (job, token) =>
        // The request that queued the job (its data), else the job itself, correlates its lines and commands.
        withLogContext({ jobId: job.id, job: job.name, correlationId: (job.data as { correlationId?: string } | undefined)?.correlationId ?? job.id }, () => {
          const handler = this.handlers[job.name as JobName] as (d: unknown, j: Job, t?: string) => Promise<string>;
          if (!handler) throw new Error(`unknown job ${job.name}`);
          return handler(job.data, job, token);
        }),
      { connection: bullConnection(this.config.redis.url), prefix: this.config.redis.prefix, concurrency: 8 },
    );
    this.worker.on('failed', (job, err) => {
      log().warn({ jobId: job?.id, job: job?.name, err }, 'lifecycle job failed');
      if (job?.name === 'machine.effect' && job.id) void this.forgetFailedEffect(job);
    });
    this.worker.on('error', (err) => log().error({ err }, 'lifecycle worker error'));
    await this.ensureSchedulers(true);
    await this.keepUp();
    this.upkeep = setInterval(() => void this.keepUp(), this.config.lifecycle.sweepIntervalMs);
    this.upkeep.unref();
  }

  async onApplicationShutdown() {
    if (this.upkeep) clearInterval(this.upkeep);
    await this.worker?.close();
  }

  /**
   * Idempotent: every region upserts the same schedulers, so there is one sweep per interval.
   * Later calls only recreate a scheduler Redis no longer has (a Redis restarted without
   * persistence forgets them), so the deadlines of record keep firing.
   */
  private async ensureSchedulers(upsert: boolean): Promise<void> {
    const schedulers = [
      {
        id: 'deadline-sweep',
        every: this.config.lifecycle.sweepIntervalMs,
        template: { name: 'deadline.sweep', data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
      },
      {
        id: 'power-poll',
        every: this.config.power.pollIntervalMs,
        template: { name: 'power.poll', data: {}, opts: { removeOnComplete: true, removeOnFail: 100, attempts: 1 } },
      },
    ];
    for (const s of schedulers) {
      if (!upsert && (await this.queue.getJobScheduler(s.id))) continue;
      if (!upsert) log().warn({ scheduler: s.id }, 'job scheduler missing from Redis: recreating it');
      await this.queue.upsertJobScheduler(s.id, { every: s.every }, s.template);
    }
  }

  /** Periodic upkeep: schedulers present, effects left in the outbox queued. Never throws. */
  async keepUp(): Promise<void> {
    try {
      await this.ensureSchedulers(false);
      await this.lifecycle.relayOutbox(OUTBOX_GRACE_MS);
    } catch (err) {
      log().warn({ err }, 'lifecycle upkeep failed; retrying at the next interval');
    }
  }

  /** An effect whose job failed for good (attempts used up, or a fatal error) leaves the outbox. */
  private async forgetFailedEffect(job: Job): Promise<void> {
    try {
      if (!(await job.isFailed())) return; // it will be retried: the row stays the record
      if (job.id) await this.outbox.remove(job.id);
    } catch (err) {
      log().warn({ err, jobId: job.id }, 'could not clear a failed effect from the outbox');
    }
  }

  /** Fails every machine whose deadline of record has passed. Safe to run from several regions at once. */
  async sweep(): Promise<string> {
    const rows = await this.machines.pastDeadline([...MONITORED_STATUSES], 500);
    let failed = 0;
    for (const { system_id } of rows) {
      try {
        // The reason names the machine's last sign of progress (an installer step, a boot).
        const [last] = await this.events.query({ systemIds: [system_id], minLevel: 0, limit: 1 });
        const r = await this.lifecycle.apply(system_id, { type: 'timedOut', lastStep: last?.description }, null);
        if (r.decision) failed++;
      } catch (err) {
        log().warn({ systemId: system_id, err }, 'could not time out machine');
      }
    }
    if (failed) log().info({ failed }, 'deadline sweep failed machines past their deadline');
    return `failed ${failed}`;
  }

  /**
   * Carries out one lifecycle effect, once. An effect with an outbox row runs only while its row
   * is there (a re-queued or redelivered job whose effect was recorded does nothing), after every
   * earlier effect of the same machine (commands reach the rack in the order they were accepted),
   * and only while the machine is still where the transition left it: a job whose machine moved
   * on (another status, a deadline that passed) does nothing and says so in the log.
   */
  async effect(job: JobPayloads['machine.effect'], attempt = 1, maxAttempts = 1, bullJob?: Job, token?: string): Promise<string> {
    const jobId = job.outbox && bullJob?.id ? bullJob.id : null;
    const ids = { systemId: job.systemId, effect: job.effect.kind, jobId: bullJob?.id };
    if (jobId) {
      const created = await this.outbox.created(jobId);
      if (!created) {
        log().info(ids, 'effect already carried out: nothing to do');
        return 'skipped: already carried out';
      }
      const earlier = await this.outbox.hasEarlier(job.systemId, created);
      if (earlier && bullJob && token) {
        // Not a failure: the job waits its turn without using up an attempt.
        await bullJob.moveToDelayed(Date.now() + IN_ORDER_WAIT_MS, token);
        throw new DelayedError();
      }
    }
    const result = await this.carryOut(job, attempt, maxAttempts, jobId, ids);
    if (jobId) await this.outbox.remove(jobId);
    return result;
  }

  private async carryOut(
    job: JobPayloads['machine.effect'],
    attempt: number,
    maxAttempts: number,
    jobId: string | null,
    ids: Record<string, unknown>,
  ): Promise<string> {
    const m = await this.machines.effectSubject(job.systemId);
    if (!m) {
      log().info(ids, 'effect skipped: the machine was deleted');
      return 'skipped: machine deleted';
    }
    if (m.status !== job.status) {
      // The transition that asked for this effect is history: the machine moved on since.
      log().info({ ...ids, status: statusName(m.status as NodeStatus), wanted: statusName(job.status as NodeStatus) }, 'effect skipped: the machine moved on');
      return `skipped: machine is ${statusName(m.status as NodeStatus)} now`;
    }
    if (m.expired) {
      // The deadline sweep is about to fail this machine: starting its effects now helps nobody.
      log().info({ ...ids, statusExpires: m.status_expires }, 'effect skipped: the machine is past its deadline');
      return 'skipped: past the deadline';
    }
    const say: Say = (type, level, description, em) =>
      this.events.append({ machineId: m.id, systemId: m.system_id, hostname: m.hostname, type, level, description, action: job.effect.kind }, em);
    const power = (m.power_type as string | null) ?? '';
    const deadline = m.status_expires ? ` (deadline ${new Date(m.status_expires).toISOString()})` : '';
    const e: Effect = job.effect;
    switch (e.kind) {
      case 'powerOn':
      case 'powerCycle':
      case 'powerOff': {
        const verb = e.kind === 'powerOn' ? 'on' : e.kind === 'powerCycle' ? 'cycle' : `off (${e.stopMode})`;
        const type = POWER_ASKED[e.kind];
        if (power === 'manual') {
          await say(type, 'INFO', `Manual power: the operator must power ${verb} this machine by hand`);
        } else if (power === '') {
          await say(type, 'WARNING', `Cannot power ${verb}: no power type is configured`);
        } else {
          return this.power(m, e, say, attempt, maxAttempts, jobId);
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
        // The machine may fail (a signal, the deadline, a power failure) between the check above and
        // this event: then the event is history, and the failure's message stays the status message.
        await this.events.append({
          machineId: m.id,
          systemId: m.system_id,
          hostname: m.hostname,
          ...MachineEvents.WAITING_FOR_BOOT,
          description: `${statusName(m.status as NodeStatus)}: waiting for the machine to network-boot the ${what}${deadline}`,
          action: job.effect.kind,
          whileStatus: job.status,
        });
        return `waiting for ${what}`;
      }
      case 'abortScripts':
        await say(MachineEvents.ABORTED.type, 'INFO', 'Pending and running scripts were marked aborted');
        return 'aborted scripts';
      default:
        return `nothing to do for ${e.kind}`;
    }
  }

  /**
   * Drives the BMC through a rack, verifies the result, and records what the BMC said. Fatal
   * failures (bad credentials, settings, missing tool) are not retried; others are, with backoff,
   * until the job's attempts run out — then the machine's power state is 'error' with the reason.
   */
  private async power(
    m: { id: number; system_id: string; hostname: string; status: number },
    e: Extract<Effect, { kind: 'powerOn' | 'powerCycle' | 'powerOff' }>,
    say: Say,
    attempt: number,
    maxAttempts: number,
    jobId: string | null,
  ): Promise<string> {
    const target = await this.powerClient.target(m.system_id);
    if (!target) return 'skipped: no BMC';
    const netboot = (COMMISSIONING_LIKE_STATUSES as readonly number[]).includes(m.status) || m.status === NodeStatus.DEPLOYING;
    // The effect's id goes with every command: a rack that already carried it out answers from
    // memory instead of acting twice (a redelivered job, a region that died before recording).
    const cmd = jobId ? { commandId: jobId } : {};
    try {
      if (netboot && e.kind !== 'powerOff') {
        // The machine must network-boot into the ephemeral environment or installer.
        await this.powerClient.run(target, { kind: 'setBootDevice', device: 'pxe' }, undefined, cmd).catch((err: PowerFailure) => {
          if (err.code !== 'UNSUPPORTED') throw err;
        });
      }
      const action = e.kind === 'powerOn' ? { kind: 'on' as const } : e.kind === 'powerCycle' ? { kind: 'cycle' as const } : { kind: 'off' as const, mode: e.stopMode };
      const r = await this.powerClient.run(target, action, undefined, cmd);
      const verb = e.kind === 'powerOn' ? 'on' : e.kind === 'powerCycle' ? 'cycled' : 'off';
      // The result is recorded where the outbox row goes: once, whatever ran the job before.
      const recorded = await this.record(jobId, async (em) => {
        await this.machines.setPowerState(m.id, r.state, null, em);
        await say(
          POWER_DONE[e.kind],
          'INFO',
          r.outcome === 'manual'
            ? r.message ?? 'The operator must change the power by hand'
            : `Power ${verb} via ${target.power_type} on rack ${r.rackId}: BMC reports ${r.state}${r.verified ? ' (verified)' : ''} after ${r.calls} call(s), ${r.elapsedMs} ms`,
          em,
        );
      });
      if (!recorded) return 'skipped: already recorded';
      if (e.kind === 'powerOff' && m.status === NodeStatus.RELEASING && r.state === 'off') {
        await this.lifecycle.apply(m.system_id, { type: 'releaseCompleted' }, null);
      }
      return `power ${verb}: ${r.state}`;
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      const f = err instanceof PowerFailure ? err : new PowerFailure('INTERNAL', (err as Error).message, false);
      const last = f.fatal || attempt >= maxAttempts;
      if (last) {
        await this.record(jobId, async (em) => {
          await this.machines.setPowerState(m.id, 'error', f.message, em);
          await this.events.append(
            {
              machineId: m.id,
              systemId: m.system_id,
              hostname: m.hostname,
              type: MachineEvents.POWER_FAILED.type,
              level: 'ERROR',
              description: `Power ${e.kind.replace('power', '').toLowerCase()} failed (${f.code})${f.fatal ? '' : ` after ${attempt} attempt(s)`}: ${f.message}`,
              action: e.kind,
            },
            em,
          );
        });
        if (f.fatal) {
          // No retry fixes this (missing tool, refused credentials, bad settings, unsupported):
          // an in-flight status fails now, with the reason, instead of at its deadline.
          if ((MONITORED_STATUSES as readonly number[]).includes(m.status)) {
            await this.lifecycle
              .apply(m.system_id, { type: 'powerFailed', reason: `power ${e.kind.replace('power', '').toLowerCase()} failed (${f.code}): ${f.message}` }, null)
              .catch((err: unknown) => log().warn({ systemId: m.system_id, err }, 'could not fail the machine after a fatal power failure'));
          }
          throw new UnrecoverableError(f.message);
        }
      } else {
        await say(MachineEvents.POWER_RETRY.type, 'INFO', `Power ${e.kind.replace('power', '').toLowerCase()} attempt ${attempt} of ${maxAttempts} failed (${f.code}): ${f.message}; retrying`);
      }
      throw f;
    }
  }

  /**
   * Records an effect's result in the transaction that removes its outbox row. False when the row
   * was already gone: another run of the same job recorded it. Effects without a row always record.
   */
  private async record(jobId: string | null, write: (em: EntityManager) => Promise<void>): Promise<boolean> {
    return this.ds.transaction(async (em) => {
      if (jobId) {
        if (!(await this.outbox.take(em, jobId))) return false;
      }
      await write(em);
      return true;
    });
  }

  /**
   * One polling round: every machine with a queryable BMC, queried by a rack under its cap on
   * concurrent BMC calls, starts spread over the round. A BMC that does not answer is marked
   * 'error' with the reason and asked again next round, not in a tight loop.
   */
  async pollPower(): Promise<string> {
    const targets = await this.machines.pollTargets();
    if (!targets.length) return 'nothing to poll';
    const byId = new Map(targets.map((t) => [t.system_id, t]));
    let answered = 0;
    let failed = 0;
    for (let i = 0; i < targets.length; i += 1000) {
      const chunk = targets.slice(i, i + 1000);
      const reply = await this.powerClient.queryBatch(chunk, Math.min(this.config.power.pollSpreadMs, 60_000));
      if (!reply) return `no rack answered; ${targets.length} machine(s) not polled`;
      for (const r of reply.results) {
        const t = byId.get(r.systemId)!;
        if (r.ok) {
          answered++;
          await this.machines.setPowerState(t.id, r.state, null);
        } else {
          failed++;
          if (t.power_state !== 'error') {
            await this.events.append({
              machineId: t.id,
              systemId: t.system_id,
              hostname: t.hostname,
              type: MachineEvents.POWER_QUERY_FAILED.type,
              level: 'WARNING',
              description: `BMC query failed (${r.code}): ${r.message}`,
              action: 'power.poll',
            });
          }
          await this.machines.setPowerState(t.id, 'error', r.message);
        }
      }
    }
    return `polled ${answered} ok, ${failed} failed`;
  }
}
