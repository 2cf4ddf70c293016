import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface VlanRow {
  id: number;
  fabric_id: number;
  fabric_name: string;
  vid: number;
  name: string | null;
  description: string;
  mtu: number;
  dhcp_on: boolean;
  primary_rack_id: number | null;
  secondary_rack_id: number | null;
  primary_rack: string | null;
  secondary_rack: string | null;
  relay_vlan_id: number | null;
  space_id: number | null;
  /** Name of the space; null: the undefined space. */
  space: string | null;
}

export interface FabricRow {
  id: number;
  name: string;
  description: string;
  class_type: string | null;
}

export interface SubnetRow {
  id: number;
  name: string;
  description: string;
  vlan_id: number;
  cidr: string;
  gateway_ip: string | null;
  dns_servers: string[];
  rdns_mode: number;
  allow_dns: boolean;
  allow_proxy: boolean;
  active_discovery: boolean;
  managed: boolean;
  disabled_boot_architectures: string[];
}

export interface RangeRow {
  id: number;
  subnet_id: number;
  type: 'dynamic' | 'reserved';
  start_ip: string;
  end_ip: string;
  comment: string;
  user_id: number | null;
  username: string | null;
}

export interface StaticIpRow {
  id: number;
  ip: string;
  subnet_id: number;
  interface_id: number | null;
  mac_address: string | null;
  alloc_type: string;
  comment: string;
  system_id: string | null;
  hostname: string | null;
}

export const VLAN_SELECT = `SELECT v.id, v.fabric_id, f.name AS fabric_name, v.vid, v.name, v.description, v.mtu, v.dhcp_on,
       v.primary_rack_id, v.secondary_rack_id, p.system_id AS primary_rack, s.system_id AS secondary_rack, v.relay_vlan_id, v.space_id, sp.name AS space
  FROM vlans v JOIN fabrics f ON f.id = v.fabric_id LEFT JOIN spaces sp ON sp.id = v.space_id
  LEFT JOIN rack_controllers p ON p.id = v.primary_rack_id LEFT JOIN rack_controllers s ON s.id = v.secondary_rack_id`;
export const SUBNET_SELECT = `SELECT id, name, description, vlan_id, cidr::text AS cidr, host(gateway_ip) AS gateway_ip, dns_servers, rdns_mode,
       allow_dns, allow_proxy, active_discovery, managed, disabled_boot_architectures FROM subnets`;
const RANGE_SELECT = `SELECT r.id, r.subnet_id, r.type, host(r.start_ip) AS start_ip, host(r.end_ip) AS end_ip, r.comment, r.user_id,
       u.username FROM ip_ranges r LEFT JOIN users u ON u.id = r.user_id`;
const STATIC_SELECT = `SELECT s.id, host(s.ip) AS ip, s.subnet_id, s.interface_id, s.mac_address, s.alloc_type, s.comment,
       m.system_id, m.hostname
  FROM static_ip_addresses s LEFT JOIN interfaces i ON i.id = s.interface_id LEFT JOIN machines m ON m.id = i.machine_id`;

/** The columns of a subnet that a create or an update writes. */
export interface SubnetValues {
  name: string;
  description: string;
  vlanId: number;
  cidr: string;
  gatewayIp: string | null;
  dnsServers: string[];
  rdnsMode: number;
  allowDns: boolean;
  allowProxy: boolean;
  managed: boolean;
  activeDiscovery: boolean;
  disabledBootArchitectures: string[];
}

/** The columns of a VLAN that an update writes. */
export interface VlanValues {
  name: string | null;
  description: string;
  vid: number;
  mtu: number;
  dhcp_on: boolean;
  primary_rack_id: number | null;
  secondary_rack_id: number | null;
  relay_vlan_id: number | null;
  space_id: number | null;
}

/** Every query of the networking model. Listings take a constant number of queries. */
@Injectable()
export class NetworkingRepository {
  constructor(private readonly ds: DataSource) {}

  private q(em?: EntityManager) {
    return em ?? this.ds.manager;
  }

  async fabrics(em?: EntityManager, id?: number): Promise<FabricRow[]> {
    return id === undefined
      ? this.q(em).query(`SELECT id, name, description, class_type FROM fabrics ORDER BY id`)
      : this.q(em).query(`SELECT id, name, description, class_type FROM fabrics WHERE id = $1`, [id]);
  }

  /** Every VLAN, by id (the model is small; rendering needs relay VLANs and fabric names). */
  async vlanMap(em?: EntityManager): Promise<Map<number, VlanRow>> {
    const rows: VlanRow[] = await this.q(em).query(`${VLAN_SELECT} ORDER BY v.fabric_id, v.vid`);
    return new Map(rows.map((r) => [r.id, r]));
  }

  async vlan(em: EntityManager | undefined, id: number): Promise<VlanRow | null> {
    const [row] = await this.q(em).query(`${VLAN_SELECT} WHERE v.id = $1`, [id]);
    return row ?? null;
  }

  async vlanByFabricVid(em: EntityManager | undefined, fabricId: number, vid: number): Promise<VlanRow | null> {
    const [row] = await this.q(em).query(`${VLAN_SELECT} WHERE v.fabric_id = $1 AND v.vid = $2`, [fabricId, vid]);
    return row ?? null;
  }

  async subnets(em?: EntityManager, where: { id?: number; vlanIds?: number[] } = {}): Promise<SubnetRow[]> {
    if (where.id !== undefined) return this.q(em).query(`${SUBNET_SELECT} WHERE id = $1`, [where.id]);
    if (where.vlanIds) return this.q(em).query(`${SUBNET_SELECT} WHERE vlan_id = ANY($1) ORDER BY id`, [where.vlanIds]);
    return this.q(em).query(`${SUBNET_SELECT} ORDER BY id`);
  }

  /** A subnet by id, CIDR or name (MAAS specifiers "cidr:" and "name:" too). */
  async subnetByKey(em: EntityManager | undefined, key: string): Promise<SubnetRow | null> {
    let rows: SubnetRow[];
    if (/^\d+$/.test(key)) rows = await this.q(em).query(`${SUBNET_SELECT} WHERE id = $1`, [Number(key)]);
    else if (key.startsWith('name:')) rows = await this.q(em).query(`${SUBNET_SELECT} WHERE name = $1`, [key.slice(5)]);
    else if (key.startsWith('cidr:') || key.includes('/')) {
      const cidr = key.replace(/^cidr:/, '');
      rows = await this.q(em).query(`${SUBNET_SELECT} WHERE cidr = $1::cidr`, [cidr]).catch(() => []);
    } else rows = await this.q(em).query(`${SUBNET_SELECT} WHERE name = $1`, [key]);
    return rows[0] ?? null;
  }

  /** The subnet whose network contains the address (most specific first). */
  async subnetContaining(em: EntityManager | undefined, ip: string): Promise<SubnetRow | null> {
    const [row] = await this.q(em).query(`${SUBNET_SELECT} WHERE cidr >>= $1::inet ORDER BY masklen(cidr) DESC LIMIT 1`, [ip]);
    return row ?? null;
  }

  async ranges(em?: EntityManager, where: { id?: number; subnetId?: number } = {}): Promise<RangeRow[]> {
    if (where.id !== undefined) return this.q(em).query(`${RANGE_SELECT} WHERE r.id = $1`, [where.id]);
    if (where.subnetId !== undefined) return this.q(em).query(`${RANGE_SELECT} WHERE r.subnet_id = $1 ORDER BY r.start_ip`, [where.subnetId]);
    return this.q(em).query(`${RANGE_SELECT} ORDER BY r.id`);
  }

  async staticIps(em?: EntityManager, where: { id?: number; subnetId?: number } = {}): Promise<StaticIpRow[]> {
    if (where.id !== undefined) return this.q(em).query(`${STATIC_SELECT} WHERE s.id = $1`, [where.id]);
    if (where.subnetId !== undefined) return this.q(em).query(`${STATIC_SELECT} WHERE s.subnet_id = $1 ORDER BY s.ip`, [where.subnetId]);
    return this.q(em).query(`${STATIC_SELECT} ORDER BY s.id`);
  }

  /** Locks the subnet row, so allocations of its addresses queue instead of colliding. */
  async lockSubnet(em: EntityManager, subnetId: number): Promise<void> {
    await em.query(`SELECT id FROM subnets WHERE id = $1 FOR UPDATE`, [subnetId]);
  }

  /** Addresses of the subnet already held: static addresses and addresses interfaces reported. */
  async heldAddresses(em: EntityManager, subnetId: number, cidr: string): Promise<string[]> {
    const rows: { ip: string }[] = await em.query(
      `SELECT host(ip) AS ip FROM static_ip_addresses WHERE subnet_id = $1 OR ip << $2::cidr
       UNION SELECT host(ip_address) FROM interfaces WHERE ip_address << $2::cidr`,
      [subnetId, cidr],
    );
    return rows.map((r) => r.ip);
  }

  /** Rack by system_id or hostname (MAAS's NodeChoiceField accepts both). */
  async rackByKey(em: EntityManager | undefined, key: string): Promise<{ id: number; system_id: string; status: string } | null> {
    const [row] = await this.q(em).query(
      `SELECT id, system_id, status FROM rack_controllers WHERE system_id = $1 OR hostname = $1 ORDER BY (system_id = $1) DESC LIMIT 1`,
      [key],
    );
    return row ?? null;
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  // ---- writes (always inside the caller's transaction) -------------------------------------------

  /** A fabric and its untagged VLAN (MAAS creates them together); unnamed fabrics are called fabric-<id>. */
  async insertFabric(em: EntityManager, f: { name: string | null; description: string; classType: string | null }): Promise<number> {
    const [row] = await em.query(`INSERT INTO fabrics (name, description, class_type) VALUES ($1, $2, $3) RETURNING id`, [
      f.name ?? `fabric-new-${process.hrtime.bigint()}`,
      f.description,
      f.classType,
    ]);
    if (f.name === null) await em.query(`UPDATE fabrics SET name = 'fabric-' || id WHERE id = $1`, [row.id]);
    await em.query(`INSERT INTO vlans (fabric_id, vid) VALUES ($1, 0)`, [row.id]);
    return row.id as number;
  }

  /** null/undefined leaves a column as it is. */
  async updateFabric(em: EntityManager, id: number, f: { name?: string; description?: string; classType?: string | null }): Promise<void> {
    await em.query(
      `UPDATE fabrics SET name = COALESCE($2, name), description = COALESCE($3, description),
              class_type = CASE WHEN $4 THEN $5 ELSE class_type END, updated = now() WHERE id = $1`,
      [id, f.name ?? null, f.description ?? null, f.classType !== undefined, f.classType ?? null],
    );
  }

  async vlanIdsOfFabric(em: EntityManager, fabricId: number): Promise<number[]> {
    return ((await em.query(`SELECT id FROM vlans WHERE fabric_id = $1`, [fabricId])) as { id: number }[]).map((v) => v.id);
  }

  async countSubnetsOfFabric(em: EntityManager, fabricId: number): Promise<number> {
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM subnets s JOIN vlans v ON v.id = s.vlan_id WHERE v.fabric_id = $1`, [fabricId]);
    return n;
  }

  async deleteFabric(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM fabrics WHERE id = $1`, [id]);
  }

  /** The first fabric whose id or name is `key` (an id wins). */
  async fabricByKey(em: EntityManager, key: string): Promise<{ id: number } | null> {
    const [f] = await em.query(`SELECT id FROM fabrics WHERE id::text = $1 OR name = $1 ORDER BY (id::text = $1) DESC LIMIT 1`, [key]);
    return f ?? null;
  }

  /** MAAS's default fabric: the first one, created as fabric-0 (with its untagged VLAN) when none exists. Its untagged VLAN's id. */
  async ensureDefaultVlan(em: EntityManager): Promise<number> {
    await em.query(`INSERT INTO fabrics (name) SELECT 'fabric-0' WHERE NOT EXISTS (SELECT 1 FROM fabrics) ON CONFLICT (name) DO NOTHING`);
    const [f] = await em.query(`SELECT id FROM fabrics ORDER BY id LIMIT 1`);
    await em.query(`INSERT INTO vlans (fabric_id, vid) VALUES ($1, 0) ON CONFLICT (fabric_id, vid) DO NOTHING`, [f.id]);
    const [v] = await em.query(`SELECT id FROM vlans WHERE fabric_id = $1 AND vid = 0`, [f.id]);
    return v.id;
  }

  async insertVlan(
    em: EntityManager,
    v: { fabricId: number; vid: number; name: string | null; description: string; mtu: number; spaceId: number | null },
  ): Promise<number> {
    const [row] = await em.query(
      `INSERT INTO vlans (fabric_id, vid, name, description, mtu, space_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [v.fabricId, v.vid, v.name, v.description, v.mtu, v.spaceId],
    );
    return row.id as number;
  }

  async updateVlan(em: EntityManager, id: number, v: VlanValues): Promise<void> {
    await em.query(
      `UPDATE vlans SET name = $2, description = $3, vid = $4, mtu = $5, dhcp_on = $6, primary_rack_id = $7, secondary_rack_id = $8,
              relay_vlan_id = $9, space_id = $10, updated = now() WHERE id = $1`,
      [id, v.name, v.description, v.vid, v.mtu, v.dhcp_on, v.primary_rack_id, v.secondary_rack_id, v.relay_vlan_id, v.space_id],
    );
  }

  /** A space by id or name (MAAS's specifier), or undefined. */
  async spaceIdByKey(em: EntityManager | undefined, key: string): Promise<number | undefined> {
    const [row] = await (em ?? this.ds).query(`SELECT id FROM spaces WHERE name = $1 OR ($1 ~ '^[0-9]{1,9}$' AND id = $1::int)`, [key]);
    return row?.id as number | undefined;
  }

  async deleteVlan(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM vlans WHERE id = $1`, [id]);
  }

  async countSubnetsOfVlan(em: EntityManager, vlanId: number): Promise<number> {
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM subnets WHERE vlan_id = $1`, [vlanId]);
    return n;
  }

  async countDynamicRangesOfVlan(em: EntityManager, vlanId: number): Promise<number> {
    const [{ n }] = await em.query(
      `SELECT count(*)::int AS n FROM ip_ranges r JOIN subnets s ON s.id = r.subnet_id WHERE s.vlan_id = $1 AND r.type = 'dynamic'`,
      [vlanId],
    );
    return n;
  }

  /** For a VLAN with DHCP on: its vid and how many dynamic ranges its subnets have; null when DHCP is off. */
  async dhcpVlanDynamicRanges(em: EntityManager, vlanId: number): Promise<{ vid: number; n: number } | null> {
    const [row] = await em.query(
      `SELECT v.vid, (SELECT count(*)::int FROM ip_ranges r JOIN subnets s ON s.id = r.subnet_id WHERE s.vlan_id = v.id AND r.type = 'dynamic') AS n
         FROM vlans v WHERE v.id = $1 AND v.dhcp_on`,
      [vlanId],
    );
    return row ?? null;
  }

  async rackStatus(em: EntityManager, rackId: number): Promise<string | null> {
    const [row] = await em.query(`SELECT status FROM rack_controllers WHERE id = $1`, [rackId]);
    return row?.status ?? null;
  }

  async insertSubnet(em: EntityManager, s: SubnetValues): Promise<number> {
    const [row] = await em.query(
      `INSERT INTO subnets (name, description, vlan_id, cidr, gateway_ip, dns_servers, rdns_mode, allow_dns, allow_proxy, managed,
                            active_discovery, disabled_boot_architectures)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [s.name, s.description, s.vlanId, s.cidr, s.gatewayIp, s.dnsServers, s.rdnsMode, s.allowDns, s.allowProxy, s.managed, s.activeDiscovery, s.disabledBootArchitectures],
    );
    return row.id as number;
  }

  async updateSubnet(em: EntityManager, id: number, s: SubnetValues): Promise<void> {
    await em.query(
      `UPDATE subnets SET name = $2, description = $3, vlan_id = $4, cidr = $5, gateway_ip = $6, dns_servers = $7, rdns_mode = $8,
              allow_dns = $9, allow_proxy = $10, managed = $11, active_discovery = $12, disabled_boot_architectures = $13, updated = now()
        WHERE id = $1`,
      [id, s.name, s.description, s.vlanId, s.cidr, s.gatewayIp, s.dnsServers, s.rdnsMode, s.allowDns, s.allowProxy, s.managed, s.activeDiscovery, s.disabledBootArchitectures],
    );
  }

  async deleteSubnet(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM subnets WHERE id = $1`, [id]);
  }

  async insertRange(
    em: EntityManager,
    r: { subnetId: number; type: 'dynamic' | 'reserved'; startIp: string; endIp: string; comment: string; userId: number },
  ): Promise<number> {
    const [row] = await em.query(
      `INSERT INTO ip_ranges (subnet_id, type, start_ip, end_ip, comment, user_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [r.subnetId, r.type, r.startIp, r.endIp, r.comment, r.userId],
    );
    return row.id as number;
  }

  async updateRange(
    em: EntityManager,
    id: number,
    r: { subnetId: number; type: 'dynamic' | 'reserved'; startIp: string; endIp: string; comment: string },
  ): Promise<void> {
    await em.query(`UPDATE ip_ranges SET subnet_id = $2, type = $3, start_ip = $4, end_ip = $5, comment = $6, updated = now() WHERE id = $1`, [
      id,
      r.subnetId,
      r.type,
      r.startIp,
      r.endIp,
      r.comment,
    ]);
  }

  async deleteRange(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM ip_ranges WHERE id = $1`, [id]);
  }

  /** A reservation, tied to the interface that has its MAC (if any). */
  async insertReservedIp(em: EntityManager, x: { ip: string; subnetId: number; mac: string | null; comment: string }): Promise<number> {
    const [row] = await em.query(
      `INSERT INTO static_ip_addresses (ip, subnet_id, mac_address, interface_id, alloc_type, comment)
       VALUES ($1, $2, $3::varchar, (SELECT id FROM interfaces WHERE mac_address = $3::varchar AND type = 'physical'), 'reserved', $4) RETURNING id`,
      [x.ip, x.subnetId, x.mac, x.comment],
    );
    return row.id as number;
  }

  async updateReservedIp(em: EntityManager, id: number, x: { ip: string; mac: string | null; comment: string }): Promise<void> {
    await em.query(
      `UPDATE static_ip_addresses SET ip = $2, mac_address = $3::varchar, interface_id = (SELECT id FROM interfaces WHERE mac_address = $3::varchar AND type = 'physical'),
              comment = $4, updated = now() WHERE id = $1`,
      [id, x.ip, x.mac, x.comment],
    );
  }

  async deleteStaticIp(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM static_ip_addresses WHERE id = $1`, [id]);
  }
}
