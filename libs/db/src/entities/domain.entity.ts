import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('domains')
export class DomainEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar', length: 256, unique: true }) name!: string;
  @Column({ type: 'boolean', default: true }) authoritative!: boolean;
  @Column({ type: 'int', nullable: true }) ttl!: number | null;
  @Column({ name: 'is_default', type: 'boolean', default: false }) isDefault!: boolean;
}
