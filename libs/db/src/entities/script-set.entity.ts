import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { MachineEntity } from './machine.entity';

/**
 * One run of scripts on a machine (MAAS `ScriptSet`): a commissioning, installation, testing,
 * release or deployment run. result_type: 0 commissioning, 1 installation, 2 testing, 3 release,
 * 4 deployment. `lastPing` is the runner's last sign of life (every signal updates it).
 */
@Entity('script_sets')
export class ScriptSetEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index() @Column({ name: 'machine_id', type: 'int' }) machineId!: number;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @Column({ name: 'result_type', type: 'smallint' }) resultType!: number;
  @Column({ name: 'last_ping', type: 'timestamptz', nullable: true }) lastPing!: Date | null;
  /** The script names and tags the run was asked for (commissioning_scripts / testing_scripts). */
  @Column({ name: 'requested_scripts', type: 'text', array: true, default: () => "'{}'" }) requestedScripts!: string[];
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
