import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ZoneEntity } from './zone.entity';

export interface RackInterfaceRecord {
  name: string;
  mac: string;
  addresses: string[];
  vlan: number | null;
}

@Entity('rack_controllers')
export class RackControllerEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ name: 'system_id', type: 'varchar', length: 41 }) systemId!: string;
  @Column({ type: 'varchar', length: 255 }) hostname!: string;
  @Column({ type: 'varchar', length: 64, default: '' }) version!: string;
  @Column({ type: 'varchar', length: 64, default: '' }) architecture!: string;
  @Column({ type: 'jsonb', default: () => "'[]'" }) interfaces!: RackInterfaceRecord[];
  /** Power types this rack reported it cannot drive, with why (e.g. ipmi: a missing tool). Power commands of those types go to other racks. */
  @Column({ name: 'power_unavailable', type: 'jsonb', default: () => "'{}'" }) powerUnavailable!: Record<string, string>;
  @Column({ name: 'last_seen', type: 'timestamptz', nullable: true }) lastSeen!: Date | null;
  /** running | degraded | dead | unknown */
  @Column({ type: 'varchar', length: 16, default: 'unknown' }) status!: string;
  /** Revision of the DHCP configuration the region computed for this rack (bumped by every change pushed to it). */
  @Column({ name: 'dhcp_revision', type: 'int', default: 0 }) dhcpRevision!: number;
  @Column({ name: 'zone_id', type: 'int', nullable: true }) zoneId!: number | null;
  @ManyToOne(() => ZoneEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'zone_id' }) zone?: ZoneEntity;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
