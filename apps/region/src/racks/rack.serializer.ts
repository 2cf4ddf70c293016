import type { RackControllerEntity } from '@kiln/db';
import { subnetJson, vlanJson } from '../networking/networking.serializer';
import type { RackNetworks } from './racks.service';

const API = '/MAAS/api/2.0';

/** A rack interface as MAAS's interface JSON: its VLAN object (null when on none) and its links with their subnets. */
function rackInterfaceJson(r: RackControllerEntity, i: RackControllerEntity['interfaces'][number], idx: number, nets: RackNetworks) {
  const vlan = i.vlanId ? nets.vlans.get(i.vlanId) : undefined;
  const parent = i.parent ? r.interfaces.findIndex((p) => p.name === i.parent) : -1;
  return {
    id: idx,
    name: i.name,
    type: i.vlan === null ? 'physical' : 'vlan',
    mac_address: i.mac,
    vlan: vlan ? vlanJson(vlan, nets.vlans) : null,
    links: (i.links ?? []).map((l, n) => {
      const subnet = nets.subnets.get(l.subnetId);
      return { id: n, mode: 'static', ip_address: l.ip, ...(subnet ? { subnet: subnetJson(subnet, nets.vlans) } : {}) };
    }),
    discovered: (i.links ?? []).map((l) => {
      const subnet = nets.subnets.get(l.subnetId);
      return { ip_address: l.ip, ...(subnet ? { subnet: subnetJson(subnet, nets.vlans) } : {}) };
    }),
    enabled: true,
    tags: [],
    params: '',
    parents: parent >= 0 ? [i.parent] : [],
    children: r.interfaces.filter((c) => c.parent === i.name).map((c) => c.name),
    effective_mtu: vlan?.mtu ?? 1500,
    system_id: r.systemId,
    resource_uri: `${API}/nodes/${r.systemId}/interfaces/${idx}/`,
  };
}

/** A rack as MAAS's RackControllerHandler shows it (reference 2.14), its interfaces with their VLANs and subnets. */
export function rackJson(r: RackControllerEntity & { zone_name?: string }, nets: RackNetworks = { vlans: new Map(), subnets: new Map() }) {
  return {
    system_id: r.systemId,
    hostname: r.hostname,
    description: '',
    hardware_uuid: null,
    domain: { id: 0, name: 'maas', resource_uri: `${API}/domains/0/` },
    fqdn: `${r.hostname}.maas`,
    architecture: r.architecture || null,
    cpu_count: 0,
    cpu_speed: 0,
    memory: 0,
    swap_size: null,
    osystem: '',
    distro_series: '',
    power_type: '',
    power_state: 'unknown',
    // As MAAS: the addresses linked to subnets (not loopback or link-local ones).
    ip_addresses: r.interfaces.flatMap((i) => (i.links ?? []).map((l) => l.ip)),
    interface_set: r.interfaces.map((i, idx) => rackInterfaceJson(r, i, idx, nets)),
    zone: { name: r.zone_name ?? 'default', description: '', resource_uri: `${API}/zones/${r.zone_name ?? 'default'}/` },
    status_action: '',
    node_type: 2,
    node_type_name: 'Rack controller',
    service_set: [
      { name: 'rackd', status: r.status, status_info: r.lastSeen ? `last heartbeat ${r.lastSeen.toISOString()}` : '' },
    ],
    version: r.version,
    /** Kiln: power types this rack cannot drive, with why (a missing tool); power commands of those types go to other racks. */
    power_unavailable: r.powerUnavailable ?? {},
    commissioning_status: -1,
    commissioning_status_name: 'Unknown',
    testing_status: -1,
    testing_status_name: 'Unknown',
    hardware_info: {},
    tag_names: [],
    resource_uri: `${API}/rackcontrollers/${r.systemId}/`,
  };
}
