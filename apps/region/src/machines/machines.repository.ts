import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { BlockDeviceEntity, InterfaceEntity, MachineEntity, type MachineStorageLayout, type SpecialFilesystem } from '@kiln/db';
import { SqlWhere } from './machine.filters';

/** One machine as the API shows it: the row plus what it joins. */
export interface MachineRow {
  id: number;
  system_id: string;
  hostname: string;
  description: string;
  architecture: string;
  min_hwe_kernel: string;
  hwe_kernel: string | null;
  osystem: string;
  distro_series: string;
  cpu_count: number;
  cpu_speed: number;
  memory: number;
  swap_size: string | null;
  status: number;
  previous_status: number | null;
  status_expires: Date | null;
  locked: boolean;
  power_state: string;
  agent_name: string;
  owner_data: Record<string, string>;
  error_description: string;
  netboot: boolean;
  enlisting: boolean;
  ephemeral_deploy: boolean;
  hardware_uuid: string | null;
  bios_boot_method: string | null;
  status_message: string | null;
  status_action: string | null;
  storage_layout: MachineStorageLayout | null;
  special_filesystems: SpecialFilesystem[];
  version: number;
  owner_id: number | null;
  owner: string | null;
  domain_id: number;
  domain_name: string;
  domain_authoritative: boolean;
  domain_ttl: number | null;
  domain_is_default: boolean;
  zone_id: number;
  zone_name: string;
  zone_description: string;
  pool_id: number | null;
  pool_name: string | null;
  pool_description: string | null;
  power_type: string | null;
  tag_names: string[] | null;
  render_key: string;
}

export interface InterfaceRow {
  id: number;
  machine_id: number;
  name: string;
  type: string;
  mac_address: string;
  enabled: boolean;
  vendor: string | null;
  product: string | null;
  link_speed: number;
  interface_speed: number;
  link_connected: boolean;
  mtu: number;
  tags: string[];
  ip_address: string | null;
  is_boot: boolean;
}

export interface BlockDeviceRow {
  id: number;
  machine_id: number;
  name: string;
  type: string;
  uuid: string | null;
  model: string;
  serial: string;
  id_path: string | null;
  size: string;
  block_size: number;
  tags: string[];
  firmware_version: string | null;
  is_boot: boolean;
}

export interface MachineRecord {
  row: MachineRow;
  interfaces: InterfaceRow[];
  blockDevices: BlockDeviceRow[];
}

const SELECT_MACHINES = `
  SELECT m.id, m.system_id, m.hostname, m.description, m.architecture, m.min_hwe_kernel, m.hwe_kernel,
         m.osystem, m.distro_series, m.cpu_count, m.cpu_speed, m.memory, m.swap_size, m.status,
         m.previous_status, m.status_expires, m.locked, m.power_state, m.agent_name, m.owner_data,
         m.error_description, m.netboot, m.enlisting, m.ephemeral_deploy, m.hardware_uuid,
         m.bios_boot_method, m.status_message, m.status_action, m.storage_layout, m.special_filesystems,
         m.version, m.owner_id,
         u.username AS owner,
         m.domain_id, d.name AS domain_name, d.authoritative AS domain_authoritative, d.ttl AS domain_ttl,
         d.is_default AS domain_is_default,
         m.zone_id, z.name AS zone_name, z.description AS zone_description,
         m.pool_id, p.name AS pool_name, p.description AS pool_description,
         b.power_type,
         concat_ws('|', m.render_rev, d.name, d.authoritative, d.ttl, d.is_default, z.name, z.description, p.name,
                   p.description, u.username) AS render_key,
         (SELECT array_agg(t.name ORDER BY t.name) FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id
           WHERE mt.machine_id = m.id) AS tag_names
    FROM machines m
    JOIN domains d ON d.id = m.domain_id
    JOIN zones z ON z.id = m.zone_id
    LEFT JOIN resource_pools p ON p.id = m.pool_id
    LEFT JOIN users u ON u.id = m.owner_id
    LEFT JOIN bmcs b ON b.id = m.bmc_id`;

/** Only what decides whether a cached rendering is still right: the same joins, no children. */
const SELECT_RENDER_KEYS = `
  SELECT m.id, concat_ws('|', m.render_rev, d.name, d.authoritative, d.ttl, d.is_default, z.name, z.description, p.name,
                   p.description, u.username) AS render_key
    FROM machines m
    JOIN domains d ON d.id = m.domain_id
    JOIN zones z ON z.id = m.zone_id
    LEFT JOIN resource_pools p ON p.id = m.pool_id
    LEFT JOIN users u ON u.id = m.owner_id`;

/**
 * Every query on the machine aggregate (machine, interfaces, block devices, tags). Listing takes
 * three queries whatever the number of machines: machines, then their interfaces and block
 * devices by id array.
 */
@Injectable()
export class MachinesRepository {
  constructor(private readonly ds: DataSource) {}

  async list(where: SqlWhere, opts: { limit?: number; forUpdate?: 'skip-locked' | 'wait'; orderBy?: string } = {}, em?: EntityManager) {
    const q = em ?? this.ds.manager;
    let sql = `${SELECT_MACHINES} ${where.sql()} ORDER BY ${opts.orderBy ?? 'm.id'}`;
    if (opts.limit) sql += ` LIMIT ${Math.floor(opts.limit)}`;
    if (opts.forUpdate === 'skip-locked') sql += ' FOR UPDATE OF m SKIP LOCKED';
    else if (opts.forUpdate === 'wait') sql += ' FOR UPDATE OF m';
    const rows: MachineRow[] = await q.query(sql, where.values);
    return this.hydrate(rows, q);
  }

  /** Ids and render keys of the machines matching `where`, in listing order. */
  listRenderKeys(where: SqlWhere): Promise<{ id: number; render_key: string }[]> {
    return this.ds.query(`${SELECT_RENDER_KEYS} ${where.sql()} ORDER BY m.id`, where.values);
  }

  async findBySystemId(systemId: string, em?: EntityManager): Promise<MachineRecord | null> {
    const w = new SqlWhere();
    w.add('m.system_id = ?', systemId);
    const [r] = await this.list(w, {}, em);
    return r ?? null;
  }

  private async hydrate(rows: MachineRow[], q: EntityManager): Promise<MachineRecord[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const [ifaces, disks]: [InterfaceRow[], BlockDeviceRow[]] = await Promise.all([
      q.query(
        `SELECT id, machine_id, name, type, mac_address, enabled, vendor, product, link_speed, interface_speed,
                link_connected, mtu, tags, host(ip_address) AS ip_address, is_boot
           FROM interfaces WHERE machine_id = ANY($1) ORDER BY machine_id, id`,
        [ids],
      ),
      q.query(
        `SELECT id, machine_id, name, type, uuid, model, serial, id_path, size, block_size, tags,
                firmware_version, is_boot
           FROM block_devices WHERE machine_id = ANY($1) ORDER BY machine_id, id`,
        [ids],
      ),
    ]);
    const byMachine = new Map<number, MachineRecord>();
    const out = rows.map((row) => {
      const rec: MachineRecord = { row, interfaces: [], blockDevices: [] };
      byMachine.set(row.id, rec);
      return rec;
    });
    for (const i of ifaces) byMachine.get(i.machine_id)?.interfaces.push(i);
    for (const b of disks) byMachine.get(b.machine_id)?.blockDevices.push(b);
    return out;
  }

  /** Locks one machine row for a lifecycle transition (callers hold a transaction). */
  lockBySystemId(em: EntityManager, systemId: string): Promise<MachineEntity | null> {
    return em
      .getRepository(MachineEntity)
      .createQueryBuilder('m')
      .setLock('pessimistic_write')
      .where('m.system_id = :systemId', { systemId })
      .getOne();
  }

  /** Records what a BMC said: a state, or 'error' with the reason (kept in error_description). */
  async setPowerState(machineId: number, state: string, reason: string | null, em?: EntityManager): Promise<void> {
    await (em ?? this.ds.manager).query(
      `UPDATE machines SET power_state = $2, power_state_updated = now(),
              error_description = CASE WHEN $2 = 'error' THEN $3 ELSE error_description END
        WHERE id = $1 AND (power_state IS DISTINCT FROM $2 OR $2 = 'error')`,
      [machineId, state, reason ?? ''],
    );
  }

  async macOwners(macs: string[]): Promise<{ mac_address: string; hostname: string }[]> {
    if (!macs.length) return [];
    return this.ds.query(
      `SELECT i.mac_address, m.hostname FROM interfaces i JOIN machines m ON m.id = i.machine_id
        WHERE i.mac_address = ANY($1)`,
      [macs],
    );
  }

  async hostnameTaken(hostname: string, exceptId?: number): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM machines WHERE hostname = $1 AND id <> $2`, [hostname, exceptId ?? -1]);
    return rows.length > 0;
  }

  async systemIdTaken(systemId: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM machines WHERE system_id = $1`, [systemId]);
    return rows.length > 0;
  }

  saveInterfaces(em: EntityManager, ifaces: Partial<InterfaceEntity>[]) {
    return em.getRepository(InterfaceEntity).insert(ifaces);
  }

  saveBlockDevices(em: EntityManager, disks: Partial<BlockDeviceEntity>[]) {
    return em.getRepository(BlockDeviceEntity).insert(disks);
  }

  async delete(id: number): Promise<void> {
    await this.ds.getRepository(MachineEntity).delete({ id });
  }
}
