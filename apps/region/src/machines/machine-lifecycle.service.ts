import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DataSource, EntityManager } from 'typeorm';
import { MachineEntity } from '@kiln/db';
import { decide, Decision, Effect, LifecycleEvent, MachineView, NodeStatus, PowerState } from '@kiln/lifecycle';
import type { AuthUser } from '../api/api.types';
import { NotFoundError } from '../api/http/http.errors';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { EventsRepository } from '../events/events.repository';
import { JobPayloads, LIFECYCLE_QUEUE } from '../jobs/jobs.types';
import { log } from '../logging/logger';
import { refusalToHttp } from './lifecycle-refusal.mapper';
import { MachinesRepository } from './machines.repository';

/** Effects the transaction itself performs; everything else becomes a job. */
const IN_TRANSACTION: ReadonlySet<Effect['kind']> = new Set([
  'setOwner',
  'clearOwner',
  'clearDeployment',
  'setLocked',
  'setErrorDescription',
]);

export interface TransitionResult {
  decision: Extract<Decision, { ok: true }> | null;
  machine: MachineEntity;
  jobs: JobPayloads['machine.effect'][];
}

/**
 * Applies lifecycle decisions. Each transition is one transaction on a locked machine row that
 * writes the status, the deadline of record (status_expires) and an event; effects that reach
 * outside the database are queued as jobs after commit.
 */
@Injectable()
export class MachineLifecycleService {
  constructor(
    private readonly ds: DataSource,
    private readonly machines: MachinesRepository,
    private readonly events: EventsRepository,
    @Inject(LIFECYCLE_QUEUE) private readonly queue: Queue,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  /** Locks the machine, decides, persists, then queues the effects. Throws MAAS-style HTTP errors. */
  async apply(
    systemId: string,
    event: LifecycleEvent,
    actor: AuthUser | null,
    mutate?: (m: MachineEntity, em: EntityManager) => Promise<void> | void,
  ): Promise<TransitionResult> {
    const result = await this.ds.transaction(async (em) => {
      const m = await this.machines.lockBySystemId(em, systemId);
      if (!m) throw new NotFoundError('No Machine matches the given query.');
      return this.transition(em, m, event, actor, mutate);
    });
    await this.enqueue(result.jobs);
    return result;
  }

  /** The transition inside a caller's transaction, on a row the caller has locked. */
  async transition(
    em: EntityManager,
    m: MachineEntity,
    event: LifecycleEvent,
    actor: AuthUser | null,
    mutate?: (m: MachineEntity, em: EntityManager) => Promise<void> | void,
  ): Promise<TransitionResult> {
    const view = await this.view(em, m);
    const d = decide(view, event, actor ? { username: actor.username, isAdmin: actor.isAdmin } : null, {
      nodeTimeoutMinutes: this.config.lifecycle.nodeTimeoutMinutes,
    });
    if (!d.ok) {
      if (d.code === 'NOOP') return { decision: null, machine: m, jobs: [] };
      throw refusalToHttp(d);
    }
    for (const e of d.effects) {
      switch (e.kind) {
        case 'setOwner': {
          const [u] = await em.query('SELECT id FROM users WHERE username = $1', [e.owner]);
          m.ownerId = u ? u.id : null;
          break;
        }
        case 'clearOwner':
          m.ownerId = null;
          m.agentName = '';
          m.ownerData = {};
          break;
        case 'clearDeployment':
          m.osystem = '';
          m.distroSeries = '';
          m.hweKernel = null;
          m.agentName = '';
          m.ownerData = {};
          m.userData = null;
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
    m.status = d.to;
    if (d.previousStatus !== undefined) m.previousStatus = d.previousStatus;
    if (d.enlisting !== undefined) m.enlisting = d.enlisting;
    if (mutate) await mutate(m, em);
    const saved = await em.getRepository(MachineEntity).save(m);
    await this.events.append(
      {
        machineId: m.id,
        systemId: m.systemId,
        hostname: m.hostname,
        type: d.event.type,
        level: d.event.level,
        description: d.event.description,
        action: event.type,
        username: actor?.username ?? '',
      },
      em,
    );
    log().info(
      { systemId: m.systemId, hostname: m.hostname, from: d.from, to: d.to, via: d.via, event: event.type },
      `machine ${d.event.type}: ${d.event.description}`,
    );
    const jobs = d.effects
      .filter((e) => !IN_TRANSACTION.has(e.kind))
      .map((effect) => ({ systemId: m.systemId, version: saved.version, status: d.to, effect, actor: actor?.username ?? null }));
    return { decision: d, machine: saved, jobs };
  }

  async enqueue(jobs: JobPayloads['machine.effect'][]): Promise<void> {
    for (const [i, job] of jobs.entries()) {
      try {
        // Same transition, same job id: a retried enqueue collapses into one job.
        await this.queue.add('machine.effect', job, { jobId: `effect-${job.systemId}-${job.version}-${i}` });
      } catch (err) {
        // The transition is recorded; the deadline of record still fails the machine if nothing happens.
        log().error({ err, systemId: job.systemId, effect: job.effect.kind }, 'could not queue a lifecycle effect');
      }
    }
  }

  private async view(em: EntityManager, m: MachineEntity): Promise<MachineView> {
    const [row] = await em.query(
      `SELECT u.username AS owner, b.power_type,
              (SELECT count(*)::int FROM interfaces i WHERE i.machine_id = $1) AS interface_count
         FROM machines m LEFT JOIN users u ON u.id = m.owner_id LEFT JOIN bmcs b ON b.id = m.bmc_id
        WHERE m.id = $1`,
      [m.id],
    );
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
