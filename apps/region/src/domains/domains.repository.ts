import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface DomainRow {
  id: number;
  name: string;
  authoritative: boolean;
  ttl: number | null;
  is_default: boolean;
  resource_record_count: number;
}

export interface DnsRecordRow {
  id: number;
  dnsresource_id: number;
  rrtype: string;
  rrdata: string;
  ttl: number | null;
  name: string;
  domain_id: number;
  domain_name: string;
}

export interface DnsResourceRow {
  id: number;
  name: string;
  domain_id: number;
  domain_name: string;
  address_ttl: number | null;
  ip_addresses: string[];
}

export interface DnsFilter {
  domainId?: number;
  name?: string;
  rrtype?: string;
}

const DOMAIN_SELECT = `
  SELECT d.id, d.name, d.authoritative, d.ttl, d.is_default,
         (COALESCE((SELECT sum(cardinality(r.ip_addresses)) FROM dns_resources r WHERE r.domain_id = d.id), 0)
          + (SELECT count(*) FROM dns_data x JOIN dns_resources r ON r.id = x.dnsresource_id WHERE r.domain_id = d.id))::int
           AS resource_record_count
    FROM domains d`;
const RESOURCE_SELECT = `
  SELECT r.id, r.name, r.domain_id, d.name AS domain_name, r.address_ttl, ARRAY(SELECT host(a) FROM unnest(r.ip_addresses) a) AS ip_addresses
    FROM dns_resources r JOIN domains d ON d.id = r.domain_id`;
const RECORD_SELECT = `
  SELECT x.id, x.dnsresource_id, x.rrtype, x.rrdata, x.ttl, r.name, r.domain_id, d.name AS domain_name
    FROM dns_data x JOIN dns_resources r ON r.id = x.dnsresource_id JOIN domains d ON d.id = r.domain_id`;

/** Every query on domains, DNS resources and their records (stored as data; not served yet). */
@Injectable()
export class DomainsRepository {
  constructor(private readonly ds: DataSource) {}

  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  // ---- domains ---------------------------------------------------------------------------------

  domains(): Promise<DomainRow[]> {
    return this.ds.query(`${DOMAIN_SELECT} ORDER BY d.id`);
  }

  /** By id or by name (with or without MAAS's "name:" prefix). */
  async domainByKey(key: string): Promise<DomainRow | null> {
    const k = key.startsWith('name:') ? key.slice(5) : key;
    const [row] = await this.ds.query(`${DOMAIN_SELECT} WHERE ($1 ~ '^[0-9]{1,9}$' AND d.id = $1::int) OR d.name = $1 ORDER BY (d.name = $1) LIMIT 1`, [k]);
    return row ?? null;
  }

  async domainNameTaken(name: string, exceptId: number | null): Promise<boolean> {
    const [row] = await this.ds.query(`SELECT 1 FROM domains WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2`, [name, exceptId]);
    return !!row;
  }

  async insertDomain(d: { name: string; authoritative: boolean; ttl: number | null }): Promise<number> {
    const [row] = await this.ds.query(`INSERT INTO domains (name, authoritative, ttl) VALUES ($1, $2, $3) RETURNING id`, [d.name, d.authoritative, d.ttl]);
    return row.id as number;
  }

  async updateDomain(em: EntityManager, id: number, d: { name: string; authoritative: boolean; ttl: number | null }): Promise<void> {
    await em.query(`UPDATE domains SET name = $2, authoritative = $3, ttl = $4 WHERE id = $1`, [id, d.name, d.authoritative, d.ttl]);
  }

  async setDefaultDomain(em: EntityManager, id: number): Promise<void> {
    await em.query(`UPDATE domains SET is_default = (id = $1) WHERE is_default OR id = $1`, [id]);
  }

  async deleteDomain(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM domains WHERE id = $1`, [id]);
  }

  /** Machines and devices named in the domain. */
  async nodeCount(domainId: number): Promise<number> {
    const [row] = await this.ds.query(
      `SELECT ((SELECT count(*) FROM machines WHERE domain_id = $1) + (SELECT count(*) FROM devices WHERE domain_id = $1))::int AS n`,
      [domainId],
    );
    return row.n as number;
  }

  /** The VLANs whose DHCP configuration may carry the default domain's name. */
  async vlanIds(em: EntityManager): Promise<number[]> {
    return (await em.query(`SELECT id FROM vlans ORDER BY id`)).map((r: { id: number }) => r.id);
  }

  /** The next SOA serial the zones get (MAAS's zone_serial.set_value). */
  async setZoneSerial(serial: number): Promise<void> {
    await this.ds.query(`SELECT setval('dns_zone_serial', $1, false)`, [serial]);
  }

  // ---- DNS resources ---------------------------------------------------------------------------

  resources(f: DnsFilter = {}): Promise<DnsResourceRow[]> {
    return this.ds.query(
      `${RESOURCE_SELECT}
        WHERE ($1::int IS NULL OR r.domain_id = $1) AND ($2::text IS NULL OR r.name = $2)
          AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM dns_data x WHERE x.dnsresource_id = r.id AND x.rrtype = $3))
        ORDER BY r.domain_id, r.name`,
      [f.domainId ?? null, f.name ?? null, f.rrtype ?? null],
    );
  }

  async resource(id: number): Promise<DnsResourceRow | null> {
    const [row] = await this.ds.query(`${RESOURCE_SELECT} WHERE r.id = $1`, [id]);
    return row ?? null;
  }

  async resourceByName(domainId: number, name: string): Promise<DnsResourceRow | null> {
    const [row] = await this.ds.query(`${RESOURCE_SELECT} WHERE r.domain_id = $1 AND r.name = $2`, [domainId, name]);
    return row ?? null;
  }

  async insertResource(r: { name: string; domainId: number; addressTtl: number | null; ipAddresses: string[] }): Promise<number> {
    const [row] = await this.ds.query(`INSERT INTO dns_resources (name, domain_id, address_ttl, ip_addresses) VALUES ($1, $2, $3, $4::inet[]) RETURNING id`, [
      r.name,
      r.domainId,
      r.addressTtl,
      r.ipAddresses,
    ]);
    return row.id as number;
  }

  async updateResource(id: number, r: { name: string; domainId: number; addressTtl: number | null; ipAddresses: string[] }): Promise<void> {
    await this.ds.query(`UPDATE dns_resources SET name = $2, domain_id = $3, address_ttl = $4, ip_addresses = $5::inet[], updated = now() WHERE id = $1`, [
      id,
      r.name,
      r.domainId,
      r.addressTtl,
      r.ipAddresses,
    ]);
  }

  async deleteResource(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM dns_resources WHERE id = $1`, [id]);
  }

  /**
   * The addresses machines have in each domain (their interfaces' addresses and the static
   * addresses linked to them): the implicit A/AAAA records MAAS lists with all=true.
   */
  nodeAddresses(f: { domainId?: number; name?: string }): Promise<{ domain_id: number; domain_name: string; domain_ttl: number | null; hostname: string; system_id: string; ip: string }[]> {
    return this.ds.query(
      `SELECT DISTINCT d.id AS domain_id, d.name AS domain_name, d.ttl AS domain_ttl, m.hostname, m.system_id, a.ip
         FROM machines m JOIN domains d ON d.id = m.domain_id JOIN interfaces i ON i.machine_id = m.id
         CROSS JOIN LATERAL (SELECT host(i.ip_address) AS ip WHERE i.ip_address IS NOT NULL
                             UNION SELECT host(s.ip) FROM static_ip_addresses s WHERE s.interface_id = i.id) a
        WHERE ($1::int IS NULL OR d.id = $1) AND ($2::text IS NULL OR m.hostname = $2)
        ORDER BY d.id, m.hostname, a.ip`,
      [f.domainId ?? null, f.name ?? null],
    );
  }

  // ---- DNS resource records --------------------------------------------------------------------

  records(f: DnsFilter & { resourceIds?: number[] } = {}): Promise<DnsRecordRow[]> {
    return this.ds.query(
      `${RECORD_SELECT}
        WHERE ($1::int IS NULL OR r.domain_id = $1) AND ($2::text IS NULL OR r.name = $2) AND ($3::text IS NULL OR x.rrtype = $3)
          AND ($4::int[] IS NULL OR x.dnsresource_id = ANY($4))
        ORDER BY r.domain_id, r.name, x.rrtype, x.id`,
      [f.domainId ?? null, f.name ?? null, f.rrtype ?? null, f.resourceIds ?? null],
    );
  }

  async record(id: number): Promise<DnsRecordRow | null> {
    const [row] = await this.ds.query(`${RECORD_SELECT} WHERE x.id = $1`, [id]);
    return row ?? null;
  }

  /** What DNSData.clean counts on a name: its CNAMEs, and its other records and addresses. */
  async recordCounts(resourceId: number, exceptId: number | null): Promise<{ cnames: number; others: number }> {
    const [row] = await this.ds.query(
      `SELECT count(*) FILTER (WHERE x.rrtype = 'CNAME')::int AS cnames,
              (count(*) FILTER (WHERE x.rrtype <> 'CNAME') + (SELECT cardinality(ip_addresses) FROM dns_resources WHERE id = $1))::int AS others
         FROM dns_data x WHERE x.dnsresource_id = $1 AND x.id IS DISTINCT FROM $2`,
      [resourceId, exceptId],
    );
    return { cnames: row.cnames, others: row.others };
  }

  async insertRecord(r: { resourceId: number; rrtype: string; rrdata: string; ttl: number | null }): Promise<number> {
    const [row] = await this.ds.query(`INSERT INTO dns_data (dnsresource_id, rrtype, rrdata, ttl) VALUES ($1, $2, $3, $4) RETURNING id`, [
      r.resourceId,
      r.rrtype,
      r.rrdata,
      r.ttl,
    ]);
    return row.id as number;
  }

  async updateRecord(id: number, r: { rrtype: string; rrdata: string; ttl: number | null }): Promise<void> {
    await this.ds.query(`UPDATE dns_data SET rrtype = $2, rrdata = $3, ttl = $4, updated = now() WHERE id = $1`, [id, r.rrtype, r.rrdata, r.ttl]);
  }

  async deleteRecord(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM dns_data WHERE id = $1`, [id]);
  }
}
