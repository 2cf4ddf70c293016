import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('resource_pools')
export class ResourcePoolEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar', length: 256, unique: true }) name!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
