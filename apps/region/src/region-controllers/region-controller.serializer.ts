import type { RegionRow } from './region-controllers.repository';
import type { RegionStatus } from './region-controllers.service';

const API = '/MAAS/api/2.0';

/** A region process as MAAS's RegionControllerHandler shows a region controller (node_type 3). */
export function regionJson(r: RegionRow, status: RegionStatus, domain: { id: number; name: string }) {
  return {
    system_id: r.system_id,
    hostname: r.hostname,
    description: '',
    hardware_uuid: null,
    domain: { id: domain.id, name: domain.name, resource_uri: `${API}/domains/${domain.id}/` },
    fqdn: `${r.hostname}.${domain.name}`,
    architecture: null,
    cpu_count: 0,
    cpu_speed: 0,
    memory: 0,
    swap_size: null,
    osystem: '',
    distro_series: '',
    power_type: '',
    power_state: 'unknown',
    ip_addresses: [],
    interface_set: [],
    zone: { name: 'default', description: '', resource_uri: `${API}/zones/default/` },
    status_action: '',
    node_type: 3,
    node_type_name: 'Region controller',
    service_set: [
      { name: 'regiond', status, status_info: `pid ${r.pid}, last heartbeat ${new Date(r.last_seen).toISOString()}` },
    ],
    version: r.version,
    commissioning_status: -1,
    commissioning_status_name: 'Unknown',
    testing_status: -1,
    testing_status_name: 'Unknown',
    hardware_info: {},
    tag_names: [],
    resource_uri: `${API}/regioncontrollers/${r.system_id}/`,
  };
}
