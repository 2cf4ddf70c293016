import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource, EntityManager } from 'typeorm';
import { MachineEntity } from '@kiln/db';
import { deadlineMinutes, decide, Decision, Effect, LifecycleEvent, MachineView, NodeStatus, PowerState } from '@kiln/lifecycle';
import type { Actor } from '../common/actor';
import { notFound } from '../common/domain.error';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { lifecycleEventType } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { JobPayloads, LIFECYCLE_QUEUE } from '../jobs/jobs.types';
import { currentCorrelationId, log } from '../logging/logger';
import { AutoAddressesService } from './auto-addresses.service';
import { EffectOutboxRepository } from './effect-outbox.repository';
import { refusalToDomainError } from './lifecycle-refusal.mapper';
import { MachineAccess, type MachineRight } from './machine.access';
import { MachinesRepository } from './machines.repository';
import { RunRequest, ScriptRunsService } from '../scripts/script-runs.service';

/** Effects the transaction itself performs; everything else becomes a job. */
const IN_TRANSACTION: ReadonlySet<Effect['kind']> = new Set([
  'setOwner',
  'clearOwner',
  'clearDeployment',
  'setLocked',
  'setErrorDescription',
  // Script results are rows: the transaction marks them aborted itself (ScriptRunsService.abort).
  'abortScripts',
]);

export type EffectJob = JobPayloads['machine.effect'] & { jobId: string };

export type Mutation = (m: MachineEntity, em: EntityManager) => Promise<void> | void;

export interface ApplyOptions {
  /** Changes the transaction makes to the machine along with the transition (deploy's OS, user data). */
  mutate?: Mutation;
  /** The right the caller needs on the machine, checked on the locked row before deciding. */
  require?: MachineRight;
  /** What a commission, test or erasing release asked its run of scripts to be (scripts, parameters, options). */
  run?: RunRequest;
}

export interface TransitionResult {
  decision: Extract<Decision, { ok: true }> | null;
  machine: MachineEntity;
  jobs: EffectJob[];
}

/**
 * Applies lifecycle decisions. Each transition is one transaction on a locked machine row that
 * writes the status, the deadline of record (status_expires) and an event; effects that reach
 * outside the database are written to the effect outbox in that transaction and queued as jobs
 * after commit. Whatever did not reach the queue (a region stopped in between, Redis away) is
 * queued later by relayOutbox().
 */
@Injectable()
export class MachineLifecycleService {
  constructor(
    private readonly ds: DataSource,
    private readonly machines: MachinesRepository,
    private readonly events: EventsRepository,
    private readonly outbox: EffectOutboxRepository,
    private readonly access: MachineAccess,
    private readonly runs: ScriptRunsService,
    private readonly autoAddresses: AutoAddressesService,
    @Inject(LIFECYCLE_QUEUE) private readonly queue: Queue,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  /**
   * Locks the machine, checks the caller's right on it (when asked), decides, persists, then
   * queues the effects. Refusals are domain errors.
   */
  async apply(systemId: string, event: LifecycleEvent, actor: Actor | null, opts: ApplyOptions = {}): Promise<TransitionResult> {
    const result = await this.ds.transaction(async (em) => {
      const m = await this.machines.lockBySystemId(em, systemId);
      if (!m) throw notFound('No Machine matches the given query.');
      if (opts.require && actor) this.access.require(actor, opts.require, m);
      return this.transition(em, m, event, actor, opts.mutate, opts.run);
    });
    await this.enqueue(result.jobs);
    return result;
  }

  /** The transition inside a caller's transaction, on a row the caller has locked. */
  async transition(
    em: EntityManager,
    m: MachineEntity,
    event: LifecycleEvent,
    actor: Actor | null,
    mutate?: Mutation,
    run?: RunRequest,
  ): Promise<TransitionResult> {
    const view = await this.view(em, m);
    const d = decide(view, event, actor ? { username: actor.username, isAdmin: actor.isAdmin } : null, {
      nodeTimeoutMinutes: this.config.lifecycle.nodeTimeoutMinutes,
    });
    if (!d.ok) {
      if (d.code === 'NOOP') return { decision: null, machine: m, jobs: [] };
      throw refusalToDomainError(d);
    }
    for (const e of d.effects) {
      switch (e.kind) {
        case 'setOwner': {
          m.ownerId = await this.machines.userIdByUsername(em, e.owner);
          break;
        }
        case 'clearOwner':
          m.ownerId = null;
          m.agentName = '';
          m.ownerData = {};
          // Special filesystems mounted while the machine was owned belong to that allocation.
          m.specialFilesystems = (m.specialFilesystems ?? []).filter((f) => !f.acquired);
          break;
        case 'clearDeployment':
          m.osystem = '';
          m.distroSeries = '';
          m.hweKernel = null;
          m.agentName = '';
          m.ownerData = {};
          m.userData = null;
          m.ephemeralDeploy = false;
          break;
        case 'setLocked':
          m.locked = e.locked;
          break;
        case 'setErrorDescription':
          m.errorDescription = e.text;
          break;
        default:
          break;
      }
    }
    // The deadline runs from entering a status: actions that keep the status (power, lock) keep it.
    if (d.to !== d.from) {
      m.statusExpires = d.deadlineMinutes === null ? null : new Date(Date.now() + d.deadlineMinutes * 60_000);
    }
    // Runs of scripts and their node tokens change in the same transaction as the status.
    if (d.effects.some((e) => e.kind === 'abortScripts')) await this.runs.abort(em, m);
    if (d.effects.some((e) => e.kind === 'startCommissioning')) await this.runs.startCommissioning(em, m, run);
    if (d.effects.some((e) => e.kind === 'startTesting')) await this.runs.startTesting(em, m, run, d.from === NodeStatus.DEPLOYED);
    if (d.effects.some((e) => e.kind === 'startReleaseScripts') && (d.to === NodeStatus.DISK_ERASING || d.to === NodeStatus.RELEASING)) {
      await this.runs.startRelease(em, m, run ?? {});
    }
    if (d.to !== d.from) await this.runs.statusChanged(em, m, d.from, d.to);
    // AUTO links take their addresses as the machine starts deploying and give them back with
    // the deployment (release); the event names what the deploy was given.
    let autoNote = '';
    if (d.to === NodeStatus.DEPLOYING && d.from !== NodeStatus.DEPLOYING) {
      const got = await this.autoAddresses.claim(em, m);
      if (got.length) autoNote = `; AUTO addresses: ${got.map((g) => `${g.interface} ${g.ip}`).join(', ')}`;
    }
    if (d.effects.some((e) => e.kind === 'clearDeployment')) await this.autoAddresses.release(em, m);
    m.status = d.to;
    if (d.previousStatus !== undefined) m.previousStatus = d.previousStatus;
    if (d.enlisting !== undefined) m.enlisting = d.enlisting;
    if (mutate) await mutate(m, em);
    const saved = await this.machines.save(em, m);
    await this.events.append(
      {
        machineId: m.id,
        systemId: m.systemId,
        hostname: m.hostname,
        type: lifecycleEventType(d.event.type),
        level: d.event.level,
        description: d.event.description + autoNote,
        action: event.type,
        username: actor?.username ?? '',
      },
      em,
    );
    log().info(
      { systemId: m.systemId, hostname: m.hostname, from: d.from, to: d.to, via: d.via, event: event.type },
      `machine ${d.event.type}: ${d.event.description}`,
    );
    const jobs: EffectJob[] = d.effects
      .filter((e) => !IN_TRANSACTION.has(e.kind))
      .map((effect) => ({
        // Every effect is its own command: two power actions at one version are two jobs. The
        // outbox row carries the id, so a re-queue of the same row collapses into one job.
        jobId: `effect-${randomUUID()}`,
        systemId: m.systemId,
        version: saved.version,
        status: d.to,
        effect,
        actor: actor?.username ?? null,
        outbox: true,
        correlationId: currentCorrelationId(),
      }));
    for (const j of jobs) await this.outbox.add(em, j.jobId, j.systemId, j);
    return { decision: d, machine: saved, jobs };
  }

  /**
   * A sign of life from the machine's runner (a heartbeat): the deadline of its in-flight status
   * runs again from now. Changes the row the caller has locked; the caller saves it.
   */
  extendDeadline(m: MachineEntity): void {
    const minutes = deadlineMinutes(m.status as NodeStatus, { nodeTimeoutMinutes: this.config.lifecycle.nodeTimeoutMinutes });
    if (minutes !== null) m.statusExpires = new Date(Date.now() + minutes * 60_000);
  }

  /**
   * A sign of progress reported for a machine (the installer's status events): the deadline of
   * its in-flight status runs again from now, if it is still in `status`. `record` writes what
   * the progress was (its machine event) in the same transaction, so a step is either both
   * recorded and counted or neither. False: the machine is gone or moved on; nothing written.
   */
  async extendDeadlineOf(systemId: string, status: NodeStatus, record?: (em: EntityManager) => Promise<void>): Promise<boolean> {
    return this.ds.transaction(async (em) => {
      const m = await this.machines.lockBySystemId(em, systemId);
      if (!m || m.status !== status) return false;
      this.extendDeadline(m);
      await this.machines.save(em, m);
      if (record) await record(em);
      return true;
    });
  }

  /**
   * Queues the effects of committed transitions. Their outbox rows stay: the worker removes a row
   * where it records the effect's result, so until then Postgres, not Redis, is the record.
   */
  async enqueue(jobs: EffectJob[]): Promise<void> {
    for (const { jobId, ...job } of jobs) {
      try {
        await this.queue.add('machine.effect', job, { jobId });
      } catch (err) {
        // Recorded in the outbox: relayOutbox() queues it once Redis answers again.
        log().error({ err, systemId: job.systemId, effect: job.effect.kind }, 'could not queue a lifecycle effect; it stays in the outbox');
      }
    }
  }

  /**
   * Queues again every outbox effect older than `minAgeMs` (younger ones are still on their way
   * through enqueue()) whose job the queue no longer has: a Redis that restarted empty, lost its
   * keys, or was away when the transition committed. Rows whose job is still queued, delayed or
   * running are left alone. Safe from several regions at once: rows are taken with SKIP LOCKED,
   * and the row's job id makes a second add of the same effect a no-op. Returns how many were queued.
   */
  async relayOutbox(minAgeMs: number, limit = 500): Promise<number> {
    return this.ds.transaction(async (em) => {
      const rows = await this.outbox.takeOlderThan<EffectJob>(em, minAgeMs, limit);
      let queued = 0;
      for (const { job_id, payload } of rows) {
        const existing = await this.queue.getJob(job_id);
        if (existing && (await existing.isFailed())) {
          // Failed for good (its worker stopped before clearing the row): the failure is recorded
          // on the machine; the row must not hold back the machine's later effects.
          await this.outbox.remove(job_id, em);
          continue;
        }
        if (existing && !(await existing.isCompleted())) continue;
        // A completed job whose row is still here finished without recording: run it again (the
        // worker does nothing twice, and the rack answers a repeated command from memory).
        if (existing) await existing.remove();
        const { jobId: _ignored, ...job } = payload;
        void _ignored;
        await this.queue.add('machine.effect', { ...job, outbox: true }, { jobId: job_id });
        queued++;
        log().warn({ systemId: job.systemId, effect: job.effect.kind, jobId: job_id }, 'queued again a lifecycle effect the queue did not have');
      }
      return queued;
    });
  }

  private async view(em: EntityManager, m: MachineEntity): Promise<MachineView> {
    const row = await this.machines.lifecycleFacts(em, m.id);
    return {
      systemId: m.systemId,
      status: m.status as NodeStatus,
      previousStatus: (m.previousStatus ?? null) as NodeStatus | null,
      owner: row?.owner ?? null,
      locked: m.locked,
      powerType: row?.power_type ?? '',
      powerState: m.powerState as PowerState,
      interfaceCount: row?.interface_count ?? 0,
      enlisting: m.enlisting,
      osystem: m.osystem,
    };
  }
}
