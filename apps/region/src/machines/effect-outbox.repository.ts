import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/**
 * Every query on the effect outbox: the lifecycle effects a committed transition asked for, kept
 * in Postgres until the worker records their result.
 */
@Injectable()
export class EffectOutboxRepository {
  constructor(private readonly ds: DataSource) {}

  /** Adds an effect in the transition's transaction. clock_timestamp(), not now(): the effects of one transaction keep their order. */
  async add(em: EntityManager, jobId: string, systemId: string, payload: unknown): Promise<void> {
    await em.query('INSERT INTO effect_outbox (job_id, system_id, payload, created) VALUES ($1, $2, $3, clock_timestamp())', [
      jobId,
      systemId,
      JSON.stringify(payload),
    ]);
  }

  /** Rows older than `minAgeMs`, oldest first, locked (SKIP LOCKED) for the caller's transaction. */
  takeOlderThan<P>(em: EntityManager, minAgeMs: number, limit: number): Promise<{ job_id: string; payload: P }[]> {
    return em.query(
      `SELECT job_id, payload FROM effect_outbox WHERE created < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY created LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [minAgeMs, limit],
    );
  }

  /** When the effect was added; null once it is gone (carried out). */
  async created(jobId: string): Promise<Date | null> {
    const [row]: { created: Date }[] = await this.ds.query('SELECT created FROM effect_outbox WHERE job_id = $1', [jobId]);
    return row ? row.created : null;
  }

  /** Whether the machine has an effect added before `created` still waiting. */
  async hasEarlier(systemId: string, created: Date): Promise<boolean> {
    const rows: unknown[] = await this.ds.query('SELECT job_id FROM effect_outbox WHERE system_id = $1 AND created < $2 LIMIT 1', [systemId, created]);
    return rows.length > 0;
  }

  async remove(jobId: string, em?: EntityManager): Promise<void> {
    await (em ?? this.ds.manager).query('DELETE FROM effect_outbox WHERE job_id = $1', [jobId]);
  }

  /** Locks and removes the row in the caller's transaction; false when it was already gone. */
  async take(em: EntityManager, jobId: string): Promise<boolean> {
    const rows: unknown[] = await em.query('SELECT job_id FROM effect_outbox WHERE job_id = $1 FOR UPDATE', [jobId]);
    if (!rows.length) return false;
    await this.remove(jobId, em);
    return true;
  }
}
