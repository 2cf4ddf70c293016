import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { FabricEntity } from './fabric.entity';
import { RackControllerEntity } from './rack-controller.entity';
import { SpaceEntity } from './space.entity';

/**
 * A VLAN of a fabric. DHCP for its subnets is served by its primary (and secondary) rack when
 * dhcp_on, or by the racks of relay_vlan through a DHCP relay.
 */
@Entity('vlans')
@Index(['fabricId', 'vid'], { unique: true })
export class VlanEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'fabric_id', type: 'int' }) fabricId!: number;
  @ManyToOne(() => FabricEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'fabric_id' }) fabric?: FabricEntity;
  @Column({ type: 'int' }) vid!: number;
  @Column({ type: 'varchar', length: 256, nullable: true }) name!: string | null;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ type: 'int', default: 1500 }) mtu!: number;
  @Column({ name: 'dhcp_on', type: 'boolean', default: false }) dhcpOn!: boolean;
  @Index() @Column({ name: 'primary_rack_id', type: 'int', nullable: true }) primaryRackId!: number | null;
  @ManyToOne(() => RackControllerEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'primary_rack_id' }) primaryRack?: RackControllerEntity;
  @Index() @Column({ name: 'secondary_rack_id', type: 'int', nullable: true }) secondaryRackId!: number | null;
  @ManyToOne(() => RackControllerEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'secondary_rack_id' })
  secondaryRack?: RackControllerEntity;
  @Index() @Column({ name: 'relay_vlan_id', type: 'int', nullable: true }) relayVlanId!: number | null;
  @ManyToOne(() => VlanEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'relay_vlan_id' }) relayVlan?: VlanEntity;
  /** The space the VLAN is in; null: the undefined space (-1 in MAAS's answers). */
  @Index() @Column({ name: 'space_id', type: 'int', nullable: true }) spaceId!: number | null;
  @ManyToOne(() => SpaceEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'space_id' }) space?: SpaceEntity;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
