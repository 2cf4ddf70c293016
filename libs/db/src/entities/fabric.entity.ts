import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A set of interconnected VLANs (a layer-2 domain). Every fabric has an untagged VLAN (vid 0). */
@Entity('fabrics')
export class FabricEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index({ unique: true }) @Column({ type: 'varchar', length: 256 }) name!: string;
  @Column({ type: 'text', default: '' }) description!: string;
  @Column({ name: 'class_type', type: 'varchar', length: 256, nullable: true }) classType!: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
