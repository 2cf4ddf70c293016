import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface DiscoveryRow {
  ip: string;
  mac_address: string;
  hostname: string;
  first_seen: Date;
  last_seen: Date;
  fabric_name: string | null;
  vid: number | null;
  rack_system_id: string;
  rack_hostname: string;
  interface_name: string;
}

export type DiscoveryFilter = 'all' | 'unknown_mac' | 'unknown_ip' | 'unknown_ip_and_mac';

const KNOWN_MAC = `EXISTS (SELECT 1 FROM interfaces i WHERE i.mac_address = d.mac_address)`;
const KNOWN_IP = `(EXISTS (SELECT 1 FROM interfaces i WHERE i.ip_address = d.ip) OR EXISTS (SELECT 1 FROM static_ip_addresses s WHERE s.ip = d.ip))`;
const FILTERS: Record<DiscoveryFilter, string> = {
  all: 'TRUE',
  unknown_mac: `NOT ${KNOWN_MAC}`,
  unknown_ip: `NOT ${KNOWN_IP}`,
  unknown_ip_and_mac: `NOT ${KNOWN_MAC} AND NOT ${KNOWN_IP}`,
};

/** neighbours: what racks observed, and MAAS's discovery view over it (one row per IP and MAC, the latest observation). */
@Injectable()
export class DiscoveriesRepository {
  constructor(private readonly ds: DataSource) {}

  /** Records (or refreshes) one observation by a rack; false when the rack is unknown. */
  async observe(
    em: EntityManager | undefined,
    o: { rackSystemId: string; interfaceName: string; ip: string; mac: string; hostname: string; source: string },
  ): Promise<boolean> {
    const rows = await (em ?? this.ds.manager).query(
      `INSERT INTO neighbours (ip, mac_address, hostname, rack_id, interface_name, vlan_id, source)
       SELECT $1::inet, $2, $3, r.id, $5,
              (SELECT s.vlan_id FROM subnets s WHERE $1::inet << s.cidr ORDER BY masklen(s.cidr) DESC LIMIT 1), $6
         FROM rack_controllers r WHERE r.system_id = $4
       ON CONFLICT (rack_id, interface_name, ip, mac_address) DO UPDATE SET last_seen = now(), count = neighbours.count + 1,
         hostname = CASE WHEN EXCLUDED.hostname <> '' THEN EXCLUDED.hostname ELSE neighbours.hostname END,
         vlan_id = EXCLUDED.vlan_id, source = EXCLUDED.source
       RETURNING id`,
      [o.ip, o.mac, o.hostname, o.rackSystemId, o.interfaceName, o.source],
    );
    return rows.length > 0;
  }

  /** Names of a rack's interfaces as it last reported them; null when the rack is unknown. */
  async rackInterfaceNames(em: EntityManager | undefined, rackSystemId: string): Promise<Set<string> | null> {
    const rows: { interfaces: unknown }[] = await (em ?? this.ds.manager).query(`SELECT interfaces FROM rack_controllers WHERE system_id = $1`, [rackSystemId]);
    if (!rows.length) return null;
    const list = Array.isArray(rows[0].interfaces) ? (rows[0].interfaces as { name?: unknown }[]) : [];
    return new Set(list.map((i) => i?.name).filter((n): n is string => typeof n === 'string'));
  }

  /**
   * Records sightings aggregated by a rack (count, first and last seen over its report period):
   * adds the count, keeps the earliest first_seen and the latest last_seen. False when the rack is unknown.
   */
  async observeMany(
    em: EntityManager | undefined,
    rackSystemId: string,
    source: string,
    sightings: readonly { interfaceName: string; ip: string; mac: string; count: number; firstSeen: string; lastSeen: string }[],
  ): Promise<boolean> {
    if (!sightings.length) return true;
    const rows = await (em ?? this.ds.manager).query(
      `INSERT INTO neighbours (ip, mac_address, hostname, rack_id, interface_name, vlan_id, source, count, first_seen, last_seen)
       SELECT x.ip, x.mac, '', r.id, x.iface,
              (SELECT s.vlan_id FROM subnets s WHERE x.ip << s.cidr ORDER BY masklen(s.cidr) DESC LIMIT 1), $2, x.count, x.first_seen, x.last_seen
         FROM rack_controllers r,
              unnest($3::inet[], $4::varchar[], $5::varchar[], $6::int[], $7::timestamptz[], $8::timestamptz[]) AS x(ip, mac, iface, count, first_seen, last_seen)
        WHERE r.system_id = $1
       ON CONFLICT (rack_id, interface_name, ip, mac_address) DO UPDATE SET count = neighbours.count + EXCLUDED.count,
         first_seen = LEAST(neighbours.first_seen, EXCLUDED.first_seen), last_seen = GREATEST(neighbours.last_seen, EXCLUDED.last_seen),
         vlan_id = EXCLUDED.vlan_id, source = EXCLUDED.source
       RETURNING id`,
      [
        rackSystemId,
        source,
        sightings.map((x) => x.ip),
        sightings.map((x) => x.mac),
        sightings.map((x) => x.interfaceName),
        sightings.map((x) => x.count),
        sightings.map((x) => x.firstSeen),
        sightings.map((x) => x.lastSeen),
      ],
    );
    return rows.length > 0;
  }

  /** Discoveries, most recently seen first; `ip,mac` narrows to one. */
  list(filter: DiscoveryFilter, one?: { ip: string; mac: string }): Promise<DiscoveryRow[]> {
    const params: string[] = [];
    let where = FILTERS[filter];
    if (one) {
      params.push(one.ip, one.mac);
      where += ` AND d.ip = $1::inet AND d.mac_address = $2`;
    }
    return this.ds.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (n.ip, n.mac_address) n.ip, host(n.ip) AS ip_text, n.mac_address,
                -- The latest host name any observation carried (an ARP sighting carries none).
                first_value(n.hostname) OVER (PARTITION BY n.ip, n.mac_address ORDER BY n.hostname = '', n.last_seen DESC) AS hostname,
                min(n.first_seen) OVER (PARTITION BY n.ip, n.mac_address) AS first_seen, n.last_seen,
                f.name AS fabric_name, v.vid, r.system_id AS rack_system_id, r.hostname AS rack_hostname, n.interface_name
           FROM neighbours n JOIN rack_controllers r ON r.id = n.rack_id
           LEFT JOIN vlans v ON v.id = n.vlan_id LEFT JOIN fabrics f ON f.id = v.fabric_id
          ORDER BY n.ip, n.mac_address, n.last_seen DESC) d
        WHERE ${where}
        ORDER BY d.last_seen DESC, d.ip_text`,
      params,
    ).then((rows: (DiscoveryRow & { ip_text: string })[]) => rows.map((r) => ({ ...r, ip: r.ip_text })));
  }

  async clear(): Promise<number> {
    const [, n] = await this.ds.query(`DELETE FROM neighbours`);
    return Number(n ?? 0);
  }
}
