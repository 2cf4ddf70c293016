import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { InterfaceEntity } from './interface.entity';
import { StaticIpEntity } from './static-ip.entity';
import { SubnetEntity } from './subnet.entity';

/**
 * How a machine interface is configured on a subnet (MAAS link_subnet): 'auto' (an address picked
 * at deployment), 'dhcp', 'static' (a sticky static_ip_addresses row) or 'link_up' (up, no address).
 * `default_gateway`: the machine routes this address family through the link's subnet gateway.
 */
@Entity('interface_links')
export class InterfaceLinkEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index() @Column({ name: 'interface_id', type: 'int' }) interfaceId!: number;
  @ManyToOne(() => InterfaceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'interface_id' }) iface?: InterfaceEntity;
  @Column({ type: 'varchar', length: 16 }) mode!: string;
  @Index() @Column({ name: 'subnet_id', type: 'int', nullable: true }) subnetId!: number | null;
  @ManyToOne(() => SubnetEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'subnet_id' }) subnet?: SubnetEntity;
  @Index() @Column({ name: 'static_ip_id', type: 'int', nullable: true }) staticIpId!: number | null;
  @ManyToOne(() => StaticIpEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'static_ip_id' }) staticIp?: StaticIpEntity;
  @Column({ name: 'default_gateway', type: 'boolean', default: false }) defaultGateway!: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}

/** A bond, bridge or VLAN interface (child) built on another interface of the same machine (parent). */
@Entity('interface_relationships')
@Index(['parentId', 'childId'], { unique: true })
export class InterfaceRelationshipEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'parent_id', type: 'int' }) parentId!: number;
  @ManyToOne(() => InterfaceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'parent_id' }) parent?: InterfaceEntity;
  @Index() @Column({ name: 'child_id', type: 'int' }) childId!: number;
  @ManyToOne(() => InterfaceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'child_id' }) child?: InterfaceEntity;
}
