import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { MachineEntity } from './machine.entity';

@Entity('block_devices')
@Index(['machineId', 'name'], { unique: true })
export class BlockDeviceEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'machine_id', type: 'int' }) machineId!: number;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @Column({ type: 'varchar', length: 255 }) name!: string;
  @Column({ type: 'varchar', length: 20, default: 'physical' }) type!: string;
  @Column({ type: 'varchar', length: 36, nullable: true }) uuid!: string | null;
  @Column({ type: 'varchar', length: 255, default: '' }) model!: string;
  @Column({ type: 'varchar', length: 255, default: '' }) serial!: string;
  @Column({ name: 'id_path', type: 'varchar', length: 4096, nullable: true }) idPath!: string | null;
  /** bytes */
  @Column({ type: 'bigint' }) size!: string;
  @Column({ name: 'block_size', type: 'int', default: 512 }) blockSize!: number;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) tags!: string[];
  @Column({ name: 'firmware_version', type: 'varchar', length: 255, nullable: true }) firmwareVersion!: string | null;
  @Column({ name: 'is_boot', type: 'boolean', default: false }) isBoot!: boolean;
  /** The NUMA node (index) the disk's controller hangs off, from commissioning. */
  @Column({ name: 'numa_node', type: 'int', default: 0 }) numaNode!: number;
  /** For a virtual device: the volume group, RAID or bcache it is (the storage model's tables own the rest). */
  @Column({ name: 'filesystem_group_id', type: 'int', nullable: true }) filesystemGroupId!: number | null;
}
