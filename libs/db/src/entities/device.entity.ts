import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { DomainEntity } from './domain.entity';
import { MachineEntity } from './machine.entity';
import { UserEntity } from './user.entity';
import { ZoneEntity } from './zone.entity';

/**
 * A device: a node Kiln does not deploy (MAAS node_type 1), known by its MAC addresses. Kept apart
 * from machines so the machine listing never reads or filters devices; nodes/ unions both.
 */
@Entity('devices')
export class DeviceEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ name: 'system_id', type: 'varchar', length: 41 }) systemId!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 255 }) hostname!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ name: 'domain_id', type: 'int' }) domainId!: number;
  @ManyToOne(() => DomainEntity, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'domain_id' }) domain?: DomainEntity;
  @Column({ name: 'zone_id', type: 'int' }) zoneId!: number;
  @ManyToOne(() => ZoneEntity, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'zone_id' }) zone?: ZoneEntity;
  @Index() @Column({ name: 'owner_id', type: 'int', nullable: true }) ownerId!: number | null;
  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'owner_id' }) owner?: UserEntity;
  /** The machine this device hangs off (a container or VM on it); deleting the machine deletes it. */
  @Index() @Column({ name: 'parent_id', type: 'int', nullable: true }) parentId!: number | null;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'parent_id' }) parent?: MachineEntity;
  @Column({ name: 'owner_data', type: 'jsonb', default: () => "'{}'" }) ownerData!: Record<string, string>;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
