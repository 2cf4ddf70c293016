import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A VLAN as DHCP sees it: which racks serve it (its own, or those of the VLAN it relays to). */
export interface ServedVlanRow {
  id: number;
  vid: number;
  fabric_id: number;
  mtu: number;
  primary_id: number | null;
  secondary_id: number | null;
  relayed: boolean;
}

export interface DhcpSubnetRow {
  id: number;
  vlan_id: number;
  cidr: string;
  gateway: string | null;
  dns_servers: string[];
  disabled_boot_architectures: string[];
}

export interface DynamicRangeRow {
  id: number;
  subnet_id: number;
  start: string;
  end: string;
}

export interface ReservationRow {
  id: number;
  subnet_id: number;
  ip: string;
  mac: string;
  hostname: string | null;
  system_id: string | null;
}

/** Every query the DHCP configuration is built from, always in the caller's transaction. */
@Injectable()
export class DhcpConfigRepository {
  constructor(private readonly ds: DataSource) {}

  /** Runs `fn` in one REPEATABLE READ transaction (a rack's revision and configuration from one view). */
  consistentRead<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction('REPEATABLE READ', fn);
  }

  /** The VLANs that relay DHCP to any of these. */
  async relayingVlans(em: EntityManager, vlanIds: number[]): Promise<number[]> {
    const rows: { id: number }[] = await em.query(`SELECT id FROM vlans WHERE relay_vlan_id = ANY($1)`, [vlanIds]);
    return rows.map((r) => r.id);
  }

  async lockVlans(em: EntityManager, vlanIds: number[]): Promise<void> {
    await em.query(`SELECT id FROM vlans WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [vlanIds]);
  }

  servedVlans(em: EntityManager, vlanIds: number[]): Promise<ServedVlanRow[]> {
    return em.query(
      `SELECT v.id, v.vid, v.fabric_id, v.mtu,
              CASE WHEN v.dhcp_on THEN v.primary_rack_id WHEN rv.dhcp_on THEN rv.primary_rack_id END AS primary_id,
              CASE WHEN v.dhcp_on THEN v.secondary_rack_id WHEN rv.dhcp_on THEN rv.secondary_rack_id END AS secondary_id,
              (NOT v.dhcp_on AND COALESCE(rv.dhcp_on, false)) AS relayed
         FROM vlans v LEFT JOIN vlans rv ON rv.id = v.relay_vlan_id
        WHERE v.id = ANY($1)`,
      [vlanIds],
    );
  }

  rackSystemIds(em: EntityManager, rackIds: number[]): Promise<{ id: number; system_id: string }[]> {
    return em.query(`SELECT id, system_id FROM rack_controllers WHERE id = ANY($1)`, [rackIds]);
  }

  /** The IPv4 subnets of these VLANs. */
  subnets(em: EntityManager, vlanIds: number[]): Promise<DhcpSubnetRow[]> {
    return em.query(
      `SELECT id, vlan_id, cidr::text AS cidr, host(gateway_ip) AS gateway, dns_servers, disabled_boot_architectures
         FROM subnets WHERE vlan_id = ANY($1) AND family(cidr) = 4 ORDER BY id`,
      [vlanIds],
    );
  }

  /** Enabled DHCP snippets that apply to these subnets: global ones (subnet_id null) and their own, oldest first. */
  snippets(em: EntityManager, subnetIds: number[]): Promise<{ subnet_id: number | null; value: string }[]> {
    return em.query(
      `SELECT subnet_id, value FROM dhcp_snippets
        WHERE enabled AND node_id IS NULL AND (subnet_id IS NULL OR subnet_id = ANY($1)) ORDER BY id`,
      [subnetIds],
    );
  }

  /** VLANs a rack serves DHCP on (directly or relayed): what a global DHCP snippet changes. */
  async servedVlanIds(em: EntityManager): Promise<number[]> {
    const rows: { id: number }[] = await em.query(
      `SELECT v.id FROM vlans v LEFT JOIN vlans rv ON rv.id = v.relay_vlan_id WHERE v.dhcp_on OR rv.dhcp_on ORDER BY v.id`,
    );
    return rows.map((r) => r.id);
  }

  dynamicRanges(em: EntityManager, subnetIds: number[]): Promise<DynamicRangeRow[]> {
    return em.query(
      `SELECT id, subnet_id, host(start_ip) AS start, host(end_ip) AS "end" FROM ip_ranges
        WHERE subnet_id = ANY($1) AND type = 'dynamic' ORDER BY id`,
      [subnetIds],
    );
  }

  /** Addresses reserved for a MAC, with the machine that has the MAC (if any). */
  reservations(em: EntityManager, subnetIds: number[]): Promise<ReservationRow[]> {
    return em.query(
      `SELECT s.id, s.subnet_id, host(s.ip) AS ip, s.mac_address AS mac, m.hostname, m.system_id
         FROM static_ip_addresses s
         LEFT JOIN interfaces i ON i.id = s.interface_id LEFT JOIN machines m ON m.id = i.machine_id
        WHERE s.subnet_id = ANY($1) AND s.mac_address IS NOT NULL ORDER BY s.id`,
      [subnetIds],
    );
  }

  async defaultDomainName(em: EntityManager): Promise<string | null> {
    const [domain] = await em.query(`SELECT name FROM domains WHERE is_default ORDER BY id LIMIT 1`);
    return domain?.name ?? null;
  }

  async rackRevision(em: EntityManager, rackSystemId: string): Promise<{ id: number; dhcp_revision: number } | null> {
    const [rack] = await em.query(`SELECT id, dhcp_revision FROM rack_controllers WHERE system_id = $1`, [rackSystemId]);
    return rack ?? null;
  }

  /** The VLANs a rack serves DHCP on: its own, and those relaying to them. */
  async vlansServedByRack(em: EntityManager, rackId: number): Promise<number[]> {
    const vlans: { id: number }[] = await em.query(
      `SELECT id FROM vlans WHERE dhcp_on AND (primary_rack_id = $1 OR secondary_rack_id = $1)
       UNION
       SELECT v.id FROM vlans v JOIN vlans rv ON rv.id = v.relay_vlan_id
        WHERE NOT v.dhcp_on AND rv.dhcp_on AND (rv.primary_rack_id = $1 OR rv.secondary_rack_id = $1)`,
      [rackId],
    );
    return vlans.map((v) => v.id);
  }

  /** The rack's new DHCP revision. */
  async bumpRevision(em: EntityManager, rackId: number): Promise<number> {
    const [[row]] = await em.query(`UPDATE rack_controllers SET dhcp_revision = dhcp_revision + 1 WHERE id = $1 RETURNING dhcp_revision`, [rackId]);
    return row.dhcp_revision;
  }
}
