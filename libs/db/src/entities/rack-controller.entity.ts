import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ZoneEntity } from './zone.entity';

export interface RackInterfaceRecord {
  name: string;
  mac: string;
  addresses: string[];
  vlan: number | null;
  /** The interface a VLAN interface sits on. */
  parent?: string;
  /** The region's VLAN (vlans.id) this interface is on; null: not linked (no address, nothing known). */
  vlanId?: number | null;
  /** Its addresses that are on a subnet (loopback and link-local left out), with that subnet's id. */
  links?: { ip: string; cidr: string; subnetId: number }[];
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
  /** X25519 public key the rack registered (base64url); secrets for this rack are sealed to it. */
  @Column({ name: 'box_public_key', type: 'varchar', length: 64, nullable: true }) boxPublicKey!: string | null;
  /** Public NATS nkey of the enrolled rack; null: not enrolled or revoked (the NATS server refuses it). */
  @Column({ name: 'nats_nkey', type: 'varchar', length: 56, nullable: true }) natsNkey!: string | null;
  @Column({ name: 'zone_id', type: 'int', nullable: true }) zoneId!: number | null;
  @ManyToOne(() => ZoneEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'zone_id' }) zone?: ZoneEntity;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
