import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Ids of rack events (leases, boot steps) the region has applied. Inserted in the same
 * transaction as the event's effect, so a redelivered event is recognised and changes nothing.
 */
@Entity('rack_event_receipts')
export class RackEventReceiptEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 64 }) eventId!: string;
  @Column({ name: 'rack_id', type: 'varchar', length: 41 }) rackId!: string;
  @Index() @CreateDateColumn({ type: 'timestamptz' }) received!: Date;
}
