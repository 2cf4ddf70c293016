import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DeviceEntity } from './device.entity';
import { MachineEntity } from './machine.entity';
import { VlanEntity } from './vlan.entity';

/**
 * A network interface of a machine or of a device (exactly one of the two): MAAS keeps both on one
 * Interface model, so links, static addresses and MAC uniqueness work the same for either.
 */
@Entity('interfaces')
@Index(['machineId'])
@Index(['deviceId'])
@Check('CHK_interfaces_one_node', 'num_nonnulls("machine_id", "device_id") = 1')
@Index(['macAddress'], { unique: true, where: `"type" = 'physical'` })
export class InterfaceEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'machine_id', type: 'int', nullable: true }) machineId!: number | null;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @Column({ name: 'device_id', type: 'int', nullable: true }) deviceId!: number | null;
  @ManyToOne(() => DeviceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'device_id' }) device?: DeviceEntity;
  @Column({ type: 'varchar', length: 255 }) name!: string;
  /** 'physical', 'bond', 'bridge' or 'vlan'. */
  @Column({ type: 'varchar', length: 20, default: 'physical' }) type!: string;
  /** Lower-case colon form; unique among physical interfaces (bonds, bridges and VLANs share a parent's). */
  @Index() @Column({ name: 'mac_address', type: 'varchar', length: 17 }) macAddress!: string;
  /** The VLAN the interface is connected to; null: disconnected. */
  @Index() @Column({ name: 'vlan_id', type: 'int', nullable: true }) vlanId!: number | null;
  @ManyToOne(() => VlanEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'vlan_id' }) vlan?: VlanEntity;
  /** Per-type settings as MAAS keeps them: bond_mode, bond_miimon, bond_xmit_hash_policy, bridge_stp, bridge_fd, ... */
  @Column({ type: 'jsonb', default: () => "'{}'" }) params!: Record<string, string | number | boolean>;
  @Column({ type: 'boolean', default: true }) enabled!: boolean;
  @Column({ type: 'varchar', length: 255, nullable: true }) vendor!: string | null;
  @Column({ type: 'varchar', length: 255, nullable: true }) product!: string | null;
  @Column({ name: 'firmware_version', type: 'varchar', length: 255, nullable: true }) firmwareVersion!: string | null;
  /** The NUMA node (index) the NIC hangs off, from commissioning. */
  @Column({ name: 'numa_node', type: 'int', default: 0 }) numaNode!: number;
  /** How many SR-IOV virtual functions the NIC offers (0: none), from commissioning. */
  @Column({ name: 'sriov_max_vf', type: 'int', default: 0 }) sriovMaxVf!: number;
  @Column({ name: 'link_speed', type: 'int', default: 0 }) linkSpeed!: number;
  @Column({ name: 'interface_speed', type: 'int', default: 0 }) interfaceSpeed!: number;
  @Column({ name: 'link_connected', type: 'boolean', default: true }) linkConnected!: boolean;
  @Column({ type: 'int', default: 1500 }) mtu!: number;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) tags!: string[];
  @Column({ name: 'ip_address', type: 'inet', nullable: true }) ipAddress!: string | null;
  @Column({ name: 'is_boot', type: 'boolean', default: false }) isBoot!: boolean;
}
