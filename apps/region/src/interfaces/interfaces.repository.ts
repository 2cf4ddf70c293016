import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { InterfaceNetRows, InterfaceRow, loadInterfaces } from '../machines/machines.repository';
import { VLAN_SELECT, type VlanRow } from '../networking/networking.repository';

/** The node whose interfaces are edited: a machine, or a device (no status, never locked). */
export interface InterfaceNodeRow {
  kind: 'machine' | 'device';
  id: number;
  system_id: string;
  hostname: string;
  owner_id: number | null;
  locked: boolean;
  /** The machine's status; null for a device. */
  status: number | null;
}

const NODE_COLUMN = { machine: 'machine_id', device: 'device_id' } as const;

/** What a new interface row holds. */
export interface NewInterface {
  name: string;
  type: 'physical' | 'bond' | 'bridge' | 'vlan';
  macAddress: string;
  vlanId: number | null;
  mtu: number;
  tags: string[];
  params: Record<string, string | number | boolean>;
  enabled: boolean;
}

/** The columns an interface update may write. */
export type InterfaceChanges = Partial<{ name: string; mac_address: string; vlan_id: number | null; mtu: number; tags: string[]; params: Record<string, string | number | boolean>; enabled: boolean }>;

/** The SQL of a machine's network interfaces, their parents and their subnet links. */
@Injectable()
export class InterfacesRepository {
  constructor(private readonly ds: DataSource) {}

  private q(em?: EntityManager): EntityManager {
    return em ?? this.ds.manager;
  }

  /** The machine or device, locked FOR UPDATE when asked (inside a transaction), so edits on one node queue. */
  async node(systemId: string, em?: EntityManager, lock = false): Promise<InterfaceNodeRow | undefined> {
    const [machine]: InterfaceNodeRow[] = await this.q(em).query(
      `SELECT 'machine' AS kind, id, system_id, hostname, owner_id, locked, status FROM machines WHERE system_id = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [systemId],
    );
    if (machine) return machine;
    const [device]: InterfaceNodeRow[] = await this.q(em).query(
      `SELECT 'device' AS kind, id, system_id, hostname, owner_id, false AS locked, NULL::int AS status FROM devices WHERE system_id = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [systemId],
    );
    return device;
  }

  load(node: InterfaceNodeRow, em?: EntityManager): Promise<{ interfaces: InterfaceRow[]; net: InterfaceNetRows }> {
    return loadInterfaces(this.q(em), [node.id], node.kind);
  }

  async vlan(em: EntityManager, id: number): Promise<VlanRow | null> {
    const [row] = await em.query(`${VLAN_SELECT} WHERE v.id = $1`, [id]);
    return row ?? null;
  }

  /** The node already using a MAC on a physical interface or a device, if any. */
  async macOwner(em: EntityManager, mac: string, exceptInterfaceId: number | null): Promise<string | null> {
    const [row]: { hostname: string }[] = await em.query(
      `SELECT m.hostname FROM interfaces i JOIN machines m ON m.id = i.machine_id
        WHERE i.mac_address = $1 AND i.type = 'physical' AND i.id IS DISTINCT FROM $2
       UNION ALL
       SELECT v.hostname FROM interfaces i JOIN devices v ON v.id = i.device_id
        WHERE i.mac_address = $1 AND i.type = 'physical' AND i.id IS DISTINCT FROM $2
       LIMIT 1`,
      [mac, exceptInterfaceId],
    );
    return row?.hostname ?? null;
  }

  async insertInterface(em: EntityManager, node: InterfaceNodeRow, i: NewInterface, parentIds: number[]): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO interfaces (${NODE_COLUMN[node.kind]}, name, type, mac_address, vlan_id, mtu, tags, params, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8::jsonb, $9) RETURNING id`,
      [node.id, i.name, i.type, i.macAddress, i.vlanId, i.mtu, i.tags, JSON.stringify(i.params), i.enabled],
    );
    for (const parentId of parentIds) await em.query(`INSERT INTO interface_relationships (parent_id, child_id) VALUES ($1, $2)`, [parentId, row.id]);
    return row.id;
  }

  async updateInterface(em: EntityManager, id: number, c: InterfaceChanges): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [column, value] of Object.entries(c)) {
      if (value === undefined) continue;
      values.push(column === 'params' ? JSON.stringify(value) : value);
      sets.push(`"${column}" = $${values.length}${column === 'params' ? '::jsonb' : column === 'tags' ? '::text[]' : ''}`);
    }
    if (sets.length) await em.query(`UPDATE interfaces SET ${sets.join(', ')} WHERE id = $1`, values);
  }

  /** Replaces a bond's or bridge's parents. */
  async setParents(em: EntityManager, childId: number, parentIds: number[]): Promise<void> {
    await em.query(`DELETE FROM interface_relationships WHERE child_id = $1`, [childId]);
    for (const parentId of parentIds) await em.query(`INSERT INTO interface_relationships (parent_id, child_id) VALUES ($1, $2)`, [parentId, childId]);
  }

  /** Deletes interfaces with their links, freeing the static addresses those held. */
  async deleteInterfaces(em: EntityManager, ids: number[]): Promise<void> {
    await em.query(`DELETE FROM static_ip_addresses WHERE id IN (SELECT static_ip_id FROM interface_links WHERE interface_id = ANY($1))`, [ids]);
    await em.query(`DELETE FROM interfaces WHERE id = ANY($1)`, [ids]);
  }

  /** Deletes links, freeing their static addresses. */
  async deleteLinks(em: EntityManager, linkIds: number[]): Promise<void> {
    await em.query(`DELETE FROM static_ip_addresses WHERE id IN (SELECT static_ip_id FROM interface_links WHERE id = ANY($1))`, [linkIds]);
    await em.query(`DELETE FROM interface_links WHERE id = ANY($1)`, [linkIds]);
  }

  async insertLink(em: EntityManager, l: { interfaceId: number; mode: string; subnetId: number | null; staticIpId: number | null }): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO interface_links (interface_id, mode, subnet_id, static_ip_id) VALUES ($1, $2, $3, $4) RETURNING id`,
      [l.interfaceId, l.mode, l.subnetId, l.staticIpId],
    );
    return row.id;
  }

  /** A sticky static address of a machine interface. */
  async insertStaticIp(em: EntityManager, x: { ip: string; subnetId: number; interfaceId: number }): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO static_ip_addresses (ip, subnet_id, interface_id, alloc_type, comment) VALUES ($1, $2, $3, 'sticky', '') RETURNING id`,
      [x.ip, x.subnetId, x.interfaceId],
    );
    return row.id;
  }

  /** Makes the link its node's default gateway for the subnet's address family (family: 4 or 6). */
  async setDefaultGateway(em: EntityManager, node: InterfaceNodeRow, linkId: number, family: 4 | 6): Promise<void> {
    await em.query(
      `UPDATE interface_links l SET default_gateway = (l.id = $2)
         FROM interfaces i, subnets s
        WHERE i.id = l.interface_id AND s.id = l.subnet_id AND i.${NODE_COLUMN[node.kind]} = $1 AND family(s.cidr) = $3
          AND (l.default_gateway OR l.id = $2)`,
      [node.id, linkId, family],
    );
  }
}
