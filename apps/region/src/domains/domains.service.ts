import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { conflict, invalid, notFound } from '../common/domain.error';
import { parseBool } from '../common/values';
import { DhcpConfigBuilder } from '../networking/dhcp-config.builder';
import { DhcpConfigPublisher } from '../networking/dhcp-config.publisher';
import { formatIp, parseIp } from '../networking/ip.address';
import { cnameConflict, domainNameError, resourceNameError, rrdataError, rrtypeOf, separateFqdn, ttlValue } from './dns.rules';
import { DnsFilter, DnsRecordRow, DnsResourceRow, DomainRow, DomainsRepository } from './domains.repository';

export interface DomainInput {
  name?: string;
  authoritative?: string;
  ttl?: string;
}

export interface DnsResourceInput {
  fqdn?: string;
  name?: string;
  domain?: string;
  address_ttl?: string;
  ip_addresses?: string;
}

export interface DnsRecordInput {
  fqdn?: string;
  name?: string;
  domain?: string;
  rrtype?: string;
  rrdata?: string;
  ttl?: string;
}

export interface DnsQuery {
  fqdn?: string;
  name?: string;
  domain?: string;
  rrtype?: string;
}

export const MAX_SERIAL = 4294967295;

const field = (name: string, message: string) => invalid({ [name]: [message] });

/**
 * Domains (MAAS's DomainForm, set_default, set_serial), DNS resources and their records. Kiln
 * stores them; it does not serve DNS yet. The default domain's name reaches the racks' DHCP
 * configuration, so changing which domain is the default, or its name, pushes that out.
 */
@Injectable()
export class DomainsService {
  constructor(
    private readonly repo: DomainsRepository,
    private readonly dhcp: DhcpConfigBuilder,
    private readonly publisher: DhcpConfigPublisher,
  ) {}

  // ---- domains ---------------------------------------------------------------------------------

  domains(): Promise<DomainRow[]> {
    return this.repo.domains();
  }

  async domainOr404(key: string): Promise<DomainRow> {
    const d = await this.repo.domainByKey(key);
    if (!d) throw notFound('No Domain matches the given query.');
    return d;
  }

  private async domainValues(p: DomainInput, cur: DomainRow | null) {
    const errors: Record<string, string[]> = {};
    const name = p.name !== undefined ? p.name.trim() : (cur?.name ?? '');
    if (!name) errors.name = ['This field is required.'];
    else {
      const err = domainNameError(name);
      if (err) errors.name = [err];
      else if (name !== cur?.name && (await this.repo.domainNameTaken(name, cur?.id ?? null))) errors.name = ['Domain with this Name already exists.'];
    }
    let authoritative = cur?.authoritative ?? true;
    if (p.authoritative !== undefined && p.authoritative.trim() !== '') {
      const b = parseBool(p.authoritative);
      if (b === undefined) errors.authoritative = [`"${p.authoritative}" is not a valid boolean.`];
      else authoritative = b;
    }
    const t = ttlValue(p.ttl);
    if (t.error) errors.ttl = [t.error];
    if (Object.keys(errors).length) throw invalid(errors);
    return { name: name.replace(/\.$/, ''), authoritative, ttl: t.ttl !== undefined ? t.ttl : (cur?.ttl ?? null) };
  }

  async createDomain(p: DomainInput): Promise<number> {
    return this.repo.insertDomain(await this.domainValues(p, null));
  }

  /** Runs a change that may alter the default domain's name, and pushes the DHCP updates it causes. */
  private async withDhcp(fn: (em: EntityManager) => Promise<void>): Promise<void> {
    const out = await this.repo.transaction(async (em) => this.dhcp.track(em, await this.repo.vlanIds(em), () => fn(em)));
    this.publisher.push(out.updates);
  }

  async updateDomain(key: string, p: DomainInput): Promise<number> {
    const cur = await this.domainOr404(key);
    const values = await this.domainValues(p, cur);
    if (cur.is_default && values.name !== cur.name) await this.withDhcp((em) => this.repo.updateDomain(em, cur.id, values));
    else await this.repo.transaction((em) => this.repo.updateDomain(em, cur.id, values));
    return cur.id;
  }

  async setDefault(key: string): Promise<number> {
    const d = await this.domainOr404(key);
    if (!d.is_default) await this.withDhcp((em) => this.repo.setDefaultDomain(em, d.id));
    return d.id;
  }

  async deleteDomain(key: string): Promise<void> {
    const d = await this.domainOr404(key);
    if (d.is_default) throw invalid('This domain is the default domain, it cannot be deleted.');
    const nodes = await this.repo.nodeCount(d.id);
    if (nodes > 0) throw conflict(`Domain ${d.name} cannot be deleted: ${nodes} node${nodes === 1 ? ' is' : 's are'} in it.`);
    await this.repo.deleteDomain(d.id);
  }

  async setSerial(raw: string | undefined): Promise<void> {
    if (raw === undefined) throw field('serial', 'Missing parameter');
    if (!/^\s*\d+\s*$/.test(raw)) throw field('serial', 'Expected a serial number');
    const serial = Number(raw);
    if (serial === 0 || serial > MAX_SERIAL) throw field('serial', `Expected a serial number between 1 and ${MAX_SERIAL}`);
    await this.repo.setZoneSerial(serial);
  }

  // ---- queries shared by resources and records ---------------------------------------------------

  /** MAAS's listing filters: domain (id or name), name, rrtype, or an fqdn split into name and domain. */
  async filter(q: DnsQuery): Promise<DnsFilter> {
    let { name, domain } = q;
    const rrtype = q.rrtype?.toUpperCase();
    if (domain === undefined && name === undefined && q.fqdn !== undefined) ({ name, domain } = await this.splitFqdn(q.fqdn, rrtype));
    const out: DnsFilter = {};
    if (domain !== undefined) out.domainId = (await this.domainOr404(domain)).id;
    if (name !== undefined) out.name = name;
    if (rrtype !== undefined) out.rrtype = rrtype;
    return out;
  }

  private async splitFqdn(fqdn: string, rrtype: string | undefined) {
    const names = new Set((await this.repo.domains()).map((d) => d.name));
    return separateFqdn(fqdn.trim(), rrtype, (n) => names.has(n));
  }

  /** The name and domain of a create: name + domain, or the fqdn split. */
  private async placement(p: { fqdn?: string; name?: string; domain?: string }, rrtype: string | undefined, cur: DnsResourceRow | null) {
    let name = p.name?.trim();
    let domainKey = p.domain?.trim();
    if (name === undefined && domainKey === undefined && p.fqdn !== undefined && p.fqdn.trim() !== '') {
      ({ name, domain: domainKey } = await this.splitFqdn(p.fqdn, rrtype));
    }
    const errors: Record<string, string[]> = {};
    if (!cur && !name) errors.name = ['This field is required.'];
    if (!cur && !domainKey) errors.domain = ['This field is required.'];
    if (Object.keys(errors).length) throw invalid(errors);
    const domainId = domainKey ? (await this.domainOr404(domainKey)).id : cur!.domain_id;
    const finalName = name || cur!.name;
    const err = resourceNameError(finalName);
    if (err) throw field('name', err);
    return { name: finalName, domainId };
  }

  // ---- DNS resources ---------------------------------------------------------------------------

  async resources(q: DnsQuery): Promise<DnsResourceRow[]> {
    return this.repo.resources(await this.filter(q));
  }

  /** all=true: the implicit address records of machines, one synthetic resource (id -1) per machine name. */
  async implicitResources(q: DnsQuery) {
    const f = await this.filter(q);
    if (f.rrtype !== undefined && f.rrtype !== 'A' && f.rrtype !== 'AAAA') return [];
    const rows = await this.repo.nodeAddresses(f);
    const out = new Map<string, { domain_name: string; hostname: string; records: { ttl: number | null; rrtype: string; rrdata: string; system_id: string; node_type: number }[] }>();
    for (const r of rows) {
      const rrtype = r.ip.includes(':') ? 'AAAA' : 'A';
      if (f.rrtype !== undefined && f.rrtype !== rrtype) continue;
      const key = `${r.domain_id}/${r.hostname}`;
      if (!out.has(key)) out.set(key, { domain_name: r.domain_name, hostname: r.hostname, records: [] });
      out.get(key)!.records.push({ ttl: r.domain_ttl, rrtype, rrdata: r.ip, system_id: r.system_id, node_type: 0 });
    }
    return [...out.values()];
  }

  async resourceOr404(rawId: string): Promise<DnsResourceRow> {
    const r = /^\d{1,9}$/.test(rawId) ? await this.repo.resource(Number(rawId)) : null;
    if (!r) throw notFound('No DNSResource matches the given query.');
    return r;
  }

  private addresses(raw: string | undefined, cur: string[]): string[] {
    if (raw === undefined) return cur;
    const out: string[] = [];
    for (const a of raw.split(/[\s,]+/).filter(Boolean)) {
      const ip = parseIp(a);
      if (!ip) throw field('ip_addresses', `${a} is not a valid IP address.`);
      out.push(formatIp(ip));
    }
    return [...new Set(out)];
  }

  async createResource(p: DnsResourceInput): Promise<number> {
    const { name, domainId } = await this.placement(p, 'A', null);
    const t = ttlValue(p.address_ttl);
    if (t.error) throw field('address_ttl', t.error);
    const ipAddresses = this.addresses(p.ip_addresses, []);
    if (await this.repo.resourceByName(domainId, name)) throw field('__all__', 'Labels must be unique within their zone.');
    return this.repo.insertResource({ name, domainId, addressTtl: t.ttl ?? null, ipAddresses });
  }

  async updateResource(rawId: string, p: DnsResourceInput): Promise<number> {
    const cur = await this.resourceOr404(rawId);
    const { name, domainId } = await this.placement(p, 'A', cur);
    const t = ttlValue(p.address_ttl);
    if (t.error) throw field('address_ttl', t.error);
    const ipAddresses = this.addresses(p.ip_addresses, cur.ip_addresses);
    const other = await this.repo.resourceByName(domainId, name);
    if (other && other.id !== cur.id) throw field('__all__', 'Labels must be unique within their zone.');
    if (ipAddresses.length > 0 && (await this.repo.recordCounts(cur.id, null)).cnames > 0) {
      throw field('__all__', 'CNAME records for a name cannot coexist with non-CNAME records.');
    }
    await this.repo.updateResource(cur.id, { name, domainId, addressTtl: t.ttl !== undefined ? t.ttl : cur.address_ttl, ipAddresses });
    return cur.id;
  }

  async deleteResource(rawId: string): Promise<void> {
    await this.repo.deleteResource((await this.resourceOr404(rawId)).id);
  }

  recordsOf(resourceIds: number[]): Promise<DnsRecordRow[]> {
    return resourceIds.length ? this.repo.records({ resourceIds }) : Promise.resolve([]);
  }

  // ---- DNS resource records --------------------------------------------------------------------

  async records(q: DnsQuery): Promise<DnsRecordRow[]> {
    return this.repo.records(await this.filter(q));
  }

  async recordOr404(rawId: string): Promise<DnsRecordRow> {
    const r = /^\d{1,9}$/.test(rawId) ? await this.repo.record(Number(rawId)) : null;
    if (!r) throw notFound('No DNSData matches the given query.');
    return r;
  }

  private recordValues(p: DnsRecordInput, cur: DnsRecordRow | null) {
    const errors: Record<string, string[]> = {};
    let rrtype = cur?.rrtype;
    if (p.rrtype !== undefined || !cur) {
      if (!p.rrtype?.trim()) errors.rrtype = ['This field is required.'];
      else {
        const t = rrtypeOf(p.rrtype);
        if (t.error) errors.rrtype = [t.error];
        rrtype = t.rrtype;
      }
    }
    const rrdata = p.rrdata !== undefined ? p.rrdata.trim() : cur?.rrdata;
    if (!rrdata) errors.rrdata = ['This field is required.'];
    const t = ttlValue(p.ttl);
    if (t.error) errors.ttl = [t.error];
    if (Object.keys(errors).length) throw invalid(errors);
    const err = rrdataError(rrtype!, rrdata!);
    if (err) throw field('__all__', err);
    return { rrtype: rrtype!, rrdata: rrdata!, ttl: t.ttl !== undefined ? t.ttl : (cur?.ttl ?? null) };
  }

  /** Creates a record on its name, creating the DNS resource for the name when there is none (as MAAS). */
  async createRecord(p: DnsRecordInput): Promise<number> {
    const values = this.recordValues(p, null);
    const { name, domainId } = await this.placement(p, values.rrtype, null);
    const existing = await this.repo.resourceByName(domainId, name);
    if (existing) {
      const err = cnameConflict(values.rrtype, await this.repo.recordCounts(existing.id, null));
      if (err) throw field('__all__', err);
    }
    const resourceId = existing?.id ?? (await this.repo.insertResource({ name, domainId, addressTtl: null, ipAddresses: [] }));
    return this.repo.insertRecord({ resourceId, ...values });
  }

  async updateRecord(rawId: string, p: DnsRecordInput): Promise<number> {
    const cur = await this.recordOr404(rawId);
    const values = this.recordValues(p, cur);
    if (values.rrtype !== cur.rrtype) {
      const err = cnameConflict(values.rrtype, await this.repo.recordCounts(cur.dnsresource_id, cur.id));
      if (err) throw field('__all__', err);
    }
    await this.repo.updateRecord(cur.id, values);
    return cur.id;
  }

  async deleteRecord(rawId: string): Promise<void> {
    await this.repo.deleteRecord((await this.recordOr404(rawId)).id);
  }
}
