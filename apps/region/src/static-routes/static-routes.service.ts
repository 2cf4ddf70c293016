import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';
import { NetworkingRepository, SubnetRow } from '../networking/networking.repository';
import { staticRouteErrors } from './static-route.rules';
import { StaticRouteRow, StaticRoutesRepository } from './static-routes.repository';

export interface StaticRouteInput {
  source?: string;
  destination?: string;
  gateway_ip?: string;
  metric?: string;
}

/** Static routes (MAAS's StaticRouteForm): create and update validate the whole route. */
@Injectable()
export class StaticRoutesService {
  constructor(
    private readonly repo: StaticRoutesRepository,
    private readonly net: NetworkingRepository,
  ) {}

  async routeOr404(rawId: string): Promise<StaticRouteRow> {
    const r = /^\d{1,9}$/.test(rawId) ? await this.repo.byId(Number(rawId)) : null;
    if (!r) throw notFound('No StaticRoute matches the given query.');
    return r;
  }

  private async subnet(field: 'source' | 'destination', key: string | undefined, current: number | null): Promise<SubnetRow> {
    const k = key?.trim();
    if (!k) {
      if (current !== null) return (await this.net.subnets(undefined, { id: current }))[0];
      throw invalid({ [field]: ['This field is required.'] });
    }
    const s = await this.net.subnetByKey(undefined, k);
    if (!s) throw invalid({ [field]: [`Select a valid choice. ${k} is not one of the available choices.`] });
    return s;
  }

  private async checked(p: StaticRouteInput, cur: StaticRouteRow | null): Promise<Omit<StaticRouteRow, 'id'>> {
    const missing: Record<string, string[]> = {};
    if (!cur) for (const f of ['source', 'destination', 'gateway_ip'] as const) if (!p[f]?.trim()) missing[f] = ['This field is required.'];
    if (Object.keys(missing).length) throw invalid(missing);
    const source = await this.subnet('source', p.source, cur?.source_id ?? null);
    const destination = await this.subnet('destination', p.destination, cur?.destination_id ?? null);
    const gatewayIp = p.gateway_ip ?? cur!.gateway_ip;
    const errors = staticRouteErrors({
      sourceId: source.id,
      sourceCidr: source.cidr,
      destinationId: destination.id,
      destinationCidr: destination.cidr,
      gatewayIp,
      metric: p.metric,
    });
    if (errors) throw invalid(errors);
    const route = {
      source_id: source.id,
      destination_id: destination.id,
      gateway_ip: gatewayIp.trim(),
      metric: p.metric !== undefined && p.metric.trim() !== '' ? Number(p.metric) : (cur?.metric ?? 0),
    };
    if (await this.repo.duplicate(route, cur?.id ?? null)) {
      throw invalid({ __all__: ['Static route with this Source, Destination and Gateway ip already exists.'] });
    }
    return route;
  }

  async create(p: StaticRouteInput): Promise<number> {
    return this.repo.insert(await this.checked(p, null));
  }

  async update(rawId: string, p: StaticRouteInput): Promise<number> {
    const cur = await this.routeOr404(rawId);
    await this.repo.update({ id: cur.id, ...(await this.checked(p, cur)) });
    return cur.id;
  }

  async delete(rawId: string): Promise<void> {
    await this.repo.delete((await this.routeOr404(rawId)).id);
  }

  list(): Promise<StaticRouteRow[]> {
    return this.repo.list();
  }
}
