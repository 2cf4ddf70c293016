import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn, VersionColumn } from 'typeorm';
import { BmcEntity } from './bmc.entity';
import { ResourcePoolEntity } from './resource-pool.entity';
import { ZoneEntity } from './zone.entity';
import { UserEntity } from './user.entity';
import { DomainEntity } from './domain.entity';

/** The storage layouts of MAAS's set_storage_layout that Kiln can store (custom needs commissioning data). */
export type StorageLayoutName = 'flat' | 'lvm' | 'bcache' | 'vmfs6' | 'vmfs7' | 'blank';

/**
 * A storage layout chosen with set_storage_layout, validated against the machine's block devices
 * and kept until deployment renders it (Kiln does not model partitions). Sizes are bytes,
 * devices are block device ids; null means the layout's default. Keys are MAAS's parameter names.
 */
export interface MachineStorageLayout {
  layout: StorageLayoutName;
  boot_size: number | null;
  root_device: number | null;
  root_size: number | null;
  /** lvm only */
  vg_name?: string | null;
  lv_name?: string | null;
  lv_size?: number | null;
  /** bcache only */
  cache_device?: number | null;
  cache_mode?: 'writeback' | 'writethrough' | 'writearound' | null;
  cache_size?: number | null;
  cache_no_part?: boolean;
}

/**
 * A filesystem that needs no block device (mount_special). `acquired` mounts were made while the
 * machine had an owner; they belong to that allocation and go when it is released.
 */
export interface SpecialFilesystem {
  fstype: 'tmpfs' | 'ramfs';
  mount_point: string;
  mount_options: string;
  uuid: string;
  acquired: boolean;
}

@Entity('machines')
// Allocation walks the free Ready machines cheapest first (see the migration that makes it); an
// expression index TypeORM cannot describe, so the schema sync leaves it alone.
@Index('IDX_machines_allocatable_cost', { synchronize: false })
export class MachineEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ name: 'system_id', type: 'varchar', length: 41 }) systemId!: string;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 255 }) hostname!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ name: 'domain_id', type: 'int' }) domainId!: number;
  @ManyToOne(() => DomainEntity, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'domain_id' }) domain?: DomainEntity;
  @Column({ type: 'varchar', length: 64, default: '' }) architecture!: string;
  @Column({ name: 'min_hwe_kernel', type: 'varchar', length: 64, default: '' }) minHweKernel!: string;
  @Column({ name: 'hwe_kernel', type: 'varchar', length: 64, nullable: true }) hweKernel!: string | null;
  @Column({ type: 'varchar', length: 64, default: '' }) osystem!: string;
  @Column({ name: 'distro_series', type: 'varchar', length: 64, default: '' }) distroSeries!: string;
  @Column({ name: 'cpu_count', type: 'int', default: 0 }) cpuCount!: number;
  @Column({ name: 'cpu_speed', type: 'int', default: 0 }) cpuSpeed!: number;
  /** MiB */
  @Column({ type: 'int', default: 0 }) memory!: number;
  @Column({ name: 'swap_size', type: 'bigint', nullable: true }) swapSize!: string | null;
  @Index() @Column({ type: 'smallint', default: 0 }) status!: number;
  @Column({ name: 'previous_status', type: 'smallint', nullable: true }) previousStatus!: number | null;
  /** Deadline of record for in-flight statuses; the sweeper fails machines past it. */
  @Index() @Column({ name: 'status_expires', type: 'timestamptz', nullable: true }) statusExpires!: Date | null;
  @Index() @Column({ name: 'owner_id', type: 'int', nullable: true }) ownerId!: number | null;
  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'owner_id' }) owner?: UserEntity;
  @Column({ type: 'boolean', default: false }) locked!: boolean;
  @Column({ name: 'zone_id', type: 'int' }) zoneId!: number;
  @ManyToOne(() => ZoneEntity, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'zone_id' }) zone?: ZoneEntity;
  @Column({ name: 'pool_id', type: 'int', nullable: true }) poolId!: number | null;
  @ManyToOne(() => ResourcePoolEntity, { onDelete: 'RESTRICT' }) @JoinColumn({ name: 'pool_id' }) pool?: ResourcePoolEntity;
  @Column({ name: 'power_state', type: 'varchar', length: 16, default: 'unknown' }) powerState!: string;
  @Column({ name: 'power_state_updated', type: 'timestamptz', nullable: true }) powerStateUpdated!: Date | null;
  @Column({ name: 'bmc_id', type: 'int', nullable: true }) bmcId!: number | null;
  @ManyToOne(() => BmcEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'bmc_id' }) bmc?: BmcEntity;
  /** Node-scoped power parameters (node_id, power_id, ...) of a BMC shared with other machines. */
  @Column({ name: 'instance_power_parameters', type: 'jsonb', default: () => "'{}'" })
  instancePowerParameters!: Record<string, string>;
  @Column({ name: 'agent_name', type: 'varchar', length: 255, default: '' }) agentName!: string;
  @Column({ name: 'owner_data', type: 'jsonb', default: () => "'{}'" }) ownerData!: Record<string, string>;
  @Column({ name: 'error_description', type: 'text', default: '' }) errorDescription!: string;
  @Column({ type: 'boolean', default: true }) netboot!: boolean;
  @Column({ type: 'boolean', default: false }) enlisting!: boolean;
  @Column({ name: 'ephemeral_deploy', type: 'boolean', default: false }) ephemeralDeploy!: boolean;
  @Column({ name: 'hardware_uuid', type: 'varchar', length: 36, nullable: true }) hardwareUuid!: string | null;
  @Column({ name: 'bios_boot_method', type: 'varchar', length: 31, nullable: true }) biosBootMethod!: string | null;
  @Column({ name: 'user_data', type: 'bytea', nullable: true }) userData!: Buffer | null;
  /** Chosen with set_storage_layout; null is the default layout (flat). */
  @Column({ name: 'storage_layout', type: 'jsonb', nullable: true }) storageLayout!: MachineStorageLayout | null;
  @Column({ name: 'special_filesystems', type: 'jsonb', default: () => "'[]'" }) specialFilesystems!: SpecialFilesystem[];
  /** Latest event, kept on the row so that listing machines needs no join on events. */
  @Column({ name: 'status_message', type: 'text', nullable: true }) statusMessage!: string | null;
  @Column({ name: 'status_action', type: 'text', nullable: true }) statusAction!: string | null;
  /** The machine's latest commissioning, testing and installation runs (MAAS `current_*_script_set`). */
  @Column({ name: 'current_commissioning_script_set_id', type: 'int', nullable: true }) currentCommissioningScriptSetId!: number | null;
  @Column({ name: 'current_testing_script_set_id', type: 'int', nullable: true }) currentTestingScriptSetId!: number | null;
  @Column({ name: 'current_installation_script_set_id', type: 'int', nullable: true }) currentInstallationScriptSetId!: number | null;
  /** The machine's latest release run (wipe-disks when released with disk erasing). */
  @Column({ name: 'current_release_script_set_id', type: 'int', nullable: true }) currentReleaseScriptSetId!: number | null;
  /** The latest commission/test asked for SSH access: the ephemeral environment stays up afterwards. */
  @Column({ name: 'enable_ssh', type: 'boolean', default: false }) enableSsh!: boolean;
  /** The latest commissioning may not reconfigure the machine's networking / storage. */
  @Column({ name: 'skip_networking', type: 'boolean', default: false }) skipNetworking!: boolean;
  @Column({ name: 'skip_storage', type: 'boolean', default: false }) skipStorage!: boolean;
  /** What commissioning found beyond the typed columns: system/mainboard/firmware vendor, product, version, serial... (MAAS `hardware_info`). */
  @Column({ name: 'hardware_info', type: 'jsonb', default: () => "'{}'" }) hardwareInfo!: Record<string, string>;
  /**
   * The machine JSON's script statuses (-1: no results), kept by triggers from the latest result
   * of each script in its commissioning and testing runs; never written by the application.
   */
  @Column({ name: 'commissioning_status', type: 'smallint', default: -1, insert: false, update: false }) commissioningStatus!: number;
  @Column({ name: 'testing_status', type: 'smallint', default: -1, insert: false, update: false }) testingStatus!: number;
  @Column({ name: 'cpu_test_status', type: 'smallint', default: -1, insert: false, update: false }) cpuTestStatus!: number;
  @Column({ name: 'memory_test_status', type: 'smallint', default: -1, insert: false, update: false }) memoryTestStatus!: number;
  @Column({ name: 'network_test_status', type: 'smallint', default: -1, insert: false, update: false }) networkTestStatus!: number;
  @Column({ name: 'storage_test_status', type: 'smallint', default: -1, insert: false, update: false }) storageTestStatus!: number;
  @Column({ name: 'other_test_status', type: 'smallint', default: -1, insert: false, update: false }) otherTestStatus!: number;
  @VersionColumn({ type: 'int' }) version!: number;
  /** Changes (by trigger) whenever the machine's API document would; keys the rendered-JSON cache. */
  @Column({ name: 'render_rev', type: 'bigint', default: () => "nextval('machine_render_rev_seq')", insert: false, update: false })
  renderRev!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
