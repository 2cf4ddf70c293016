import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { InterfaceEntity } from './interface.entity';
import { SubnetEntity } from './subnet.entity';

/**
 * A fixed address on a subnet. With a MAC it is a DHCP reservation the racks serving the subnet
 * hand out to that MAC (MAAS reservedips/); with an interface it is that machine interface's
 * static address.
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
  /** 'reserved' (reservedips/), 'sticky' (interface link_subnet static). */
  @Column({ name: 'alloc_type', type: 'varchar', length: 16, default: 'reserved' }) allocType!: string;
  @Column({ type: 'text', default: '' }) comment!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
