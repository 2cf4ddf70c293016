import { Injectable, OnModuleInit } from '@nestjs/common';
import { RACK_ENROLLMENT_PATH } from '@kiln/contracts';
import type { RackControllerEntity } from '@kiln/db';
import { ApiRegistry } from '../api/api.registry';
import { ApiResponse } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import { describePowerTypes } from '../power/power-types.catalogue';
import { subnetJson, vlanJson } from '../networking/networking.serializer';
import { MAX_TOKEN_TTL_HOURS, RackNetworks, RacksService } from './racks.service';

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

/**
 * rackcontrollers/: the racks that registered with this region (registration itself runs over
 * NATS), the one-time tokens new racks enroll with, and deleting a rack, which revokes it first.
 */
@Injectable()
export class RacksApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly racks: RacksService,
  ) {}

  private async createEnrollmentToken(ttlRaw: string | undefined, by: string) {
    let hours = 24;
    if (ttlRaw !== undefined && ttlRaw !== '') {
      if (!/^\d{1,4}$/.test(ttlRaw)) {
        throw new BadRequestError({ ttl_hours: [`Must be a whole number of hours from 1 to ${MAX_TOKEN_TTL_HOURS}.`] });
      }
      hours = Number(ttlRaw);
    }
    const { token, expires } = await this.racks.createEnrollmentToken(hours, by);
    return { token, expires: expires.toISOString(), enroll_path: RACK_ENROLLMENT_PATH };
  }

  onModuleInit() {
    this.registry.register(
      {
        auth: {
          name: 'RackControllersHandler',
          doc: 'Manage the collection of all rack controllers in MAAS.',
          path: `${API}/rackcontrollers/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List Nodes visible to the user',
              run: async () => {
                const [racks, nets] = await Promise.all([this.racks.list(), this.racks.networks()]);
                return racks.map((r) => rackJson(r, nets));
              },
            },
            {
              name: 'describe_power_types',
              op: 'describe_power_types',
              method: 'GET',
              title: 'Get power information from rack controllers',
              description: 'Queries all rack controllers for power information.',
              run: () => describePowerTypes(),
            },
            {
              name: 'create_enrollment_token',
              op: 'create_enrollment_token',
              method: 'POST',
              permission: 'admin',
              title: 'Create a rack enrollment token',
              description:
                'Kiln: a one-time secret a new rack enrolls with (KILN_RACK_ENROLL_TOKEN): it is spent by the first rack that ' +
                'presents it before it expires, and the rack is then let onto the NATS bus with its own key. Only its hash is stored.',
              params: [{ name: 'ttl_hours', type: 'Int', doc: `How long the token stays valid, in hours (1 to ${MAX_TOKEN_TTL_HOURS}, default 24).` }],
              run: (r) => this.createEnrollmentToken(r.params.get('ttl_hours'), r.user!.username),
            },
          ],
        },
      },
      {
        auth: {
          name: 'RackControllerHandler',
          doc: 'Manage an individual rack controller.',
          path: `${API}/rackcontrollers/{system_id}/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Read a node',
              run: async (r) => rackJson(await this.racks.get(r.pathParams.system_id), await this.racks.networks()),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              permission: 'admin',
              title: 'Delete a rack controller',
              description:
                'Deletes a rack controller. Kiln revokes it first: its keys are forgotten and the NATS server drops its ' +
                'connection at once, so it can do nothing on the bus and is sent no secrets.',
              run: async (r) => {
                await this.racks.delete(r.pathParams.system_id, r.user!.username);
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
