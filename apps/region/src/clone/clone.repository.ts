import { Injectable } from '@nestjs/common';
import type { MachineStorageLayout, SpecialFilesystem } from '@kiln/db';
import { DataSource, EntityManager } from 'typeorm';

export interface CloneMachineRow {
  id: number;
  system_id: string;
  hostname: string;
  status: number;
  locked: boolean;
  storage_layout: MachineStorageLayout | null;
  special_filesystems: SpecialFilesystem[];
}

export interface CloneInterfaceRow {
  id: number;
  name: string;
  type: string;
  enabled: boolean;
  mtu: number;
  tags: string[];
  vlan_id: number | null;
  params: Record<string, unknown>;
}

/** One subnet link of a machine interface (interface_links); a STATIC link holds a sticky address. */
export interface CloneLinkRow {
  interface_id: number;
  mode: string;
  subnet_id: number | null;
  default_gateway: boolean;
}

/** The SQL of machines op=clone beyond the storage model (storage/storage.repository.ts has that). */
@Injectable()
export class CloneRepository {
  constructor(private readonly ds: DataSource) {}

  private q(em?: EntityManager): EntityManager {
    return em ?? this.ds.manager;
  }

  /** The machines with these system_ids (in no particular order). */
  async machines(systemIds: readonly string[], em?: EntityManager): Promise<CloneMachineRow[]> {
    if (systemIds.length === 0) return [];
    return this.q(em).query(`SELECT id, system_id, hostname, status, locked, storage_layout, special_filesystems FROM machines WHERE system_id = ANY($1)`, [systemIds]);
  }

  /**
   * One machine, locked for the rest of the transaction: FOR UPDATE (a destination: storage and
   * interface edits on it queue behind the clone) or FOR SHARE (the source: edits wait, other
   * clones from it do not).
   */
  async lockMachine(em: EntityManager, systemId: string, mode: 'update' | 'share'): Promise<CloneMachineRow | undefined> {
    const rows: CloneMachineRow[] = await em.query(
      `SELECT id, system_id, hostname, status, locked, storage_layout, special_filesystems FROM machines WHERE system_id = $1 FOR ${mode === 'update' ? 'UPDATE' : 'SHARE'}`,
      [systemId],
    );
    return rows[0];
  }

  /** The storage settings kept on the machine record: the chosen layout and the special (tmpfs/ramfs) mounts. */
  async setStorageSettings(em: EntityManager, machineId: number, layout: MachineStorageLayout | null, specials: SpecialFilesystem[]): Promise<void> {
    await em.query(`UPDATE machines SET storage_layout = $2, special_filesystems = $3 WHERE id = $1`, [machineId, layout === null ? null : JSON.stringify(layout), JSON.stringify(specials)]);
  }

  async interfaces(em: EntityManager, machineId: number): Promise<CloneInterfaceRow[]> {
    return em.query(`SELECT id, name, type, enabled, mtu, tags, vlan_id, params FROM interfaces WHERE machine_id = $1 ORDER BY id`, [machineId]);
  }

  async updateInterface(em: EntityManager, id: number, fields: Pick<CloneInterfaceRow, 'enabled' | 'mtu' | 'tags' | 'vlan_id' | 'params'>): Promise<void> {
    await em.query(`UPDATE interfaces SET enabled = $2, mtu = $3, tags = $4, vlan_id = $5, params = $6::jsonb WHERE id = $1`, [
      id,
      fields.enabled,
      fields.mtu,
      fields.tags,
      fields.vlan_id,
      JSON.stringify(fields.params ?? {}),
    ]);
  }

  /** The subnet links of the machine's interfaces, in the order they were made. */
  async links(em: EntityManager, machineId: number): Promise<CloneLinkRow[]> {
    return em.query(
      `SELECT l.interface_id, l.mode, l.subnet_id, l.default_gateway
         FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
        WHERE i.machine_id = $1 ORDER BY l.id`,
      [machineId],
    );
  }

  /** Drops an interface's links and frees the sticky addresses they held. */
  async clearLinks(em: EntityManager, interfaceId: number): Promise<void> {
    await em.query(`DELETE FROM static_ip_addresses WHERE interface_id = $1 AND alloc_type = 'sticky'`, [interfaceId]);
    await em.query(`DELETE FROM interface_links WHERE interface_id = $1`, [interfaceId]);
  }

  async insertStickyIp(em: EntityManager, ip: string, subnetId: number, interfaceId: number): Promise<number> {
    const [row] = (await em.query(`INSERT INTO static_ip_addresses (ip, subnet_id, interface_id, alloc_type) VALUES ($1, $2, $3, 'sticky') RETURNING id`, [
      ip,
      subnetId,
      interfaceId,
    ])) as { id: number }[];
    return row.id;
  }

  async insertLink(em: EntityManager, link: CloneLinkRow & { static_ip_id: number | null }): Promise<void> {
    await em.query(`INSERT INTO interface_links (interface_id, mode, subnet_id, static_ip_id, default_gateway) VALUES ($1, $2, $3, $4, $5)`, [
      link.interface_id,
      link.mode,
      link.subnet_id,
      link.static_ip_id,
      link.default_gateway,
    ]);
  }
}
