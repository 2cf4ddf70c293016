import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A region process. Regions keep no state of their own, so each running one records itself here
 * at start and heartbeats; region-controllers/ lists them.
 */
@Entity('region_controllers')
export class RegionControllerEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ name: 'system_id', type: 'varchar', length: 41 }) systemId!: string;
  @Column({ type: 'varchar', length: 255 }) hostname!: string;
  @Column({ type: 'int', default: 0 }) pid!: number;
  @Column({ type: 'varchar', length: 64, default: '' }) version!: string;
  @Column({ name: 'last_seen', type: 'timestamptz' }) lastSeen!: Date;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
}
