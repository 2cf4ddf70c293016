import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ActionDef, ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import type { RequestParams } from '../api/http/params';
import { BOND_LACP_RATES, BOND_MODES, BOND_XMIT_HASH_POLICIES, InterfaceForm, InterfacesService } from './interfaces.service';

const API = '/MAAS/api/2.0';
const NODE = `${API}/nodes/{system_id}`;

const FIELDS = [
  'name', 'mac_address', 'vlan', 'mtu', 'tags', 'enabled', 'parent', 'mode', 'subnet', 'ip_address', 'default_gateway', 'link_id',
  'bond_mode', 'bond_miimon', 'bond_downdelay', 'bond_updelay', 'bond_lacp_rate', 'bond_xmit_hash_policy', 'bond_num_grat_arp',
  'bridge_type', 'bridge_stp', 'bridge_fd',
];

function form(params: RequestParams): InterfaceForm {
  const out: Record<string, string | undefined> = {};
  for (const f of FIELDS) {
    const v = params.get(f);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

const actor = (r: ApiRequest) => r.user!;
const sid = (r: ApiRequest) => r.pathParams.system_id;
const id = (r: ApiRequest) => r.pathParams.id;

const COMMON: ParamDoc[] = [
  { name: 'name', doc: 'Name of the interface.' },
  { name: 'mac_address', doc: 'MAC address of the interface.' },
  { name: 'tags', doc: 'Tags for the interface (comma-separated).' },
  { name: 'vlan', type: 'Int', doc: 'VLAN (id) the interface is connected to.' },
  { name: 'mtu', type: 'Int', doc: 'Maximum transmission unit.' },
];
const BOND: ParamDoc[] = [
  { name: 'parents', type: 'Int', doc: 'Parent interface ids that make this bond; repeat for several.' },
  { name: 'bond_mode', doc: `The operating mode of the bond: ${BOND_MODES.join(', ')} (default balance-rr).` },
  { name: 'bond_miimon', type: 'Int', doc: 'The link monitoring frequency in milliseconds (default 100).' },
  { name: 'bond_downdelay', type: 'Int', doc: 'Milliseconds to wait before disabling a slave after a link failure (default 0).' },
  { name: 'bond_updelay', type: 'Int', doc: 'Milliseconds to wait before enabling a slave after a link recovery (default 0).' },
  { name: 'bond_lacp_rate', doc: `LACPDU rate in 802.3ad mode: ${BOND_LACP_RATES.join(', ')} (default slow).` },
  { name: 'bond_xmit_hash_policy', doc: `The transmit hash policy: ${BOND_XMIT_HASH_POLICIES.join(', ')} (default layer2).` },
  { name: 'bond_num_grat_arp', type: 'Int', doc: 'Peer notifications after a failover (default 1).' },
];
const BRIDGE: ParamDoc[] = [
  { name: 'parent', type: 'Int', doc: 'Parent interface id of this bridge.' },
  { name: 'bridge_type', doc: 'The type of bridge: standard or ovs (default standard).' },
  { name: 'bridge_stp', type: 'Boolean', doc: 'Turn spanning tree protocol on or off (default off).' },
  { name: 'bridge_fd', type: 'Int', doc: 'Bridge forward delay in seconds (default 15).' },
];
const TAG: ParamDoc[] = [{ name: 'tag', required: true, doc: 'The tag.' }];

/**
 * nodes/{system_id}/interfaces/ (MAAS api/interfaces.py: InterfacesHandler and InterfaceHandler),
 * for machines and devices alike. Who may do what is the service's to decide (structure and tags:
 * administrators on a machine, the owner on a device).
 */
@Injectable()
export class InterfacesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: InterfacesService,
  ) {}

  private async read(r: ApiRequest, rawId = id(r)) {
    const set = await this.svc.view(sid(r), actor(r));
    return set.json(this.svc.iface(set, rawId));
  }

  private created(fn: (r: ApiRequest) => Promise<number>) {
    return async (r: ApiRequest) => this.read(r, String(await fn(r)));
  }

  private after(fn: (r: ApiRequest) => Promise<unknown>) {
    return async (r: ApiRequest) => {
      await fn(r);
      return this.read(r);
    };
  }

  private listActions(): ActionDef[] {
    return [
      {
        name: 'read',
        op: null,
        method: 'GET',
        title: 'List interfaces',
        description: 'List all interfaces belonging to a machine or device.',
        run: async (r) => {
          const set = await this.svc.view(sid(r), actor(r));
          return set.interfaces.map((i) => set.json(i));
        },
      },
      {
        name: 'create_physical',
        op: 'create_physical',
        method: 'POST',
        title: 'Create a physical interface',
        description: 'On a machine: administrators only, while it is New, Ready, Allocated or Broken. On a device: its owner or an administrator, at any time.',
        params: [{ name: 'mac_address', required: true, doc: 'MAC address of the interface.' }, ...COMMON.filter((p) => p.name !== 'mac_address')],
        run: this.created((r) => this.svc.createPhysical(sid(r), form(r.params), actor(r))),
      },
      {
        name: 'create_bond',
        op: 'create_bond',
        method: 'POST',
        title: 'Create a bond interface',
        description: 'Bonds physical interfaces; the MAC address defaults to the first parent\'s.',
        params: [{ name: 'name', required: true, doc: 'Name of the interface.' }, ...COMMON.filter((p) => p.name !== 'name'), ...BOND],
        run: this.created((r) => this.svc.createBond(sid(r), form(r.params), r.params.getAll('parents'), actor(r))),
      },
      {
        name: 'create_bridge',
        op: 'create_bridge',
        method: 'POST',
        title: 'Create a bridge interface',
        description: 'The name defaults to br-<parent>; the MAC address to the parent\'s.',
        params: [...COMMON, ...BRIDGE],
        run: this.created((r) => this.svc.createBridge(sid(r), form(r.params), actor(r))),
      },
      {
        name: 'create_vlan',
        op: 'create_vlan',
        method: 'POST',
        title: 'Create a VLAN interface',
        description: 'The VLAN must be tagged and on the parent\'s fabric; the name defaults to <parent>.<vid>.',
        params: [
          { name: 'vlan', required: true, type: 'Int', doc: 'Tagged VLAN (id) the interface is connected to.' },
          { name: 'parent', required: true, type: 'Int', doc: 'Parent interface id for this VLAN interface.' },
          { name: 'tags', doc: 'Tags for the interface (comma-separated).' },
          { name: 'mtu', type: 'Int', doc: 'Maximum transmission unit.' },
        ],
        run: this.created((r) => this.svc.createVlan(sid(r), form(r.params), actor(r))),
      },
    ];
  }

  private itemActions(): ActionDef[] {
    return [
      { name: 'read', op: null, method: 'GET', title: 'Read an interface', run: (r) => this.read(r) },
      {
        name: 'update',
        op: null,
        method: 'PUT',
        title: 'Update an interface',
        description: 'Deployed machines: name and mac_address only. Bonds take the bond_ params and parents, bridges the bridge_ params.',
        params: [...COMMON, { name: 'enabled', type: 'Boolean', doc: 'Whether the interface is enabled.' }, ...BOND, ...BRIDGE.filter((p) => p.name !== 'parent')],
        run: this.after((r) => this.svc.update(sid(r), id(r), form(r.params), r.params.getAll('parents'), actor(r))),
      },
      {
        name: 'delete',
        op: null,
        method: 'DELETE',
        title: 'Delete an interface',
        description: 'Also deletes the VLAN interfaces and bridges built on it alone, and frees its static addresses.',
        run: async (r) => {
          await this.svc.delete(sid(r), id(r), actor(r));
          return ApiResponse.noContent();
        },
      },
      {
        name: 'link_subnet',
        op: 'link_subnet',
        method: 'POST',
        title: 'Link interface to a subnet',
        description: 'STATIC without ip_address takes the first free address outside the dynamic and reserved ranges.',
        params: [
          { name: 'mode', required: true, doc: 'AUTO, DHCP, STATIC or LINK_UP (a device: DHCP, STATIC or LINK_UP).' },
          { name: 'subnet', type: 'Int', doc: 'Subnet (id, cidr or name) to link to; required for AUTO and STATIC.' },
          { name: 'ip_address', doc: 'STATIC only: the address, in the subnet, outside its dynamic ranges and free.' },
          { name: 'default_gateway', type: 'Boolean', doc: 'AUTO and STATIC only: route the machine through this subnet\'s gateway.' },
        ],
        run: this.after((r) => this.svc.linkSubnet(sid(r), id(r), form(r.params), actor(r))),
      },
      {
        name: 'unlink_subnet',
        op: 'unlink_subnet',
        method: 'POST',
        title: 'Unlink interface from subnet',
        params: [{ name: 'id', required: true, type: 'Int', doc: 'Id of the link to remove.' }],
        run: this.after((r) => this.svc.unlinkSubnet(sid(r), id(r), r.params.get('id'), actor(r))),
      },
      {
        name: 'set_default_gateway',
        op: 'set_default_gateway',
        method: 'POST',
        title: 'Set the default gateway on a machine',
        params: [{ name: 'link_id', type: 'Int', doc: 'The link whose subnet gateway to use (default: the interface\'s AUTO/STATIC link per family).' }],
        run: this.after((r) => this.svc.setDefaultGateway(sid(r), id(r), r.params.get('link_id'), actor(r))),
      },
      {
        name: 'disconnect',
        op: 'disconnect',
        method: 'POST',
        title: 'Disconnect an interface',
        description: 'Removes every link (freeing static addresses) and the VLAN.',
        run: this.after((r) => this.svc.disconnect(sid(r), id(r), actor(r))),
      },
      { name: 'add_tag', op: 'add_tag', method: 'POST', title: 'Add a tag to an interface', params: TAG, run: this.after((r) => this.svc.tag(sid(r), id(r), r.params.get('tag'), true, actor(r))) },
      { name: 'remove_tag', op: 'remove_tag', method: 'POST', title: 'Remove a tag from an interface', params: TAG, run: this.after((r) => this.svc.tag(sid(r), id(r), r.params.get('tag'), false, actor(r))) },
    ];
  }

  onModuleInit() {
    this.registry.register(
      { auth: { name: 'InterfacesHandler', doc: 'Manage interfaces on a node.', path: `${NODE}/interfaces/`, actions: this.listActions() } },
      { auth: { name: 'InterfaceHandler', doc: 'Manage a node\'s or device\'s interface.', path: `${NODE}/interfaces/{id}/`, actions: this.itemActions() } },
    );
  }
}
