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

const VLAN_SELECT = `SELECT v.id, v.fabric_id, f.name AS fabric_name, v.vid, v.name, v.description, v.mtu, v.dhcp_on,
       v.primary_rack_id, v.secondary_rack_id, p.system_id AS primary_rack, s.system_id AS secondary_rack, v.relay_vlan_id, v.space
  FROM vlans v JOIN fabrics f ON f.id = v.fabric_id
  LEFT JOIN rack_controllers p ON p.id = v.primary_rack_id LEFT JOIN rack_controllers s ON s.id = v.secondary_rack_id`;
const SUBNET_SELECT = `SELECT id, name, description, vlan_id, cidr::text AS cidr, host(gateway_ip) AS gateway_ip, dns_servers, rdns_mode,
       allow_dns, allow_proxy, active_discovery, managed, disabled_boot_architectures FROM subnets`;
const RANGE_SELECT = `SELECT r.id, r.subnet_id, r.type, host(r.start_ip) AS start_ip, host(r.end_ip) AS end_ip, r.comment, r.user_id,
       u.username FROM ip_ranges r LEFT JOIN users u ON u.id = r.user_id`;
const STATIC_SELECT = `SELECT s.id, host(s.ip) AS ip, s.subnet_id, s.interface_id, s.mac_address, s.alloc_type, s.comment,
       m.system_id, m.hostname
  FROM static_ip_addresses s LEFT JOIN interfaces i ON i.id = s.interface_id LEFT JOIN machines m ON m.id = i.machine_id`;

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

  /** Rack by system_id or hostname (MAAS's NodeChoiceField accepts both). */
  async rackByKey(em: EntityManager | undefined, key: string): Promise<{ id: number; system_id: string; status: string } | null> {
    const [row] = await this.q(em).query(
      `SELECT id, system_id, status FROM rack_controllers WHERE system_id = $1 OR hostname = $1 ORDER BY (system_id = $1) DESC LIMIT 1`,
      [key],
    );
    return row ?? null;
  }
}
