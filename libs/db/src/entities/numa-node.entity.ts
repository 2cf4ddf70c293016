import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { MachineEntity } from './machine.entity';

/** A machine's NUMA node, from commissioning: its cores and its memory (MiB). */
@Entity('numa_nodes')
@Index(['machineId', 'index'], { unique: true })
export class NumaNodeEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'machine_id', type: 'int' }) machineId!: number;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @Column({ type: 'int' }) index!: number;
  @Column({ type: 'int', array: true, default: () => "'{}'" }) cores!: number[];
  @Column({ type: 'bigint', default: 0 }) memory!: string;
}
