import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ScriptEntity } from './script.entity';

/** One revision of a script's text (MAAS keeps every revision: `history`, `download?revision=`, `revert`). */
@Entity('script_versions')
export class ScriptVersionEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index() @Column({ name: 'script_id', type: 'int' }) scriptId!: number;
  @ManyToOne(() => ScriptEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'script_id' }) script?: ScriptEntity;
  @Column({ type: 'bytea' }) data!: Buffer;
  @Column({ type: 'varchar', length: 64 }) sha256!: string;
  @Column({ type: 'text', default: '' }) comment!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
