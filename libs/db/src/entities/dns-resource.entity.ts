import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { DomainEntity } from './domain.entity';

/**
 * A DNS name in a domain with its addresses (MAAS's DNSResource). Stored as data: the region
 * does not serve DNS yet.
 */
@Entity('dns_resources')
@Index(['domainId', 'name'], { unique: true })
export class DnsResourceEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Column({ type: 'varchar', length: 191 }) name!: string;
  @Column({ name: 'domain_id', type: 'int' }) domainId!: number;
  @ManyToOne(() => DomainEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'domain_id' }) domain?: DomainEntity;
  @Column({ name: 'address_ttl', type: 'int', nullable: true }) addressTtl!: number | null;
  @Column({ name: 'ip_addresses', type: 'inet', array: true, default: () => "'{}'" }) ipAddresses!: string[];
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}

/** One resource record of a DNS resource other than its addresses (MAAS's DNSData): CNAME, MX, TXT, SRV... */
@Entity('dns_data')
export class DnsDataEntity {
  @PrimaryGeneratedColumn({ type: 'int' }) id!: number;
  @Index() @Column({ name: 'dnsresource_id', type: 'int' }) dnsresourceId!: number;
  @ManyToOne(() => DnsResourceEntity, { onDelete: 'CASCADE' }) @JoinColumn({ name: 'dnsresource_id' }) dnsresource?: DnsResourceEntity;
  @Column({ type: 'varchar', length: 8 }) rrtype!: string;
  @Column({ type: 'text' }) rrdata!: string;
  @Column({ type: 'int', nullable: true }) ttl!: number | null;
  @CreateDateColumn({ type: 'timestamptz' }) created!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updated!: Date;
}
