import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import { NetworkingRepository } from '../networking/networking.repository';
import { subnetJson } from '../networking/networking.serializer';
import { StaticRouteRow } from './static-routes.repository';
import { StaticRouteInput, StaticRoutesService } from './static-routes.service';

const API = '/MAAS/api/2.0';

const PARAMS: ParamDoc[] = [
  { name: 'source', doc: 'Source subnet for the route (id, CIDR or name).' },
  { name: 'destination', doc: 'Destination subnet for the route (id, CIDR or name).' },
  { name: 'gateway_ip', doc: 'IP address of the gateway on the source subnet.' },
  { name: 'metric', type: 'Int', doc: 'Weight of the route on a deployed machine (default 0).' },
];

const input = (r: ApiRequest): StaticRouteInput => {
  const out: StaticRouteInput = {};
  for (const f of ['source', 'destination', 'gateway_ip', 'metric'] as const) {
    const v = r.params.get(f);
    if (v !== undefined) out[f] = v;
  }
  return out;
};

/** static-routes/ and static-routes/{id}/ (MAAS's DISPLAYED_STATIC_ROUTE_FIELDS). */
@Injectable()
export class StaticRoutesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly svc: StaticRoutesService,
    private readonly net: NetworkingRepository,
  ) {}

  private async json(routes: StaticRouteRow[]) {
    const vlans = await this.net.vlanMap();
    const subnets = new Map((await this.net.subnets()).map((s) => [s.id, s]));
    return routes.map((r) => ({
      id: r.id,
      source: subnetJson(subnets.get(r.source_id)!, vlans),
      destination: subnetJson(subnets.get(r.destination_id)!, vlans),
      gateway_ip: r.gateway_ip,
      metric: r.metric,
      resource_uri: `${API}/static-routes/${r.id}/`,
    }));
  }

  private async one(id: string) {
    return (await this.json([await this.svc.routeOr404(id)]))[0];
  }

  onModuleInit() {
    this.registry.register(
      {
        auth: {
          name: 'StaticRoutesHandler',
          doc: 'Manage static routes.',
          path: `${API}/static-routes/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'List static routes', run: async () => this.json(await this.svc.list()) },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a static route',
              permission: 'admin',
              params: PARAMS.map((p) => (p.name === 'metric' ? p : { ...p, required: true })),
              run: async (r) => this.one(String(await this.svc.create(input(r)))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'StaticRouteHandler',
          doc: 'Manage a static route.',
          path: `${API}/static-routes/{id}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Get a static route', run: (r) => this.one(r.pathParams.id) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a static route',
              permission: 'admin',
              params: PARAMS,
              run: async (r) => this.one(String(await this.svc.update(r.pathParams.id, input(r)))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete static route',
              permission: 'admin',
              run: async (r) => {
                await this.svc.delete(r.pathParams.id);
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
