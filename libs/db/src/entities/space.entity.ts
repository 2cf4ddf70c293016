import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A space: a set of VLANs (and so subnets) that can reach each other. VLANs reference it. */
@Entity('spaces')
export class SpaceEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar', length: 256, unique: true }) name!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
