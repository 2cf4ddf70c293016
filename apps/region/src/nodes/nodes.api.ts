import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse } from '../api/api.types';
import { parseBool } from '../common/values';
import { deviceJson } from '../devices/device.serializer';
import { DevicesService } from '../devices/devices.service';
import { machineJson } from '../machines/machine.serializer';
import { rackJson } from '../racks/rack.serializer';
import { regionJson } from '../region-controllers/region-controller.serializer';
import { RegionControllersService } from '../region-controllers/region-controllers.service';
import { AnyNode, NodesService } from './nodes.service';

const API = '/MAAS/api/2.0';

/** nodes/ and nodes/{system_id}/ (reference 2.6): the generic node view, read and delete. */
@Injectable()
export class NodesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: NodesService,
    private readonly devices: DevicesService,
    private readonly regions: RegionControllersService,
  ) {}

  private async json(n: AnyNode): Promise<unknown> {
    switch (n.kind) {
      case 'machine':
        return machineJson(n.machine);
      case 'device':
        return deviceJson(n.device, await this.devices.interfaces([n.device.id]));
      case 'rack':
        return rackJson(n.rack);
      case 'region':
        return regionJson(n.region, this.regions.status(n.region), await this.regions.defaultDomain());
    }
  }

  private async list(r: ApiRequest): Promise<ApiResponse> {
    const l = await this.svc.list(r.params, r.user!);
    const interfaces = await this.devices.interfaces(l.devices.map((d) => d.id));
    const domain = l.regions.length ? await this.regions.defaultDomain() : { id: 0, name: 'maas' };
    const now = Date.now();
    const others = [
      ...l.devices.map((d) => deviceJson(d, interfaces)),
      ...l.racks.map((x) => rackJson(x)),
      ...l.regions.map((x) => regionJson(x, this.regions.status(x, now), domain)),
    ].map((o) => JSON.stringify(o));
    // The machines' JSON comes rendered from their cache as "[", items..., "]": the other nodes follow them.
    const inner = l.machinesJson.slice(1, -1);
    const tail = others.length ? Buffer.from((inner.length ? ',' : '') + others.join(',')) : Buffer.alloc(0);
    return ApiResponse.chunks([Buffer.from('['), ...inner, tail, Buffer.from(']')]);
  }

  onModuleInit() {
    const sid = (r: ApiRequest) => r.pathParams.system_id;
    this.registry.register(
      {
        auth: {
          name: 'NodesHandler',
          doc: 'Manage the collection of all the nodes in the MAAS.',
          path: `${API}/nodes/`,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List Nodes visible to the user',
              description:
                'Machines, devices, rack and region controllers, each in its own JSON (node_type, node_type_name). Filters only machines have (status, arch, ...) list machines only.',
              params: [
                { name: 'hostname', doc: 'Only nodes with the matching hostname (repeatable).' },
                { name: 'mac_address', doc: 'Only nodes owning the specified MAC address (repeatable).' },
                { name: 'id', doc: 'Only nodes with matching system ids (repeatable).' },
                { name: 'domain', doc: 'Only nodes in the domain (repeatable).' },
                { name: 'zone', doc: 'Only nodes in the zone (repeatable).' },
              ],
              run: (r) => this.list(r),
            },
          ],
        },
      },
      {
        auth: {
          name: 'NodeHandler',
          doc: 'Manage an individual Node.',
          path: `${API}/nodes/{system_id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a node', run: async (r) => this.json(await this.svc.get(sid(r), r.user!)) },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a node',
              description: 'Devices: their owner or an administrator; machines and controllers: administrators.',
              params: [{ name: 'force', type: 'Boolean', doc: 'Delete a machine even if it is deployed or busy.' }],
              run: async (r) => {
                await this.svc.delete(sid(r), r.user!, parseBool(r.params.get('force')) === true);
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
