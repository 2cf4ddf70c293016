import { Column, CreateDateColumn, Entity, Index, ManyToOne, JoinColumn, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from './user.entity';

/** One MAAS API key: an OAuth consumer (with a name) and its access token. The consumer secret is always empty. */
@Entity('api_tokens')
export class ApiTokenEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'user_id', type: 'int' }) userId!: number;
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'user_id' }) user?: UserEntity;
  @Column({ type: 'varchar', length: 255, default: '' }) name!: string;
  @Index({ unique: true }) @Column({ name: 'consumer_key', type: 'varchar', length: 32 }) consumerKey!: string;
  @Index({ unique: true }) @Column({ name: 'token_key', type: 'varchar', length: 32 }) tokenKey!: string;
  @Column({ name: 'token_secret', type: 'varchar', length: 64 }) tokenSecret!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
