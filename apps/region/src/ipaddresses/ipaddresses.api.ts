import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { NetworkingRepository, SubnetRow, VlanRow } from '../networking/networking.repository';
import { subnetJson } from '../networking/networking.serializer';
import { IpAddressRow } from './ipaddresses.repository';
import { IpActor, IpAddressesService } from './ipaddresses.service';

const API = '/MAAS/api/2.0';

/** MAAS's IPADDRESS_TYPE numbers and names of the kinds of static address Kiln keeps. */
const ALLOC_TYPES: Record<string, { type: number; name: string }> = {
  auto: { type: 0, name: 'Automatic' },
  sticky: { type: 1, name: 'Sticky' },
  user_reserved: { type: 4, name: 'User reserved' },
  reserved: { type: 4, name: 'User reserved' },
};

const RESERVE_PARAMS: ParamDoc[] = [
  { name: 'subnet', doc: 'CIDR, id or name:<name> of the subnet to reserve in (needed when no ip is given).' },
  { name: 'ip', doc: 'The address to reserve; without it, the first free address of the subnet outside its IP ranges.' },
  { name: 'ip_address', doc: 'Older name of ip.' },
  { name: 'hostname', doc: 'A host name for the address (a DNS record for it).' },
  { name: 'mac', doc: 'A MAC address the racks serving the subnet hand this address to by DHCP.' },
  { name: 'comment', doc: 'A note about the reservation.' },
];

const RELEASE_PARAMS: ParamDoc[] = [
  { name: 'ip', required: true, doc: 'The address to release.' },
  { name: 'force', type: 'Boolean', doc: "Release someone else's reservation (administrators only)." },
  { name: 'discovered', type: 'Boolean', doc: 'Also forget what racks observed at this address (discoveries).' },
];

const actor = (r: ApiRequest): IpActor => ({ id: r.user!.id, username: r.user!.username, isAdmin: r.user!.isAdmin });

/** ipaddresses/: the addresses users reserve for themselves, in MAAS 2.0's shape. */
@Injectable()
export class IpAddressesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: IpAddressesService,
    private readonly net: NetworkingRepository,
  ) {}

  private async model(): Promise<{ vlans: Map<number, VlanRow>; subnets: Map<number, SubnetRow> }> {
    return { vlans: await this.net.vlanMap(), subnets: new Map((await this.net.subnets()).map((s) => [s.id, s])) };
  }

  private json(x: IpAddressRow, m: { vlans: Map<number, VlanRow>; subnets: Map<number, SubnetRow> }) {
    const t = ALLOC_TYPES[x.alloc_type] ?? { type: 4, name: 'User reserved' };
    const subnet = m.subnets.get(x.subnet_id);
    return {
      alloc_type: t.type,
      alloc_type_name: t.name,
      created: new Date(x.created).toISOString(),
      ip: x.ip,
      owner:
        x.owner === null
          ? null
          : {
              username: x.owner,
              email: x.owner_email ?? '',
              is_superuser: x.owner_is_admin ?? false,
              is_local: true,
              resource_uri: `${API}/users/${encodeURIComponent(x.owner)}/`,
            },
      subnet: subnet ? subnetJson(subnet, m.vlans) : null,
      interface_set:
        x.interface_id === null
          ? []
          : [
              {
                id: x.interface_id,
                name: x.interface_name,
                type: x.interface_type,
                mac_address: x.interface_mac,
                system_id: x.system_id,
                resource_uri: x.system_id ? `${API}/nodes/${x.system_id}/interfaces/${x.interface_id}/` : null,
              },
            ],
      hostname: x.hostname || null,
      mac_address: x.mac_address,
      comment: x.comment,
      resource_uri: `${API}/ipaddresses/`,
    };
  }

  onModuleInit() {
    this.registry.register({
      auth: {
        name: 'IPAddressesHandler',
        doc: 'Manage IP addresses allocated by Kiln.',
        path: `${API}/ipaddresses/`,
        actions: [
          {
            name: 'read',
            op: null,
            method: 'GET',
            title: 'List IP addresses',
            description: "The caller's reserved addresses; administrators may ask for all of them or for one user's.",
            params: [
              { name: 'all', type: 'Boolean', doc: 'Every static address, whoever holds it (administrators only).' },
              { name: 'owner', doc: 'The reserved addresses of this user (administrators only).' },
            ],
            run: async (r) => {
              const rows = await this.svc.list(actor(r), { all: r.params.get('all'), owner: r.params.get('owner') });
              const m = await this.model();
              return rows.map((x) => this.json(x, m));
            },
          },
          {
            name: 'reserve',
            op: 'reserve',
            method: 'POST',
            title: 'Reserve an IP address',
            description: 'A given ip must be a free, usable address of its subnet outside dynamic ranges.',
            params: RESERVE_PARAMS,
            run: async (r) => {
              const get = (n: string) => r.params.get(n);
              const id = await this.svc.reserve(actor(r), {
                subnet: get('subnet'),
                ip: get('ip'),
                ip_address: get('ip_address'),
                hostname: get('hostname'),
                mac: get('mac'),
                comment: get('comment'),
              });
              return this.json(await this.svc.one(id), await this.model());
            },
          },
          {
            name: 'release',
            op: 'release',
            method: 'POST',
            title: 'Release an IP address',
            params: RELEASE_PARAMS,
            run: async (r) => {
              await this.svc.release(actor(r), {
                ip: r.params.get('ip'),
                force: r.params.get('force'),
                discovered: r.params.get('discovered') ?? r.params.get('discovery'),
              });
              return ApiResponse.noContent();
            },
          },
        ],
      },
    });
  }
}
