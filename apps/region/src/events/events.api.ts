import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import { formatEventTime } from '../api/http/maas-time';
import { normalizeMac } from '../api/http/mac';
import { EVENT_LEVELS, EventLevelName, levelName } from './event-levels';
import { EventsRepository } from './events.repository';

const PATH = '/MAAS/api/2.0/events/';

/** events/?op=query: the per-machine event log, newest first. */
@Injectable()
export class EventsApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly events: EventsRepository,
  ) {}

  onModuleInit() {
    this.registry.register({
      auth: {
        name: 'EventsHandler',
        doc: 'Retrieve filtered node events.',
        path: PATH,
        actions: [
          {
            name: 'query',
            op: 'query',
            method: 'GET',
            title: 'List node events',
            description: 'List node events, optionally filtered by various criteria via URL query parameters.',
            params: [
              { name: 'hostname', doc: 'An optional hostname. Only events relating to the node with the matching hostname will be returned.' },
              { name: 'mac_address', doc: 'An optional list of MAC addresses.' },
              { name: 'id', doc: 'An optional list of system ids.' },
              { name: 'zone', doc: 'An optional list of zones.' },
              { name: 'level', doc: 'Desired minimum log level of returned events: AUDIT, DEBUG, INFO, WARNING, ERROR, CRITICAL. Defaults to INFO.' },
              { name: 'limit', type: 'Int', doc: 'Optional number of events to return. Default 100. Maximum: 1000.' },
              { name: 'before', type: 'Int', doc: 'Optional event id. Defines where to start returning older events.' },
              { name: 'after', type: 'Int', doc: 'Optional event id. Defines where to start returning newer events.' },
              { name: 'owner', doc: 'If specified, filters the list to show only events owned by the specified username.' },
            ],
            run: (r) => this.query(r),
          },
        ],
      },
    });
  }

  private async query(r: ApiRequest) {
    const p = r.params;
    const levelRaw = (p.get('level') ?? 'INFO').toUpperCase();
    if (!(levelRaw in EVENT_LEVELS)) {
      throw new BadRequestError(`Unrecognised log level: ${levelRaw}`);
    }
    const limitRaw = p.get('limit') ?? '100';
    if (!/^\d+$/.test(limitRaw)) throw new BadRequestError(`Invalid limit: ${limitRaw}`);
    const limit = Math.min(Number(limitRaw), 1000);
    const before = p.get('before');
    const after = p.get('after');
    for (const [k, v] of [
      ['before', before],
      ['after', after],
    ] as const) {
      if (v !== undefined && !/^\d+$/.test(v)) throw new BadRequestError(`Invalid ${k}: ${v}`);
    }
    if (before && after) throw new BadRequestError('There is both a before and an after; only one may be given.');
    const macs = p.getAll('mac_address').map((m) => {
      const mac = normalizeMac(m);
      if (!mac) throw new BadRequestError(`Invalid MAC address: ${m}`);
      return mac;
    });
    const rows = await this.events.query({
      systemIds: p.getAll('id'),
      hostnames: p.getAll('hostname'),
      macs,
      zones: p.getAll('zone'),
      owners: p.getAll('owner'),
      minLevel: EVENT_LEVELS[levelRaw as EventLevelName],
      before,
      after,
      limit,
      visibleToUserId: r.user!.isAdmin ? undefined : r.user!.id,
    });
    const base = new URLSearchParams();
    for (const name of p.names()) {
      if (name === 'before' || name === 'after' || name === 'op') continue;
      for (const v of p.getAll(name)) base.append(name, v);
    }
    const link = (k: 'before' | 'after', id: string | undefined) => {
      const q = new URLSearchParams(base);
      q.set('op', 'query');
      if (id) q.set(k, id);
      return `${PATH}?${q.toString()}`;
    };
    return {
      count: rows.length,
      events: rows.map((e) => ({
        username: e.username,
        node: e.system_id,
        hostname: e.hostname,
        id: Number(e.id),
        level: levelName(e.level),
        created: formatEventTime(e.created),
        type: e.type,
        description: e.description,
        action: e.action,
      })),
      next_uri: link('after', rows[0]?.id ?? after),
      prev_uri: link('before', rows[rows.length - 1]?.id ?? before),
    };
  }
}
