import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { InterfaceEntity } from './interface.entity';
import { SubnetEntity } from './subnet.entity';
import { UserEntity } from './user.entity';

/**
 * A fixed address on a subnet. With a MAC it is a DHCP reservation the racks serving the subnet
 * hand out to that MAC (MAAS reservedips/); with an interface it is that machine interface's
 * static address; with an owner it is an address a user reserved through ipaddresses/ (MAAS's
 * USER_RESERVED), optionally for a MAC and host name.
 */
@Entity('static_ip_addresses')
@Index(['subnetId', 'macAddress'], { unique: true, where: '"mac_address" IS NOT NULL' })
export class StaticIpEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ type: 'inet' }) ip!: string;
  @Index() @Column({ name: 'subnet_id', type: 'int' }) subnetId!: number;
  @ManyToOne(() => SubnetEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'subnet_id' }) subnet?: SubnetEntity;
  @Index() @Column({ name: 'interface_id', type: 'int', nullable: true }) interfaceId!: number | null;
  @ManyToOne(() => InterfaceEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'interface_id' }) iface?: InterfaceEntity;
  /** Lower-case colon form. */
  @Column({ name: 'mac_address', type: 'varchar', length: 17, nullable: true }) macAddress!: string | null;
  /** 'reserved' (reservedips/), 'sticky' (interface link_subnet static), 'user_reserved' (ipaddresses/ reserve). */
  @Column({ name: 'alloc_type', type: 'varchar', length: 16, default: 'reserved' }) allocType!: string;
  @Column({ type: 'text', default: '' }) comment!: string;
  /** Who reserved it through ipaddresses/ (null for the other kinds). */
  @Index('IDX_static_ip_addresses_owner') @Column({ name: 'owner_id', type: 'int', nullable: true }) ownerId!: number | null;
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'FK_static_ip_addresses_owner' }) owner?: UserEntity;
  /** The host name the address was reserved for (MAAS makes it a DNS record); '' when none. */
  @Column({ type: 'varchar', length: 255, default: '' }) hostname!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
