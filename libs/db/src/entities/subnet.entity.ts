import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { VlanEntity } from './vlan.entity';

/** An IP network on a VLAN. The region owns its addresses (IPAM); racks serve them. */
@Entity('subnets')
export class SubnetEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 255 }) name!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Index() @Column({ name: 'vlan_id', type: 'int' }) vlanId!: number;
  @ManyToOne(() => VlanEntity, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'vlan_id' }) vlan?: VlanEntity;
  @Index({ unique: true }) @Column({ type: 'cidr' }) cidr!: string;
  @Column({ name: 'gateway_ip', type: 'inet', nullable: true }) gatewayIp!: string | null;
  @Column({ name: 'dns_servers', type: 'text', array: true, default: () => "'{}'" }) dnsServers!: string[];
  /** 0 disabled, 1 enabled, 2 rfc2317 (MAAS RDNS_MODE). */
  @Column({ name: 'rdns_mode', type: 'smallint', default: 2 }) rdnsMode!: number;
  @Column({ name: 'allow_dns', type: 'boolean', default: true }) allowDns!: boolean;
  @Column({ name: 'allow_proxy', type: 'boolean', default: true }) allowProxy!: boolean;
  @Column({ name: 'active_discovery', type: 'boolean', default: false }) activeDiscovery!: boolean;
  @Column({ type: 'boolean', default: true }) managed!: boolean;
  /** MAAS boot method names (see @kiln/contracts BOOT_ARCHITECTURES) racks must not answer. */
  @Column({ name: 'disabled_boot_architectures', type: 'text', array: true, default: () => "'{}'" })
  disabledBootArchitectures!: string[];
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
