import type { InterfaceNetRows, InterfaceRow } from '../machines/machines.repository';
import { interfaceAddresses, interfaceJson } from '../machines/machine.serializer';
import type { DeviceRow } from './devices.repository';

const API = '/MAAS/api/2.0';

/** A device as MAAS's DeviceHandler shows it (DISPLAYED_DEVICE_FIELDS). */
export function deviceJson(d: DeviceRow, loaded: { interfaces: InterfaceRow[]; net: InterfaceNetRows }) {
  const own = loaded.interfaces.filter((i) => i.device_id === d.id);
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
    ip_addresses: interfaceAddresses(own),
    interface_set: own.map((i) => interfaceJson(d.system_id, i, loaded.net)),
    zone: { name: d.zone_name, description: d.zone_description, id: d.zone_id, resource_uri: `${API}/zones/${d.zone_name}/` },
    node_type: 1,
    node_type_name: 'Device',
    resource_uri: `${API}/devices/${d.system_id}/`,
  };
}
