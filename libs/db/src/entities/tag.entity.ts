import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('tags')
export class TagEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar', length: 256, unique: true }) name!: string;
  @Column({ type: 'text', default: '' }) definition!: string;
  @Column({ type: 'text', default: '' }) comment!: string;
  @Column({ name: 'kernel_opts', type: 'text', default: '' }) kernelOpts!: string;
}
