import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { MachineEntity } from './machine.entity';

/**
 * The per-machine event log operators read. Hostname and system id are copied so the log
 * survives a machine's deletion and can be filtered without joins.
 */
@Entity('events')
@Index(['machineId', 'id'])
export class EventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ name: 'machine_id', type: 'int', nullable: true }) machineId!: number | null;
  @ManyToOne(() => MachineEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @Index() @Column({ name: 'system_id', type: 'varchar', length: 41, default: '' }) systemId!: string;
  @Column({ type: 'varchar', length: 255, default: '' }) hostname!: string;
  /** 10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50 CRITICAL, 0 AUDIT */
  @Column({ type: 'smallint', default: 20 }) level!: number;
  @Column({ type: 'varchar', length: 255 }) type!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ type: 'text', default: '' }) action!: string;
  @Column({ type: 'varchar', length: 150, default: '' }) username!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
