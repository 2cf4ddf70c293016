import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Relation, UpdateDateColumn } from 'typeorm';
// The script and its versions point at each other: a type-only import keeps the modules acyclic at run time.
import type { ScriptVersionEntity } from './script-version.entity';

/**
 * A commissioning, testing, release or deployment script (MAAS `Script`): its metadata as the
 * embedded YAML block and the API set it, and its current revision. Built-in scripts have
 * `isDefault`; only their tags and timeout may change.
 * Enums as MAAS numbers them: script_type 0 commissioning, 2 testing, 3 release, 4 deployment;
 * hardware_type 0 node, 1 cpu, 2 memory, 3 storage, 4 network, 5 gpu; parallel 0 disabled,
 * 1 instance, 2 any.
 */
@Entity('scripts')
export class ScriptEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 255 }) name!: string;
  @Column({ type: 'varchar', length: 255, default: '' }) title!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ type: 'text', array: true, default: () => "'{}'" }) tags!: string[];
  @Column({ name: 'script_type', type: 'smallint', default: 2 }) scriptType!: number;
  @Column({ name: 'hardware_type', type: 'smallint', default: 0 }) hardwareType!: number;
  @Column({ type: 'smallint', default: 0 }) parallel!: number;
  /** 0 = no limit. */
  @Column({ name: 'timeout_seconds', type: 'int', default: 0 }) timeoutSeconds!: number;
  @Column({ type: 'boolean', default: false }) destructive!: boolean;
  @Column({ name: 'may_reboot', type: 'boolean', default: false }) mayReboot!: boolean;
  @Column({ type: 'boolean', default: false }) recommission!: boolean;
  @Column({ name: 'apply_configured_networking', type: 'boolean', default: false }) applyConfiguredNetworking!: boolean;
  @Column({ name: 'for_hardware', type: 'text', array: true, default: () => "'{}'" }) forHardware!: string[];
  @Column({ type: 'jsonb', default: () => "'{}'" }) packages!: Record<string, unknown>;
  @Column({ type: 'jsonb', default: () => "'{}'" }) parameters!: Record<string, unknown>;
  @Column({ type: 'jsonb', default: () => "'{}'" }) results!: Record<string, unknown>;
  @Column({ name: 'is_default', type: 'boolean', default: false }) isDefault!: boolean;
  @Column({ name: 'current_version_id', type: 'int', nullable: true }) currentVersionId!: number | null;
  @ManyToOne('ScriptVersionEntity', { onDelete: 'SET NULL' }) @JoinColumn({ name: 'current_version_id' }) currentVersion?: Relation<ScriptVersionEntity>;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
