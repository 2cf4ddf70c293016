import { Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TagEntity } from './tag.entity';
import { MachineEntity } from './machine.entity';

@Entity('machine_tags')
@Index(['tagId'])
export class MachineTagEntity {
  @PrimaryColumn({ name: 'machine_id', type: 'int' }) machineId!: number;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @PrimaryColumn({ name: 'tag_id', type: 'int' }) tagId!: number;
  @ManyToOne(() => TagEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'tag_id' }) tag?: TagEntity;
}
