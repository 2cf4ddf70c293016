import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Lifecycle effects (power on, power off, ...) written in the transaction that decided them and
 * deleted once their job is in the queue. A region that stops between the commit and the
 * enqueue, or a Redis that is away for a while, leaves rows here; the relay queues them later
 * under the same job id, so an effect runs at least once and is never queued twice at once.
 */
@Entity('effect_outbox')
export class EffectOutboxEntity {
  @PrimaryColumn({ name: 'job_id', type: 'varchar', length: 128 }) jobId!: string;
  @Column({ name: 'system_id', type: 'varchar', length: 41 }) systemId!: string;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  @Index() @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
