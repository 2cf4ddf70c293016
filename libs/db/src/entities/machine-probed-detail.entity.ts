import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { MachineEntity } from './machine.entity';

/**
 * What commissioning probed that has no typed home, kept as the machine last reported it (MAAS
 * keeps these as commissioning results and reads them back by script name): `lshw` and `lldp`
 * (XML, served by op=details and read by tag definitions), `modaliases` (one per line, what
 * `for_hardware` scripts match) and `serial_ports` (JSON).
 */
@Entity('machine_probed_details')
@Index(['machineId', 'name'], { unique: true })
export class MachineProbedDetailEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ name: 'machine_id', type: 'int' }) machineId!: number;
  @ManyToOne(() => MachineEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'machine_id' }) machine?: MachineEntity;
  @Column({ type: 'varchar', length: 32 }) name!: string;
  @Column({ type: 'bytea' }) data!: Buffer;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
