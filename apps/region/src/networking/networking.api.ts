import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { NotFoundError } from '../api/http/http.errors';
import type { RequestParams } from '../api/http/params';
import { formatIp, parseCidr, usableRange } from './ip.address';
import { NetworkingRepository, SubnetRow } from './networking.repository';
import { fabricJson, rangeJson, reservedIpJson, subnetJson, vlanJson } from './networking.serializer';
import {
  FABRIC_FIELDS,
  FormInput,
  NetworkingService,
  RANGE_FIELDS,
  RangeActor,
  RESERVED_IP_FIELDS,
  SUBNET_FIELDS,
  VLAN_FIELDS,
} from './networking.service';
import { subnetStatistics, reservedRanges, unreservedRanges } from './subnet.statistics';

const API = '/MAAS/api/2.0';

const id = (raw: string, model: string): number => {
  if (!/^\d+$/.test(raw)) throw new NotFoundError(`No ${model} matches the given query.`);
  return Number(raw);
};

/** The form fields a networking operation reads, as the request sent them (first value of each). */
function form<K extends string>(params: RequestParams, fields: readonly K[]): FormInput<K> {
  const out: { [P in K]?: string } = {};
  for (const f of fields) {
    const v = params.get(f);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

const actor = (r: ApiRequest): RangeActor => ({ id: r.user!.id, isAdmin: r.user!.isAdmin });

const VLAN_PARAMS: ParamDoc[] = [
  { name: 'name', doc: 'Name of the VLAN.' },
  { name: 'description', doc: 'Description of the VLAN.' },
  { name: 'vid', type: 'Int', doc: 'VLAN ID of the VLAN.' },
  { name: 'mtu', type: 'Int', doc: 'The MTU to use on the VLAN.' },
  { name: 'dhcp_on', type: 'Boolean', doc: 'Whether or not DHCP should be managed on the VLAN.' },
  { name: 'primary_rack', doc: 'The primary rack controller managing the VLAN (system_id).' },
  { name: 'secondary_rack', doc: 'The secondary rack controller managing the VLAN (system_id).' },
  { name: 'relay_vlan', type: 'Int', doc: 'Relay VLAN ID. Only set when this VLAN will be using a DHCP relay to another VLAN.' },
  { name: 'space', doc: 'The space this VLAN should be placed in.' },
];

const SUBNET_PARAMS: ParamDoc[] = [
  { name: 'cidr', doc: 'The network CIDR for this subnet.' },
  { name: 'name', doc: 'The name of the subnet (defaults to the CIDR).' },
  { name: 'description', doc: 'The description of the subnet.' },
  { name: 'vlan', type: 'Int', doc: 'VLAN this subnet belongs to (defaults to the default VLAN of the default fabric).' },
  { name: 'fabric', doc: 'Fabric for the subnet; with vid, selects the VLAN.' },
  { name: 'vid', type: 'Int', doc: 'VID of the VLAN this subnet belongs to (with fabric).' },
  { name: 'gateway_ip', doc: 'The gateway IP address for this subnet.' },
  { name: 'dns_servers', doc: 'Comma-separated list of DNS servers for this subnet.' },
  { name: 'rdns_mode', type: 'Int', doc: 'How reverse DNS is handled (0 disabled, 1 enabled, 2 RFC2317).' },
  { name: 'allow_dns', type: 'Boolean', doc: 'Configure MAAS DNS to allow DNS resolution from this subnet.' },
  { name: 'allow_proxy', type: 'Boolean', doc: 'Configure the proxy to allow requests from this subnet.' },
  { name: 'managed', type: 'Boolean', doc: 'In MAAS 2.0+, all subnets are assumed to be managed by default.' },
  { name: 'active_discovery', type: 'Boolean', doc: 'Allow active discovery (mapping) on this subnet.' },
  { name: 'disabled_boot_architectures', doc: 'Comma or space separated boot architectures (names or codes) not to answer.' },
];

const RANGE_PARAMS: ParamDoc[] = [
  { name: 'type', doc: "Type of this range: 'dynamic' or 'reserved'." },
  { name: 'start_ip', doc: 'Start IP address of this range (inclusive).' },
  { name: 'end_ip', doc: 'End IP address of this range (inclusive).' },
  { name: 'subnet', type: 'Int', doc: 'Subnet associated with this range (found from start_ip when omitted).' },
  { name: 'comment', doc: 'A description of this range.' },
];

const RESERVED_IP_PARAMS: ParamDoc[] = [
  { name: 'ip', doc: 'The IP to reserve.' },
  { name: 'subnet', type: 'Int', doc: 'The subnet of the IP (found from the IP when omitted).' },
  { name: 'mac_address', doc: 'The MAC address the IP is handed to by DHCP.' },
  { name: 'comment', doc: 'A description of this reserved IP.' },
];

/** fabrics/, vlans/, subnets/, ipranges/ and reservedips/ (reference 2.13; JSON shapes of 2.8.1). */
@Injectable()
export class NetworkingApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly repo: NetworkingRepository,
    private readonly svc: NetworkingService,
  ) {}

  /** A fabric path's id; 0 is MAAS's default fabric. */
  private async fabricId(raw: string): Promise<number> {
    const fid = id(raw, 'Fabric');
    return fid === 0 ? this.svc.defaultFabricId() : fid;
  }

  private async fabric(fid: number) {
    const f = await this.svc.fabricOr404(fid);
    return fabricJson(f, await this.repo.vlanMap());
  }

  private async vlan(vlanId: number) {
    return vlanJson(await this.svc.vlanOr404(vlanId), await this.repo.vlanMap());
  }

  private async subnet(s: SubnetRow) {
    return subnetJson(s, await this.repo.vlanMap());
  }

  private async range(rid: number) {
    const r = await this.svc.rangeOr404(rid);
    const [s] = await this.repo.subnets(undefined, { id: r.subnet_id });
    return rangeJson(r, s, await this.repo.vlanMap());
  }

  private async reservedIp(rid: number) {
    const x = await this.svc.staticIpOr404(rid);
    const [s] = await this.repo.subnets(undefined, { id: x.subnet_id });
    return reservedIpJson(x, s, await this.repo.vlanMap());
  }

  /** A VLAN path: vlans/{vlan_id}/ or fabrics/{fabric_id}/vlans/{vid}/ (vid may be "untagged"). */
  private async vlanId(r: ApiRequest): Promise<number> {
    if (r.pathParams.vlan_id !== undefined) return id(r.pathParams.vlan_id, 'VLAN');
    const fid = await this.fabricId(r.pathParams.fabric_id);
    const rawVid = r.pathParams.vid === 'untagged' ? '0' : r.pathParams.vid;
    const v = await this.repo.vlanByFabricVid(undefined, fid, id(rawVid, 'VLAN'));
    if (!v) throw new NotFoundError('No VLAN matches the given query.');
    return v.id;
  }

  onModuleInit() {
    const vlanActions = [
      { name: 'read', op: null, method: 'GET' as const, title: 'Retrieve VLAN', run: async (r: ApiRequest) => this.vlan(await this.vlanId(r)) },
      {
        name: 'update',
        op: null,
        method: 'PUT' as const,
        title: 'Update VLAN',
        description: 'Turning DHCP on needs a primary rack controller and a dynamic IP range on one of the VLAN\'s subnets.',
        permission: 'admin' as const,
        params: VLAN_PARAMS,
        run: async (r: ApiRequest) => {
          const vid = await this.vlanId(r);
          await this.svc.updateVlan(vid, form(r.params, VLAN_FIELDS));
          return this.vlan(vid);
        },
      },
      {
        name: 'delete',
        op: null,
        method: 'DELETE' as const,
        title: 'Delete a VLAN',
        permission: 'admin' as const,
        run: async (r: ApiRequest) => {
          await this.svc.deleteVlan(await this.vlanId(r));
          return ApiResponse.noContent();
        },
      },
    ];
    const subnetKey = (r: ApiRequest) => r.pathParams.id;
    this.registry.register(
      {
        auth: {
          name: 'FabricsHandler',
          doc: 'Manage fabrics.',
          path: `${API}/fabrics/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List fabrics',
              run: async () => {
                const vlans = await this.repo.vlanMap();
                return (await this.repo.fabrics()).map((f) => fabricJson(f, vlans));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a fabric',
              description: 'Every fabric gets an untagged VLAN (vid 0).',
              permission: 'admin',
              params: [
                { name: 'name', doc: 'Name of the fabric (default fabric-<id>).' },
                { name: 'description', doc: 'Description of the fabric.' },
                { name: 'class_type', doc: 'Class type of the fabric.' },
              ],
              run: async (r) => this.fabric(await this.svc.createFabric(form(r.params, FABRIC_FIELDS))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'FabricHandler',
          doc: 'Manage a fabric.',
          path: `${API}/fabrics/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a fabric', run: async (r) => this.fabric(await this.fabricId(r.pathParams.id)) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update fabric',
              permission: 'admin',
              params: [
                { name: 'name', doc: 'Name of the fabric.' },
                { name: 'description', doc: 'Description of the fabric.' },
                { name: 'class_type', doc: 'Class type of the fabric.' },
              ],
              run: async (r) => {
                const fid = await this.fabricId(r.pathParams.id);
                await this.svc.updateFabric(fid, form(r.params, FABRIC_FIELDS));
                return this.fabric(fid);
              },
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a fabric',
              permission: 'admin',
              run: async (r) => {
                await this.svc.deleteFabric(await this.fabricId(r.pathParams.id));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'VlansHandler',
          doc: 'Manage VLANs on a fabric.',
          path: `${API}/fabrics/{fabric_id}/vlans/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List VLANs',
              run: async (r) => {
                const fid = await this.fabricId(r.pathParams.fabric_id);
                await this.svc.fabricOr404(fid);
                const vlans = await this.repo.vlanMap();
                return [...vlans.values()].filter((v) => v.fabric_id === fid).map((v) => vlanJson(v, vlans));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a VLAN',
              permission: 'admin',
              params: VLAN_PARAMS.filter((p) => ['name', 'description', 'vid', 'mtu', 'space'].includes(p.name)).map((p) =>
                p.name === 'vid' ? { ...p, required: true } : p,
              ),
              run: async (r) => this.vlan(await this.svc.createVlan(await this.fabricId(r.pathParams.fabric_id), form(r.params, VLAN_FIELDS))),
            },
          ],
        },
      },
      { auth: { name: 'VlanHandler', doc: 'Manage a VLAN on a fabric.', path: `${API}/fabrics/{fabric_id}/vlans/{vid}/`, actions: vlanActions } },
      { auth: { name: 'VlanHandler', doc: 'Manage a VLAN by id.', path: `${API}/vlans/{vlan_id}/`, actions: vlanActions, alias: true } },
      {
        auth: {
          name: 'SubnetsHandler',
          doc: 'Manage subnets.',
          path: `${API}/subnets/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List all subnets',
              run: async () => {
                const vlans = await this.repo.vlanMap();
                return (await this.repo.subnets()).map((s) => subnetJson(s, vlans));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a subnet',
              permission: 'admin',
              params: SUBNET_PARAMS.map((p) => (p.name === 'cidr' ? { ...p, required: true } : p)),
              run: async (r) => {
                const sid = await this.svc.createSubnet(form(r.params, SUBNET_FIELDS));
                return this.subnet((await this.repo.subnets(undefined, { id: sid }))[0]);
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'SubnetHandler',
          doc: 'Manage a subnet (by id, CIDR or name).',
          path: `${API}/subnets/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Get a subnet', run: async (r) => this.subnet(await this.svc.subnetOr404(subnetKey(r))) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a subnet',
              permission: 'admin',
              params: SUBNET_PARAMS,
              run: async (r) => {
                const sid = await this.svc.updateSubnet(subnetKey(r), form(r.params, SUBNET_FIELDS));
                return this.subnet((await this.repo.subnets(undefined, { id: sid }))[0]);
              },
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a subnet',
              permission: 'admin',
              run: async (r) => {
                await this.svc.deleteSubnet(subnetKey(r));
                return ApiResponse.noContent();
              },
            },
            {
              name: 'reserved_ip_ranges',
              op: 'reserved_ip_ranges',
              method: 'GET',
              title: 'List reserved IP ranges',
              description: 'Ranges, the gateway, DNS servers and static addresses of the subnet, with their purpose.',
              run: async (r) => reservedRanges(await this.usage(subnetKey(r))),
            },
            {
              name: 'unreserved_ip_ranges',
              op: 'unreserved_ip_ranges',
              method: 'GET',
              title: 'List unreserved IP ranges',
              run: async (r) => unreservedRanges(await this.usage(subnetKey(r))),
            },
            {
              name: 'statistics',
              op: 'statistics',
              method: 'GET',
              title: 'Get subnet statistics',
              run: async (r) => subnetStatistics(await this.usage(subnetKey(r))),
            },
            {
              name: 'ip_addresses',
              op: 'ip_addresses',
              method: 'GET',
              title: 'Summary of IP addresses',
              description: 'The static and reserved addresses of the subnet.',
              run: async (r) => {
                const s = await this.svc.subnetOr404(subnetKey(r));
                return (await this.repo.staticIps(undefined, { subnetId: s.id })).map((x) => ({
                  ip: x.ip,
                  alloc_type: x.alloc_type === 'auto' ? 0 : x.alloc_type === 'sticky' ? 1 : 4,
                  alloc_type_name: x.alloc_type === 'auto' ? 'Automatic' : x.alloc_type === 'sticky' ? 'Sticky' : 'User reserved',
                  mac_address: x.mac_address,
                  node_summary: x.system_id ? { system_id: x.system_id, hostname: x.hostname, node_type: 0 } : undefined,
                }));
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'IPRangesHandler',
          doc: 'Manage IP ranges.',
          path: `${API}/ipranges/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List all IP ranges',
              run: async () => {
                const vlans = await this.repo.vlanMap();
                const subnets = new Map((await this.repo.subnets()).map((s) => [s.id, s]));
                return (await this.repo.ranges()).map((x) => rangeJson(x, subnets.get(x.subnet_id)!, vlans));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create an IP range',
              description: 'Dynamic ranges need an administrator; any user may reserve a range.',
              params: RANGE_PARAMS.map((p) => (['type', 'start_ip', 'end_ip'].includes(p.name) ? { ...p, required: true } : p)),
              run: async (r) => this.range(await this.svc.createRange(form(r.params, RANGE_FIELDS), actor(r))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'IPRangeHandler',
          doc: 'Manage IP range.',
          path: `${API}/ipranges/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read an IP range', run: (r) => this.range(id(r.pathParams.id, 'IPRange')) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update an IP range',
              params: RANGE_PARAMS,
              run: async (r) => this.range(await this.svc.updateRange(id(r.pathParams.id, 'IPRange'), form(r.params, RANGE_FIELDS), actor(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete an IP range',
              run: async (r) => {
                await this.svc.deleteRange(id(r.pathParams.id, 'IPRange'), actor(r));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'ReservedIpsHandler',
          doc: 'Manage reserved IPs (DHCP reservations for a MAC address).',
          path: `${API}/reservedips/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List all reserved IPs',
              run: async () => {
                const vlans = await this.repo.vlanMap();
                const subnets = new Map((await this.repo.subnets()).map((s) => [s.id, s]));
                return (await this.repo.staticIps()).map((x) => reservedIpJson(x, subnets.get(x.subnet_id)!, vlans));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a reserved IP',
              permission: 'admin',
              params: RESERVED_IP_PARAMS.map((p) => (p.name === 'ip' ? { ...p, required: true } : p)),
              run: async (r) => this.reservedIp(await this.svc.createReservedIp(form(r.params, RESERVED_IP_FIELDS))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'ReservedIpHandler',
          doc: 'Manage a reserved IP.',
          path: `${API}/reservedips/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a reserved IP', run: (r) => this.reservedIp(id(r.pathParams.id, 'ReservedIP')) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a reserved IP',
              permission: 'admin',
              params: RESERVED_IP_PARAMS.filter((p) => p.name !== 'subnet'),
              run: async (r) => this.reservedIp(await this.svc.updateReservedIp(id(r.pathParams.id, 'ReservedIP'), form(r.params, RESERVED_IP_FIELDS))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a reserved IP',
              permission: 'admin',
              run: async (r) => {
                await this.svc.deleteReservedIp(id(r.pathParams.id, 'ReservedIP'));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }

  private async usage(key: string) {
    const s = await this.svc.subnetOr404(key);
    const cidr = parseCidr(s.cidr)!;
    const usable = usableRange(cidr);
    return {
      cidr,
      first: formatIp({ family: cidr.family, value: usable.first }),
      usable,
      subnet: s,
      ranges: await this.repo.ranges(undefined, { subnetId: s.id }),
      staticIps: await this.repo.staticIps(undefined, { subnetId: s.id }),
    };
  }
}
