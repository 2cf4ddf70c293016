import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity';

@Entity('ssh_keys')
@Index(['userId', 'key'], { unique: true })
export class SshKeyEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'user_id', type: 'int' }) userId!: number;
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'user_id' }) user?: UserEntity;
  @Column({ type: 'text' }) key!: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) keysource!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
