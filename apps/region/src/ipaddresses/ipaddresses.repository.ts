import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A static address as ipaddresses/ shows it. */
export interface IpAddressRow {
  id: number;
  ip: string;
  subnet_id: number;
  alloc_type: string;
  owner_id: number | null;
  owner: string | null;
  owner_email: string | null;
  owner_is_admin: boolean | null;
  hostname: string;
  mac_address: string | null;
  comment: string;
  created: Date;
  interface_id: number | null;
  interface_name: string | null;
  interface_type: string | null;
  interface_mac: string | null;
  system_id: string | null;
}

/** Addresses of a subnet something holds: an IP range (kind 'dynamic' or 'reserved') or one address. */
export interface TakenRow {
  kind: 'dynamic' | 'reserved' | 'static' | 'interface' | 'dns' | 'gateway' | 'rack';
  start_ip: string;
  end_ip: string;
}

const SELECT = `SELECT s.id, host(s.ip) AS ip, s.subnet_id, s.alloc_type, s.owner_id, u.username AS owner, u.email AS owner_email, u.is_admin AS owner_is_admin, s.hostname, s.mac_address,
       s.comment, s.created, s.interface_id, i.name AS interface_name, i.type AS interface_type, i.mac_address AS interface_mac, m.system_id
  FROM static_ip_addresses s LEFT JOIN users u ON u.id = s.owner_id
  LEFT JOIN interfaces i ON i.id = s.interface_id LEFT JOIN machines m ON m.id = i.machine_id`;

/** static_ip_addresses as seen by ipaddresses/, and every address a subnet already uses. */
@Injectable()
export class IpAddressesRepository {
  constructor(private readonly ds: DataSource) {}

  private q(em?: EntityManager) {
    return em ?? this.ds;
  }

  /** Addresses, oldest first: of one owner (user-reserved only), or all of them. */
  list(where: { ownerId: number } | { all: true }): Promise<IpAddressRow[]> {
    if ('ownerId' in where) return this.ds.query(`${SELECT} WHERE s.owner_id = $1 AND s.alloc_type = 'user_reserved' ORDER BY s.id`, [where.ownerId]);
    return this.ds.query(`${SELECT} ORDER BY s.id`);
  }

  async byId(id: number, em?: EntityManager): Promise<IpAddressRow | null> {
    const [row] = await this.q(em).query(`${SELECT} WHERE s.id = $1`, [id]);
    return row ?? null;
  }

  async byIp(ip: string, em?: EntityManager): Promise<IpAddressRow | null> {
    const [row] = await this.q(em).query(`${SELECT} WHERE s.ip = $1::inet`, [ip]);
    return row ?? null;
  }

  async userId(username: string): Promise<number | null> {
    const [row] = await this.ds.query(`SELECT id FROM users WHERE username = $1`, [username]);
    return row ? (row.id as number) : null;
  }

  /**
   * Every address of the subnet something already holds, as inclusive [start, end] text pairs:
   * IP ranges (dynamic and reserved), static addresses, machine interface addresses, DNS
   * records, the racks' own addresses and the gateway. Call after locking the subnet.
   */
  takenInSubnet(em: EntityManager, subnetId: number): Promise<TakenRow[]> {
    return em.query(
      `WITH sn AS (SELECT id, cidr, gateway_ip FROM subnets WHERE id = $1)
       SELECT r.type AS kind, host(r.start_ip) AS start_ip, host(r.end_ip) AS end_ip FROM ip_ranges r JOIN sn ON r.subnet_id = sn.id
       UNION ALL SELECT 'static', host(s.ip), host(s.ip) FROM static_ip_addresses s JOIN sn ON s.subnet_id = sn.id
       UNION ALL SELECT 'interface', host(i.ip_address), host(i.ip_address) FROM interfaces i, sn WHERE i.ip_address << sn.cidr
       UNION ALL SELECT 'dns', host(a.ip), host(a.ip) FROM dns_resources d CROSS JOIN LATERAL unnest(d.ip_addresses) AS a(ip), sn WHERE a.ip << sn.cidr
       UNION ALL SELECT 'gateway', host(sn.gateway_ip), host(sn.gateway_ip) FROM sn WHERE sn.gateway_ip IS NOT NULL
       UNION ALL SELECT 'rack', split_part(a.addr, '/', 1), split_part(a.addr, '/', 1)
         FROM rack_controllers rc CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(rc.interfaces) = 'array' THEN rc.interfaces ELSE '[]'::jsonb END) AS ri(j)
         CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(ri.j->'addresses') = 'array' THEN ri.j->'addresses' ELSE '[]'::jsonb END) AS a(addr), sn
        WHERE split_part(a.addr, '/', 1) ~ '^[0-9a-fA-F:.]+$' AND split_part(a.addr, '/', 1)::inet << sn.cidr`,
      [subnetId],
    );
  }

  /** Serializes address choices on one subnet until the caller's transaction ends. */
  async lockSubnet(em: EntityManager, subnetId: number): Promise<void> {
    await em.query(`SELECT id FROM subnets WHERE id = $1 FOR UPDATE`, [subnetId]);
  }

  /** A user's reservation, tied to the machine interface that has its MAC (if any). */
  async insertUserReserved(
    em: EntityManager,
    x: { ip: string; subnetId: number; mac: string | null; hostname: string; comment: string; ownerId: number },
  ): Promise<number> {
    const [row] = await em.query(
      `INSERT INTO static_ip_addresses (ip, subnet_id, mac_address, interface_id, alloc_type, comment, owner_id, hostname)
       VALUES ($1, $2, $3::varchar, (SELECT id FROM interfaces WHERE mac_address = $3::varchar LIMIT 1), 'user_reserved', $4, $5, $6) RETURNING id`,
      [x.ip, x.subnetId, x.mac, x.comment, x.ownerId, x.hostname],
    );
    return row.id as number;
  }

  async delete(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM static_ip_addresses WHERE id = $1`, [id]);
  }

  /** Forgets what racks observed at an address (MAAS's release of a discovered address). */
  async deleteObservations(em: EntityManager, ip: string): Promise<number> {
    const rows: unknown[] = await em.query(`DELETE FROM neighbours WHERE ip = $1::inet RETURNING id`, [ip]);
    return rows.length;
  }
}
