import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiResponse } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import type { DiscoveryRow } from './discoveries.repository';
import { DiscoveriesService } from './discoveries.service';
import { discoveryId } from './discovery.id';

const API = '/MAAS/api/2.0';

/** MAAS's discovery JSON (DISPLAYED_DISCOVERY_FIELDS), plus first_seen. */
export function discoveryJson(d: DiscoveryRow) {
  const id = discoveryId(d.ip, d.mac_address);
  return {
    discovery_id: id,
    ip: d.ip,
    mac_address: d.mac_address,
    mac_organization: null,
    first_seen: d.first_seen.toISOString(),
    last_seen: d.last_seen.toISOString(),
    hostname: d.hostname || null,
    fabric_name: d.fabric_name,
    vid: d.vid,
    observer: { system_id: d.rack_system_id, hostname: d.rack_hostname, interface_id: null, interface_name: d.interface_name },
    resource_uri: `${API}/discoveries/${id}/`,
  };
}

/** MAAS's StringBool: true/false, yes/no, on/off, 1/0. */
function stringBool(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return false;
  const v = raw.toLowerCase();
  if (['true', 'yes', 'on', '1', 't', 'y'].includes(v)) return true;
  if (['false', 'no', 'off', '0', 'f', 'n'].includes(v)) return false;
  throw new BadRequestError({ [name]: [`Value should be 'true' or 'false': ${raw}`] });
}

const LISTED = 'Discoveries are listed in the order they were last observed on the network (most recent first).';

/** discoveries/ and discoveries/{discovery_id}/: devices the racks saw asking for DHCP leases. */
@Injectable()
export class DiscoveriesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly discoveries: DiscoveriesService,
  ) {}

  onModuleInit() {
    const list = (filter: Parameters<DiscoveriesService['list']>[0]) => async () => (await this.discoveries.list(filter)).map(discoveryJson);
    this.registry.register(
      {
        auth: {
          name: 'DiscoveriesHandler',
          doc: 'Query observed discoveries.',
          path: `${API}/discoveries/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Lists all the devices MAAS has discovered.', description: `Kiln: devices the racks saw asking for a DHCP lease. ${LISTED}`, run: list('all') },
            {
              name: 'by_unknown_mac',
              op: 'by_unknown_mac',
              method: 'GET',
              title: 'Lists all discovered devices whose MAC no known interface has.',
              description: `Excludes discoveries whose MAC address an interface known to MAAS has. ${LISTED}`,
              run: list('unknown_mac'),
            },
            {
              name: 'by_unknown_ip',
              op: 'by_unknown_ip',
              method: 'GET',
              title: 'Lists all discovered devices which have an unknown IP address.',
              description: `Excludes discoveries whose IP address a known node or reservation has. ${LISTED}`,
              run: list('unknown_ip'),
            },
            {
              name: 'by_unknown_ip_and_mac',
              op: 'by_unknown_ip_and_mac',
              method: 'GET',
              title: 'Lists all discovered devices which are completely unknown to MAAS.',
              description: `Excludes discoveries whose MAC or IP address a known node has. ${LISTED}`,
              run: list('unknown_ip_and_mac'),
            },
            {
              name: 'clear',
              op: 'clear',
              method: 'POST',
              permission: 'admin',
              title: 'Deletes all discovered neighbours and/or mDNS entries.',
              params: [
                { name: 'mdns', type: 'Boolean', doc: 'if True, deletes all mDNS entries (Kiln keeps none).' },
                { name: 'neighbours', type: 'Boolean', doc: 'if True, deletes all neighbour entries.' },
                { name: 'all', type: 'Boolean', doc: 'if True, deletes all discovery data.' },
              ],
              run: async (r) => {
                const what = {
                  all: stringBool('all', r.params.get('all')),
                  mdns: stringBool('mdns', r.params.get('mdns')),
                  neighbours: stringBool('neighbours', r.params.get('neighbours')),
                };
                await this.discoveries.clear(what, r.user!.username);
                return ApiResponse.noContent();
              },
            },
            {
              name: 'scan',
              op: 'scan',
              method: 'POST',
              permission: 'admin',
              title: 'Immediately run a neighbour discovery scan on all rack networks.',
              description: 'Kiln: refused (409): its racks do not scan networks; discoveries come from the DHCP requests they answer.',
              params: [
                { name: 'cidr', type: 'String', doc: 'The subnet CIDR(s) to scan (can be specified multiple times).' },
                { name: 'force', type: 'Boolean', doc: 'If True, will force the scan, even if all networks are specified.' },
                { name: 'always_use_ping', type: 'Boolean', doc: "If True, will force the scan to use 'ping' even if 'nmap' is installed." },
                { name: 'slow', type: 'Boolean', doc: 'If True, and nmap is being used, will limit the scan to nine packets per second.' },
                { name: 'threads', type: 'Int', doc: 'The number of threads to use during scanning.' },
              ],
              run: () => this.discoveries.scan(),
            },
          ],
        },
      },
      {
        auth: {
          name: 'DiscoveryHandler',
          doc: 'Read or delete an observed discovery.',
          path: `${API}/discoveries/{discovery_id}/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Read a discovery',
              run: async (r) => discoveryJson(await this.discoveries.get(r.pathParams.discovery_id)),
            },
          ],
        },
      },
    );
  }
}
