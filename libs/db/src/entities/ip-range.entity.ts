import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { SubnetEntity } from './subnet.entity';
import { UserEntity } from './user.entity';

/** A range of a subnet: 'dynamic' (DHCP leases from it) or 'reserved' (kept out of every allocation). */
@Entity('ip_ranges')
@Check(`"type" IN ('dynamic', 'reserved')`)
@Check(`"start_ip" <= "end_ip" AND family("start_ip") = family("end_ip")`)
export class IpRangeEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index() @Column({ name: 'subnet_id', type: 'int' }) subnetId!: number;
  @ManyToOne(() => SubnetEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'subnet_id' }) subnet?: SubnetEntity;
  @Column({ type: 'varchar', length: 16 }) type!: string;
  @Column({ name: 'start_ip', type: 'inet' }) startIp!: string;
  @Column({ name: 'end_ip', type: 'inet' }) endIp!: string;
  @Column({ type: 'text', default: '' }) comment!: string;
  @Column({ name: 'user_id', type: 'int', nullable: true }) userId!: number | null;
  @ManyToOne(() => UserEntity, { onDelete: 'SET NULL' }) @JoinColumn({ name: 'user_id' }) user?: UserEntity;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
