import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { parseBool } from '../common/values';
import { DnsRecordRow, DnsResourceRow, DomainRow } from './domains.repository';
import { DnsQuery, DomainsService } from './domains.service';

const API = '/MAAS/api/2.0';

function pick<K extends string>(r: ApiRequest, fields: readonly K[]): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const f of fields) {
    const v = r.params.get(f);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

const fqdn = (name: string, domain: string) => (name === '@' ? domain : `${name}.${domain}`);

export function domainJson(d: DomainRow) {
  return {
    authoritative: d.authoritative,
    id: d.id,
    is_default: d.is_default,
    name: d.name,
    resource_record_count: d.resource_record_count,
    resource_uri: `${API}/domains/${d.id}/`,
    ttl: d.ttl,
  };
}

function recordJson(x: DnsRecordRow) {
  return { id: x.id, fqdn: fqdn(x.name, x.domain_name), ttl: x.ttl, rrtype: x.rrtype, rrdata: x.rrdata, resource_uri: `${API}/dnsresourcerecords/${x.id}/` };
}

function resourceJson(r: DnsResourceRow, records: DnsRecordRow[]) {
  return {
    id: r.id,
    fqdn: fqdn(r.name, r.domain_name),
    address_ttl: r.address_ttl,
    // MAAS lists StaticIPAddress objects; Kiln keeps the addresses on the resource, user-reserved.
    ip_addresses: r.ip_addresses.map((ip) => ({ ip, alloc_type: 4, alloc_type_name: 'User reserved' })),
    resource_records: records
      .filter((x) => x.dnsresource_id === r.id)
      .sort((a, b) => a.rrtype.localeCompare(b.rrtype) || a.id - b.id)
      .map(recordJson),
    resource_uri: `${API}/dnsresources/${r.id}/`,
  };
}

const DOMAIN_PARAMS: ParamDoc[] = [
  { name: 'name', doc: 'Name of the domain.' },
  { name: 'authoritative', type: 'Boolean', doc: 'True if we are authoritative for this domain (default true).' },
  { name: 'ttl', type: 'Int', doc: 'The default TTL for this domain.' },
];
const FILTER_PARAMS: ParamDoc[] = [
  { name: 'domain', doc: 'Restricts the listing to entries for the domain (id or name).' },
  { name: 'name', doc: 'Restricts the listing to entries of the given name.' },
  { name: 'fqdn', doc: 'Restricts the listing to the given name and domain.' },
  { name: 'rrtype', doc: 'Restricts the listing to entries which have records of the given rrtype.' },
];
const RESOURCE_PARAMS: ParamDoc[] = [
  { name: 'fqdn', doc: 'Hostname (with domain) for the dnsresource. Either fqdn or name and domain must be specified.' },
  { name: 'name', doc: 'Hostname (without domain).' },
  { name: 'domain', doc: 'Domain (name or id).' },
  { name: 'address_ttl', type: 'Int', doc: 'Default TTL for the addresses of this name.' },
  { name: 'ip_addresses', doc: 'Addresses (space or comma separated) of the name: an A or AAAA record each.' },
];
const RECORD_PARAMS: ParamDoc[] = [
  { name: 'fqdn', doc: 'Hostname (with domain) for the record. Either fqdn or name and domain must be specified.' },
  { name: 'name', doc: 'Hostname (without domain).' },
  { name: 'domain', doc: 'Domain (name or id).' },
  { name: 'rrtype', doc: 'Resource type: CNAME, MX, NS, SRV, SSHFP or TXT.' },
  { name: 'rrdata', doc: 'Resource data (everything to the right of the type).' },
  { name: 'ttl', type: 'Int', doc: 'TTL for this record.' },
];

const QUERY = ['fqdn', 'name', 'domain', 'rrtype'] as const;

/** domains/, dnsresources/ and dnsresourcerecords/ (reference 2.6). The DNS data is stored; Kiln does not serve DNS yet. */
@Injectable()
export class DomainsApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: DomainsService,
  ) {}

  private async domain(key: string) {
    return domainJson(await this.svc.domainOr404(key));
  }

  private async resources(rows: DnsResourceRow[]) {
    const records = await this.svc.recordsOf(rows.map((r) => r.id));
    return rows.map((r) => resourceJson(r, records));
  }

  private async resource(id: string) {
    return (await this.resources([await this.svc.resourceOr404(id)]))[0];
  }

  private async record(id: string) {
    return recordJson(await this.svc.recordOr404(id));
  }

  onModuleInit() {
    const deleted = () => ApiResponse.noContent();
    this.registry.register(
      {
        auth: {
          name: 'DomainsHandler',
          doc: 'Manage domains.',
          path: `${API}/domains/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'List all domains', run: async () => (await this.svc.domains()).map(domainJson) },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a domain',
              permission: 'admin',
              params: DOMAIN_PARAMS.map((p) => (p.name === 'name' ? { ...p, required: true } : p)),
              run: async (r) => this.domain(String(await this.svc.createDomain(pick(r, ['name', 'authoritative', 'ttl'])))),
            },
            {
              name: 'set_serial',
              op: 'set_serial',
              method: 'POST',
              title: 'Set the SOA serial number',
              description: 'The serial number the DNS zones use next (stored; Kiln does not serve DNS yet).',
              permission: 'admin',
              params: [{ name: 'serial', type: 'Int', required: true, doc: 'Serial number to use next (1 to 4294967295).' }],
              run: async (r) => {
                await this.svc.setSerial(r.params.get('serial'));
                return null;
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'DomainHandler',
          doc: 'Manage a domain (by id or name).',
          path: `${API}/domains/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read domain', run: (r) => this.domain(r.pathParams.id) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a domain',
              permission: 'admin',
              params: DOMAIN_PARAMS,
              run: async (r) => this.domain(String(await this.svc.updateDomain(r.pathParams.id, pick(r, ['name', 'authoritative', 'ttl'])))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete domain',
              description: 'The default domain, and a domain nodes are in, cannot be deleted.',
              permission: 'admin',
              run: async (r) => {
                await this.svc.deleteDomain(r.pathParams.id);
                return deleted();
              },
            },
            {
              name: 'set_default',
              op: 'set_default',
              method: 'POST',
              title: 'Set domain as default',
              description: 'New machines and devices without a domain go to the default domain.',
              permission: 'admin',
              run: async (r) => this.domain(String(await this.svc.setDefault(r.pathParams.id))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'DNSResourcesHandler',
          doc: 'Manage dnsresources.',
          path: `${API}/dnsresources/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List resources',
              description: "With all=true, the machines' implicit address records follow, each name as a resource with id -1.",
              params: [...FILTER_PARAMS, { name: 'all', type: 'Boolean', doc: 'Include implicit DNS records created for nodes registered in MAAS if true.' }],
              run: async (r) => {
                const q = pick(r, QUERY) as DnsQuery;
                const stored = await this.resources(await this.svc.resources(q));
                if (parseBool(r.params.get('all')) !== true) return stored;
                const implicit = (await this.svc.implicitResources(q)).map((x) => ({
                  id: -1,
                  fqdn: fqdn(x.hostname, x.domain_name),
                  address_ttl: null,
                  ip_addresses: null,
                  resource_records: x.records,
                  resource_uri: `${API}/dnsresources/-1/`,
                }));
                return [...stored, ...implicit];
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a DNS resource',
              permission: 'admin',
              params: RESOURCE_PARAMS,
              run: async (r) => this.resource(String(await this.svc.createResource(pick(r, ['fqdn', 'name', 'domain', 'address_ttl', 'ip_addresses'])))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'DNSResourceHandler',
          doc: 'Manage dnsresource.',
          path: `${API}/dnsresources/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a DNS resource', run: (r) => this.resource(r.pathParams.id) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a DNS resource',
              permission: 'admin',
              params: RESOURCE_PARAMS,
              run: async (r) =>
                this.resource(String(await this.svc.updateResource(r.pathParams.id, pick(r, ['fqdn', 'name', 'domain', 'address_ttl', 'ip_addresses'])))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a DNS resource',
              permission: 'admin',
              run: async (r) => {
                await this.svc.deleteResource(r.pathParams.id);
                return deleted();
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'DNSResourceRecordsHandler',
          doc: 'Manage DNS resource records (e.g. CNAME, MX, NS, SRV, SSHFP, TXT).',
          path: `${API}/dnsresourcerecords/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List all DNS resource records',
              params: FILTER_PARAMS,
              run: async (r) => (await this.svc.records(pick(r, QUERY) as DnsQuery)).map(recordJson),
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a DNS resource record',
              description: 'The DNS resource of the name is created when there is none.',
              permission: 'admin',
              params: RECORD_PARAMS,
              run: async (r) => this.record(String(await this.svc.createRecord(pick(r, ['fqdn', 'name', 'domain', 'rrtype', 'rrdata', 'ttl'])))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'DNSResourceRecordHandler',
          doc: 'Manage dnsresourcerecord.',
          path: `${API}/dnsresourcerecords/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'DNS resource record read', run: (r) => this.record(r.pathParams.id) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a DNS resource record',
              permission: 'admin',
              params: RECORD_PARAMS.filter((p) => ['rrtype', 'rrdata', 'ttl'].includes(p.name)),
              run: async (r) => this.record(String(await this.svc.updateRecord(r.pathParams.id, pick(r, ['rrtype', 'rrdata', 'ttl'])))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a DNS resource record',
              permission: 'admin',
              run: async (r) => {
                await this.svc.deleteRecord(r.pathParams.id);
                return deleted();
              },
            },
          ],
        },
      },
    );
  }
}
