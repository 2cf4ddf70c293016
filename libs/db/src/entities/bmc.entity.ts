import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A BMC, shared by every machine it controls (a chassis answers for several nodes).
 * Secret parameters (passwords, keys) are stored encrypted: see secret-box.ts.
 */
@Entity('bmcs')
@Index(['powerType', 'powerAddress'])
export class BmcEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'power_type', type: 'varchar', length: 32, default: '' }) powerType!: string;
  @Column({ name: 'power_address', type: 'varchar', length: 2048, default: '' }) powerAddress!: string;
  @Column({ name: 'power_parameters', type: 'jsonb', default: () => "'{}'" }) powerParameters!: Record<string, string>;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
