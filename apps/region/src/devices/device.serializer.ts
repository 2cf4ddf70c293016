import type { DeviceInterfaceRow, DeviceRow } from './devices.repository';

const API = '/MAAS/api/2.0';

/** A device as MAAS's DeviceHandler shows it (DISPLAYED_DEVICE_FIELDS). */
export function deviceJson(d: DeviceRow, interfaces: DeviceInterfaceRow[]) {
  const own = interfaces.filter((i) => i.device_id === d.id);
  return {
    system_id: d.system_id,
    hostname: d.hostname,
    description: d.description,
    domain: {
      authoritative: d.domain_authoritative,
      id: d.domain_id,
      is_default: d.domain_is_default,
      name: d.domain_name,
      resource_record_count: 0,
      resource_uri: `${API}/domains/${d.domain_id}/`,
      ttl: d.domain_ttl,
    },
    fqdn: `${d.hostname}.${d.domain_name}`,
    owner: d.owner,
    owner_data: d.owner_data,
    workload_annotations: d.owner_data,
    parent: d.parent,
    tag_names: [],
    address_ttl: null,
    ip_addresses: [],
    interface_set: own.map((i) => ({
      id: i.id,
      name: i.name,
      type: 'physical',
      mac_address: i.mac_address,
      enabled: true,
      links: [],
      vlan: null,
      tags: [],
      params: '',
      parents: [],
      children: [],
      effective_mtu: 1500,
      discovered: null,
      system_id: d.system_id,
      resource_uri: `${API}/nodes/${d.system_id}/interfaces/${i.id}/`,
    })),
    zone: { name: d.zone_name, description: d.zone_description, id: d.zone_id, resource_uri: `${API}/zones/${d.zone_name}/` },
    node_type: 1,
    node_type_name: 'Device',
    resource_uri: `${API}/devices/${d.system_id}/`,
  };
}
