import type { RackControllerEntity } from '@kiln/db';

const API = '/MAAS/api/2.0';

/** A rack as MAAS's RackControllerHandler shows it (reference 2.14). */
export function rackJson(r: RackControllerEntity & { zone_name?: string }) {
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
    ip_addresses: r.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0])),
    interface_set: r.interfaces.map((i, idx) => ({
      id: idx,
      name: i.name,
      type: i.vlan === null ? 'physical' : 'vlan',
      mac_address: i.mac,
      vlan: i.vlan === null ? null : { vid: i.vlan },
      links: i.addresses.map((a, n) => ({ id: n, mode: 'static', ip_address: a.split('/')[0] })),
      enabled: true,
      tags: [],
      parents: [],
      children: [],
      effective_mtu: 1500,
      resource_uri: `${API}/nodes/${r.systemId}/interfaces/${idx}/`,
    })),
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
