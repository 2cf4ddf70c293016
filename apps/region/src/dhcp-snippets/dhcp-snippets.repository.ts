import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface DhcpSnippetRow {
  id: number;
  name: string;
  description: string;
  value: string;
  enabled: boolean;
  nodeId: number | null;
  subnetId: number | null;
  created: Date;
  /** The node's system_id and the subnet's name/cidr, for the answer. */
  systemId: string | null;
  subnetName: string | null;
  subnetCidr: string | null;
}

export type DhcpSnippetFields = Pick<DhcpSnippetRow, 'name' | 'description' | 'value' | 'enabled' | 'nodeId' | 'subnetId'>;

const SELECT = `
  SELECT s.id, s.name, s.description, s.value, s.enabled, s.node_id AS "nodeId", s.subnet_id AS "subnetId", s.created,
         m.system_id AS "systemId", n.name AS "subnetName", n.cidr::text AS "subnetCidr"
    FROM dhcp_snippets s
    LEFT JOIN machines m ON m.id = s.node_id
    LEFT JOIN subnets n ON n.id = s.subnet_id`;

/** Every query on DHCP snippets, and the lookups of the nodes and subnets they are for. */
@Injectable()
export class DhcpSnippetsRepository {
  constructor(private readonly ds: DataSource) {}

  list(): Promise<DhcpSnippetRow[]> {
    return this.ds.query(`${SELECT} ORDER BY s.id`);
  }

  async find(id: number): Promise<DhcpSnippetRow | null> {
    const rows: DhcpSnippetRow[] = await this.ds.query(`${SELECT} WHERE s.id = $1`, [id]);
    return rows[0] ?? null;
  }

  async insert(em: EntityManager, f: DhcpSnippetFields): Promise<number> {
    const rows: { id: number }[] = await em.query(
      `INSERT INTO dhcp_snippets (name, description, value, enabled, node_id, subnet_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [f.name, f.description, f.value, f.enabled, f.nodeId, f.subnetId],
    );
    return rows[0].id;
  }

  async update(em: EntityManager, id: number, f: DhcpSnippetFields): Promise<void> {
    await em.query(
      `UPDATE dhcp_snippets SET name = $2, description = $3, value = $4, enabled = $5, node_id = $6, subnet_id = $7, updated = now() WHERE id = $1`,
      [id, f.name, f.description, f.value, f.enabled, f.nodeId, f.subnetId],
    );
  }

  async delete(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM dhcp_snippets WHERE id = $1`, [id]);
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  /** A machine by system_id or hostname. */
  async findNode(ref: string): Promise<number | null> {
    const rows: { id: number }[] = await this.ds.query(`SELECT id FROM machines WHERE system_id = $1 OR hostname = $1 ORDER BY (system_id = $1) DESC LIMIT 1`, [ref]);
    return rows[0]?.id ?? null;
  }

  /** A subnet by id, CIDR or name (as subnets/{id}/ takes them). */
  async findSubnet(ref: string): Promise<number | null> {
    const rows: { id: number }[] = /^\d+$/.test(ref)
      ? await this.ds.query(`SELECT id FROM subnets WHERE id = $1`, [Number(ref)])
      : await this.ds.query(`SELECT id FROM subnets WHERE name = $1 OR (cidr::text = $1) LIMIT 1`, [ref]);
    return rows[0]?.id ?? null;
  }
}
