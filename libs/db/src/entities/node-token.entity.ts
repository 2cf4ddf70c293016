import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { MachineEntity } from './machine.entity';

/**
 * The OAuth credentials a machine uses with the metadata API during one boot's purpose
 * (commissioning, testing, deploying, ...). Created when the purpose starts, revoked when it
 * ends; a revoked token authenticates nothing. Never valid on the REST API.
 */
@Entity('node_tokens')
export class NodeTokenEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index() @Column({ name: 'machine_id', type: 'int' }) machineId!: number;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @Index({ unique: true }) @Column({ name: 'consumer_key', type: 'varchar', length: 32 }) consumerKey!: string;
  @Index({ unique: true }) @Column({ name: 'token_key', type: 'varchar', length: 32 }) tokenKey!: string;
  @Column({ name: 'token_secret', type: 'varchar', length: 64 }) tokenSecret!: string;
  /** What the boot is for: commissioning, testing, deploying, rescue, releasing, enlisting... */
  @Column({ type: 'varchar', length: 32 }) purpose!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @Column({ type: 'timestamptz', nullable: true }) revoked!: Date | null;
}
