import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { SUPPORTED_OPTIONS } from './dhcp-snippet.parser';
import type { DhcpSnippetRow } from './dhcp-snippets.repository';
import { DhcpSnippetInput, DhcpSnippetsService } from './dhcp-snippets.service';

const json = (s: DhcpSnippetRow) => ({
  id: s.id,
  name: s.name,
  value: s.value,
  description: s.description,
  history: [],
  enabled: s.enabled,
  node: s.systemId,
  subnet: s.subnetId === null ? null : { id: s.subnetId, name: s.subnetName, cidr: s.subnetCidr, resource_uri: `/MAAS/api/2.0/subnets/${s.subnetId}/` },
  iprange: null,
  global_snippet: s.nodeId === null && s.subnetId === null,
  resource_uri: `/MAAS/api/2.0/dhcp-snippets/${s.id}/`,
});

const SUPPORTED = Object.keys(SUPPORTED_OPTIONS).map((o) => `option ${o}`).join(', ');
const FIELDS: ParamDoc[] = [
  { name: 'name', required: true, doc: 'The name of the DHCP snippet.' },
  { name: 'value', required: true, doc: `The snippet of ISC dhcpd configuration. Kiln's DHCP server applies only these statements, and refuses a snippet with any other: ${SUPPORTED}.` },
  { name: 'description', doc: 'A description of what the snippet does.' },
  { name: 'enabled', type: 'Boolean', doc: 'Whether or not this snippet is enabled.' },
  { name: 'node', doc: 'Refused: Kiln\'s DHCP server does not apply per-node options yet.' },
  { name: 'subnet', doc: 'The subnet (id, CIDR or name) this snippet is for.' },
  { name: 'iprange', doc: 'Refused: Kiln does not scope snippets to an IP range.' },
  { name: 'global_snippet', type: 'Boolean', doc: 'Whether or not this snippet is to be applied globally. Cannot be used with node or subnet.' },
];
const ID: ParamDoc = { name: 'id', type: 'Int', required: true, doc: 'The DHCP snippet id.' };

function input(r: ApiRequest): DhcpSnippetInput {
  const out: DhcpSnippetInput = {};
  for (const k of ['name', 'value', 'description', 'enabled', 'node', 'subnet', 'iprange', 'global_snippet'] as const) {
    const v = r.params.get(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** dhcp-snippets/ and dhcp-snippets/{id}/: MAAS's DHCPSnippetsHandler and DHCPSnippetHandler. */
@Injectable()
export class DhcpSnippetsApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly snippets: DhcpSnippetsService,
  ) {}

  onModuleInit() {
    const id = (r: ApiRequest) => Number(r.pathParams.id);
    this.registry.register(
      {
        auth: {
          name: 'DHCPSnippetsHandler',
          doc: 'Manage the collection of all DHCP snippets in MAAS.',
          path: '/MAAS/api/2.0/dhcp-snippets/',
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'List DHCP snippets', run: async () => (await this.snippets.list()).map(json) },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a DHCP snippet',
              description: 'Creates a DHCP snippet, global or for one subnet; enabled snippets go to the racks with the DHCP configuration. Snippets for one node are refused (no per-host options yet).',
              permission: 'admin',
              params: FIELDS,
              run: async (r: ApiRequest) => json(await this.snippets.create(input(r))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'DHCPSnippetHandler',
          doc: 'Manage an individual DHCP snippet.',
          path: '/MAAS/api/2.0/dhcp-snippets/{id}/',
          ensureExists: async (p) => void (await this.snippets.get(Number(p.id))),
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a DHCP snippet', params: [ID], run: async (r) => json(await this.snippets.get(id(r))) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a DHCP snippet',
              permission: 'admin',
              params: [ID, ...FIELDS.map((f) => ({ ...f, required: false }))],
              run: async (r: ApiRequest) => json(await this.snippets.update(id(r), input(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a DHCP snippet',
              permission: 'admin',
              params: [ID],
              run: async (r: ApiRequest) => {
                await this.snippets.delete(id(r));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
