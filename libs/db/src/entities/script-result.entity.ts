import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { BlockDeviceEntity } from './block-device.entity';
import { InterfaceEntity } from './interface.entity';
import { ScriptEntity } from './script.entity';
import { ScriptSetEntity } from './script-set.entity';
import { ScriptVersionEntity } from './script-version.entity';

/**
 * One script's result in a run (MAAS `ScriptResult`). status: 0 pending, 1 running, 2 passed,
 * 3 failed, 4 timed out, 5 aborted, 6 degraded, 7 installing, 8 failed installing, 9 skipped,
 * 10 applying netconf, 11 failed applying netconf. A script with a storage or interface parameter
 * has one result per disk or interface. Results the machine sent for a script Kiln does not
 * know (enlistment) have no script id, only a name.
 */
@Entity('script_results')
export class ScriptResultEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index() @Column({ name: 'script_set_id', type: 'int' }) scriptSetId!: number;
  @ManyToOne(() => ScriptSetEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'script_set_id' }) scriptSet?: ScriptSetEntity;
  @Column({ name: 'script_id', type: 'int', nullable: true }) scriptId!: number | null;
  @ManyToOne(() => ScriptEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'script_id' }) script?: ScriptEntity;
  @Column({ name: 'script_version_id', type: 'int', nullable: true }) scriptVersionId!: number | null;
  @ManyToOne(() => ScriptVersionEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'script_version_id' }) scriptVersion?: ScriptVersionEntity;
  @Column({ name: 'script_name', type: 'varchar', length: 255 }) scriptName!: string;
  @Column({ type: 'smallint', default: 0 }) status!: number;
  @Column({ name: 'exit_status', type: 'int', nullable: true }) exitStatus!: number | null;
  @Column({ type: 'timestamptz', nullable: true }) started!: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) ended!: Date | null;
  /** Seconds, as the runner measured them. */
  @Column({ type: 'double precision', nullable: true }) runtime!: number | null;
  @Column({ type: 'jsonb', default: () => "'{}'" }) parameters!: Record<string, unknown>;
  @Column({ type: 'bytea', nullable: true }) output!: Buffer | null;
  @Column({ type: 'bytea', nullable: true }) stdout!: Buffer | null;
  @Column({ type: 'bytea', nullable: true }) stderr!: Buffer | null;
  /** The result YAML the script wrote to $RESULT_PATH. */
  @Column({ type: 'bytea', nullable: true }) result!: Buffer | null;
  @Column({ type: 'boolean', default: false }) suppressed!: boolean;
  @Column({ name: 'block_device_id', type: 'int', nullable: true }) blockDeviceId!: number | null;
  @ManyToOne(() => BlockDeviceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'block_device_id' }) blockDevice?: BlockDeviceEntity;
  @Column({ name: 'interface_id', type: 'int', nullable: true }) interfaceId!: number | null;
  @ManyToOne(() => InterfaceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'interface_id' }) iface?: InterfaceEntity;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
