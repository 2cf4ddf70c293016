import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { SubnetEntity } from './subnet.entity';

/** A static route from one subnet to another through a gateway inside the source subnet. */
@Entity('static_routes')
@Index(['sourceId', 'destinationId', 'gatewayIp'], { unique: true })
export class StaticRouteEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'source_id', type: 'int' }) sourceId!: number;
  @ManyToOne(() => SubnetEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'source_id' }) source?: SubnetEntity;
  @Index() @Column({ name: 'destination_id', type: 'int' }) destinationId!: number;
  @ManyToOne(() => SubnetEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'destination_id' }) destination?: SubnetEntity;
  @Column({ name: 'gateway_ip', type: 'inet' }) gatewayIp!: string;
  @Column({ type: 'int', default: 0 }) metric!: number;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
