import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { BlockDeviceEntity, InterfaceEntity, MachineEntity, type MachineStorageLayout, type SpecialFilesystem } from '@kiln/db';
import { NodeStatus } from '@kiln/lifecycle';
import type { PowerTargetRow } from '../power/power.client';
import { SUBNET_SELECT, VLAN_SELECT, type SubnetRow, type VlanRow } from '../networking/networking.repository';
import type { MachineStorageRows } from '../storage/storage.repository';
import { SqlWhere } from './machine.filters';
import { INTERFACE_FROM, type InterfaceLabel } from './network.constraints';

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
  /** MAAS hardware_info keys commissioning found (the API shows "Unknown" for the others). */
  hardware_info: Record<string, string>;
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
  /** The machine's current runs and its script statuses (-1: no results; kept by triggers). */
  current_commissioning_script_set_id: number | null;
  current_testing_script_set_id: number | null;
  current_installation_script_set_id: number | null;
  commissioning_status: number;
  testing_status: number;
  cpu_test_status: number;
  memory_test_status: number;
  network_test_status: number;
  storage_test_status: number;
  other_test_status: number;
}

export interface InterfaceRow {
  id: number;
  /** The machine or the device (exactly one) the interface belongs to. */
  machine_id: number | null;
  device_id?: number | null;
  name: string;
  type: string;
  mac_address: string;
  enabled: boolean;
  vendor: string | null;
  product: string | null;
  firmware_version: string | null;
  numa_node: number;
  sriov_max_vf: number;
  link_speed: number;
  interface_speed: number;
  link_connected: boolean;
  mtu: number;
  tags: string[];
  ip_address: string | null;
  is_boot: boolean;
  vlan_id?: number | null;
  /** Per-type settings (bond_mode, bridge_stp, ...); empty for a physical interface. */
  params?: Record<string, string | number | boolean>;
  /** Names of the interfaces this one is built on (bond members, a bridge's or a VLAN's parent). */
  parents?: string[];
  /** Names of the interfaces built on this one. */
  children?: string[];
  links?: InterfaceLinkRow[];
}

/** One link of an interface to a subnet (MAAS link_subnet); ip_address: a static link's address. */
export interface InterfaceLinkRow {
  id: number;
  interface_id: number;
  mode: string;
  subnet_id: number | null;
  static_ip_id: number | null;
  ip_address: string | null;
  default_gateway: boolean;
}

/** The VLANs and subnets a set of interfaces refers to, for rendering them. */
export interface InterfaceNetRows {
  vlans: Map<number, VlanRow>;
  subnets: Map<number, SubnetRow>;
}

const SELECT_INTERFACES = `SELECT id, machine_id, device_id, name, type, mac_address, enabled, vendor, product, firmware_version, numa_node, sriov_max_vf,
       link_speed, interface_speed, link_connected, mtu, tags, host(ip_address) AS ip_address, is_boot, vlan_id, params
  FROM interfaces`;

/**
 * The interfaces of machines with their parents, children and links, and the VLANs and subnets
 * they refer to (loaded only when some interface has a VLAN or a link).
 */
export async function loadInterfaces(q: EntityManager, nodeIds: number[], of: 'machine' | 'device' = 'machine'): Promise<{ interfaces: InterfaceRow[]; net: InterfaceNetRows }> {
  const column = of === 'device' ? 'device_id' : 'machine_id';
  const rows: Omit<InterfaceRow, 'parents' | 'children' | 'links'>[] = await q.query(`${SELECT_INTERFACES} WHERE ${column} = ANY($1) ORDER BY ${column}, id`, [nodeIds]);
  const interfaces = rows.map((r) => ({ ...r, parents: [] as string[], children: [] as string[], links: [] as InterfaceLinkRow[] }));
  const net: InterfaceNetRows = { vlans: new Map(), subnets: new Map() };
  if (!interfaces.length) return { interfaces, net };
  const ids = interfaces.map((i) => i.id);
  const [rels, links]: [{ parent_id: number; child_id: number }[], InterfaceLinkRow[]] = await Promise.all([
    q.query(`SELECT parent_id, child_id FROM interface_relationships WHERE child_id = ANY($1) ORDER BY id`, [ids]),
    q.query(
      `SELECT l.id, l.interface_id, l.mode, l.subnet_id, l.static_ip_id, host(s.ip) AS ip_address, l.default_gateway
         FROM interface_links l LEFT JOIN static_ip_addresses s ON s.id = l.static_ip_id
        WHERE l.interface_id = ANY($1) ORDER BY l.id`,
      [ids],
    ),
  ]);
  const byId = new Map(interfaces.map((i) => [i.id, i]));
  for (const r of rels) {
    const parent = byId.get(r.parent_id);
    const child = byId.get(r.child_id);
    if (parent && child) {
      child.parents.push(parent.name);
      parent.children.push(child.name);
    }
  }
  for (const l of links) byId.get(l.interface_id)?.links.push(l);
  const subnetIds = [...new Set(links.map((l) => l.subnet_id).filter((id): id is number => id !== null))];
  if (subnetIds.length || interfaces.some((i) => i.vlan_id !== null && i.vlan_id !== undefined)) {
    const [vlans, subnets]: [VlanRow[], SubnetRow[]] = await Promise.all([
      q.query(`${VLAN_SELECT} ORDER BY v.id`),
      subnetIds.length ? q.query(`${SUBNET_SELECT} WHERE id = ANY($1)`, [subnetIds]) : Promise.resolve([]),
    ]);
    for (const v of vlans) net.vlans.set(v.id, v);
    for (const sn of subnets) net.subnets.set(sn.id, sn);
  }
  return { interfaces, net };
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
  numa_node: number;
  /** For a virtual device: its volume group, RAID or bcache. */
  filesystem_group_id?: number | null;
}

/** A NUMA node commissioning found. */
export interface NumaNodeRow {
  machine_id: number;
  index: number;
  cores: number[];
  /** MiB (bigint) */
  memory: string;
}

export interface EffectSubjectRow {
  id: number;
  system_id: string;
  hostname: string;
  status: number;
  version: number;
  status_expires: Date | null;
  expired: boolean | null;
  power_type: string | null;
}

export interface MachineRecord {
  row: MachineRow;
  interfaces: InterfaceRow[];
  /** The VLANs and subnets the interfaces refer to. */
  net?: InterfaceNetRows;
  blockDevices: BlockDeviceRow[];
  /** Empty until commissioning has run. */
  numaNodes: NumaNodeRow[];
  /** The machine's storage model (partitions, filesystems, groups); absent when not loaded. */
  storage?: MachineStorageRows;
}

const SELECT_MACHINES = `
  SELECT m.id, m.system_id, m.hostname, m.description, m.architecture, m.min_hwe_kernel, m.hwe_kernel,
         m.osystem, m.distro_series, m.cpu_count, m.cpu_speed, m.memory, m.swap_size, m.status,
         m.previous_status, m.status_expires, m.locked, m.power_state, m.agent_name, m.owner_data,
         m.error_description, m.netboot, m.enlisting, m.ephemeral_deploy, m.hardware_uuid,
         m.bios_boot_method, m.status_message, m.status_action, m.storage_layout, m.special_filesystems,
         m.hardware_info, m.version, m.owner_id,
         m.current_commissioning_script_set_id, m.current_testing_script_set_id, m.current_installation_script_set_id,
         m.commissioning_status, m.testing_status, m.cpu_test_status, m.memory_test_status, m.network_test_status,
         m.storage_test_status, m.other_test_status,
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
 * Every query on the machine aggregate (machine, interfaces, block devices, NUMA nodes, tags).
 * Listing takes four queries whatever the number of machines: machines, then their interfaces,
 * block devices and NUMA nodes by id array.
 */
@Injectable()
export class MachinesRepository {
  constructor(private readonly ds: DataSource) {}

  async list(where: SqlWhere, opts: { limit?: number; offset?: number; forUpdate?: 'skip-locked' | 'wait'; orderBy?: string } = {}, em?: EntityManager) {
    const q = em ?? this.ds.manager;
    let sql = `${SELECT_MACHINES} ${where.sql()} ORDER BY ${opts.orderBy ?? 'm.id'}`;
    if (opts.limit) sql += ` LIMIT ${Math.floor(opts.limit)}`;
    if (opts.offset) sql += ` OFFSET ${Math.floor(opts.offset)}`;
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
    const [{ interfaces: ifaces, net }, disks, numaNodes]: [Awaited<ReturnType<typeof loadInterfaces>>, BlockDeviceRow[], NumaNodeRow[]] = await Promise.all([
      loadInterfaces(q, ids),
      q.query(
        `SELECT id, machine_id, name, type, uuid, model, serial, id_path, size, block_size, tags,
                firmware_version, is_boot, numa_node, filesystem_group_id
           FROM block_devices WHERE machine_id = ANY($1) ORDER BY machine_id, id`,
        [ids],
      ),
      q.query('SELECT machine_id, index, cores, memory FROM numa_nodes WHERE machine_id = ANY($1) ORDER BY machine_id, index', [ids]),
    ]);
    const [tables, partitions, filesystems, groups, cacheSets]: { machine_id: number }[][] = await Promise.all([
      q.query(`SELECT machine_id, id, block_device_id, table_type FROM partition_tables WHERE machine_id = ANY($1) ORDER BY id`, [ids]),
      q.query(
        `SELECT machine_id, id, partition_table_id, index, uuid, size, bootable, tags FROM partitions WHERE machine_id = ANY($1) ORDER BY partition_table_id, index`,
        [ids],
      ),
      q.query(
        `SELECT machine_id, id, block_device_id, partition_id, fstype, uuid, label, mount_point, mount_options, filesystem_group_id, cache_set_id
           FROM filesystems WHERE machine_id = ANY($1) ORDER BY id`,
        [ids],
      ),
      q.query(`SELECT machine_id, id, name, uuid, group_type, cache_mode, cache_set_id FROM filesystem_groups WHERE machine_id = ANY($1) ORDER BY id`, [ids]),
      q.query(`SELECT machine_id, id, name FROM bcache_cache_sets WHERE machine_id = ANY($1) ORDER BY id`, [ids]),
    ]);
    const byMachine = new Map<number, MachineRecord>();
    const out = rows.map((row) => {
      const rec: MachineRecord = { row, interfaces: [], net, blockDevices: [], numaNodes: [] };
      byMachine.set(row.id, rec);
      return rec;
    });
    for (const i of ifaces) byMachine.get(i.machine_id!)?.interfaces.push(i);
    for (const b of disks) byMachine.get(b.machine_id)?.blockDevices.push(b);
    for (const n of numaNodes) byMachine.get(n.machine_id)?.numaNodes.push(n);
    const storageOf = (machineId: number): MachineStorageRows => {
      const rec = byMachine.get(machineId)!;
      rec.storage ??= { tables: [], partitions: [], filesystems: [], groups: [], cacheSets: [] };
      return rec.storage;
    };
    for (const [key, list] of [['tables', tables], ['partitions', partitions], ['filesystems', filesystems], ['groups', groups], ['cacheSets', cacheSets]] as const) {
      for (const row of list) if (byMachine.has(row.machine_id)) (storageOf(row.machine_id)[key] as unknown[]).push(row);
    }
    return out;
  }

  /** Forgets the machine's chosen default gateway links (MAAS clear_default_gateways). */
  async clearDefaultGateways(em: EntityManager, machineId: number): Promise<void> {
    await em.query(
      `UPDATE interface_links l SET default_gateway = false FROM interfaces i WHERE i.id = l.interface_id AND i.machine_id = $1 AND l.default_gateway`,
      [machineId],
    );
  }

  /**
   * Back to the interfaces commissioning discovered: drops every subnet link (freeing static
   * addresses) and every bond, bridge and VLAN interface. How many of each went.
   */
  async resetNetworking(em: EntityManager, machineId: number): Promise<{ interfaces: number; links: number }> {
    const [links]: { n: number }[] = await em.query(
      `SELECT count(*)::int AS n FROM interface_links l JOIN interfaces i ON i.id = l.interface_id WHERE i.machine_id = $1`,
      [machineId],
    );
    await em.query(
      `DELETE FROM static_ip_addresses WHERE id IN
         (SELECT l.static_ip_id FROM interface_links l JOIN interfaces i ON i.id = l.interface_id WHERE i.machine_id = $1)`,
      [machineId],
    );
    await em.query(`DELETE FROM interface_links l USING interfaces i WHERE i.id = l.interface_id AND i.machine_id = $1`, [machineId]);
    const gone: { id: number }[] = await em.query(`SELECT id FROM interfaces WHERE machine_id = $1 AND type <> 'physical'`, [machineId]);
    if (gone.length) await em.query(`DELETE FROM interfaces WHERE id = ANY($1)`, [gone.map((g) => g.id)]);
    return { interfaces: gone.length, links: links.n };
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

  /** The machines that already have any of `macs`. */
  /** The nodes using these MACs: machines (machine_id) and devices (machine_id null), as MAC addresses are unique across nodes. */
  async macOwners(macs: string[], em?: EntityManager): Promise<{ mac_address: string; machine_id: number | null; hostname: string }[]> {
    if (!macs.length) return [];
    return (em ?? this.ds.manager).query(
      `SELECT i.mac_address, i.machine_id, m.hostname FROM interfaces i JOIN machines m ON m.id = i.machine_id
        WHERE i.mac_address = ANY($1) AND i.type = 'physical'
       UNION ALL
       SELECT i.mac_address, NULL::int, v.hostname FROM interfaces i JOIN devices v ON v.id = i.device_id
        WHERE i.mac_address = ANY($1) AND i.type = 'physical'`,
      [macs],
    );
  }

  /** Machines in one of `statuses` with one of `macs` (enlistment matching). */
  machinesWithMacs(macs: string[], statuses: number[]): Promise<{ system_id: string; mac_address: string }[]> {
    return this.ds.query(
      `SELECT m.system_id, i.mac_address FROM machines m JOIN interfaces i ON i.machine_id = m.id
        WHERE i.mac_address = ANY($1) AND i.type = 'physical' AND m.status = ANY($2)`,
      [macs, statuses],
    );
  }

  /** Machines in one of `statuses` whose BMC has this power type and address, with their node-scoped parameters. */
  machinesOnBmc(powerType: string, powerAddress: string, statuses: number[]): Promise<{ system_id: string; node: Record<string, string> }[]> {
    return this.ds.query(
      `SELECT m.system_id, m.instance_power_parameters AS node FROM machines m JOIN bmcs b ON b.id = m.bmc_id
        WHERE b.power_type = $1 AND lower(b.power_address) = lower($2) AND m.status = ANY($3)`,
      [powerType, powerAddress, statuses],
    );
  }

  interfacesOf(em: EntityManager, machineId: number): Promise<InterfaceEntity[]> {
    return em.getRepository(InterfaceEntity).findBy({ machineId });
  }

  /** Creates a machine row. */
  insert(em: EntityManager, fields: Partial<MachineEntity>): Promise<MachineEntity> {
    const repo = em.getRepository(MachineEntity);
    return repo.save(repo.create(fields));
  }

  /** Saves a machine row the caller has locked. */
  save(em: EntityManager, m: MachineEntity): Promise<MachineEntity> {
    return em.getRepository(MachineEntity).save(m);
  }

  /**
   * Reads back into a locked entity the columns commissioning writes with SQL (CPUs, memory,
   * hardware_info, ...), so that saving the entity afterwards keeps them instead of writing back
   * the values it was loaded with.
   */
  async refreshInventoryColumns(em: EntityManager, m: MachineEntity): Promise<void> {
    const fresh = await em.getRepository(MachineEntity).findOne({
      where: { id: m.id },
      select: { id: true, cpuCount: true, cpuSpeed: true, memory: true, hardwareInfo: true, architecture: true, hardwareUuid: true, biosBootMethod: true },
    });
    if (!fresh) return;
    m.cpuCount = fresh.cpuCount;
    m.cpuSpeed = fresh.cpuSpeed;
    m.memory = fresh.memory;
    m.hardwareInfo = fresh.hardwareInfo;
    m.architecture = fresh.architecture;
    m.hardwareUuid = fresh.hardwareUuid;
    m.biosBootMethod = fresh.biosBootMethod;
  }

  /** The id of the domain, zone or resource pool with this name. */
  async idByName(table: 'domains' | 'zones' | 'resource_pools', name: string): Promise<number | null> {
    const rows: { id: number }[] = await this.ds.query(`SELECT id FROM ${table} WHERE name = $1`, [name]);
    return rows.length ? rows[0].id : null;
  }

  async defaultDomainName(): Promise<string | null> {
    const [d]: { name: string }[] = await this.ds.query('SELECT name FROM domains WHERE is_default ORDER BY id LIMIT 1');
    return d?.name ?? null;
  }

  /** Id, hostname and lock of the machines named, in no particular order (unknown ones are missing). */
  summaries(systemIds: string[]): Promise<{ id: number; system_id: string; hostname: string; locked: boolean }[]> {
    return this.ds.query('SELECT id, system_id, hostname, locked FROM machines WHERE system_id = ANY($1)', [systemIds]);
  }

  async setZone(systemIds: string[], zoneId: number): Promise<void> {
    await this.ds.query('UPDATE machines SET zone_id = $1 WHERE system_id = ANY($2)', [zoneId, systemIds]);
  }

  /** What the lifecycle reads of a machine besides its row: owner name, power type, interface count. */
  async lifecycleFacts(em: EntityManager, machineId: number): Promise<{ owner: string | null; power_type: string | null; interface_count: number } | null> {
    const [row] = await em.query(
      `SELECT u.username AS owner, b.power_type,
              (SELECT count(*)::int FROM interfaces i WHERE i.machine_id = $1) AS interface_count
         FROM machines m LEFT JOIN users u ON u.id = m.owner_id LEFT JOIN bmcs b ON b.id = m.bmc_id
        WHERE m.id = $1`,
      [machineId],
    );
    return row ?? null;
  }

  async userIdByUsername(em: EntityManager, username: string): Promise<number | null> {
    const [u]: { id: number }[] = await em.query('SELECT id FROM users WHERE username = $1', [username]);
    return u ? u.id : null;
  }

  // ---- the lifecycle worker -----------------------------------------------------------------

  /** Machines in one of `statuses` whose deadline of record has passed, oldest deadline first. */
  pastDeadline(statuses: number[], limit: number): Promise<{ system_id: string }[]> {
    return this.ds.query(
      `SELECT system_id FROM machines WHERE status_expires IS NOT NULL AND status_expires < now() AND status = ANY($1)
       ORDER BY status_expires LIMIT ${Math.floor(limit)}`,
      [statuses],
    );
  }

  /** What an effect job reads of its machine before carrying the effect out. */
  async effectSubject(systemId: string): Promise<EffectSubjectRow | null> {
    const [m] = await this.ds.query(
      `SELECT m.id, m.system_id, m.hostname, m.status, m.version, m.status_expires, m.status_expires < now() AS expired, b.power_type
         FROM machines m LEFT JOIN bmcs b ON b.id = m.bmc_id WHERE m.system_id = $1`,
      [systemId],
    );
    return m ?? null;
  }

  /** Every machine with a queryable BMC, with what a rack needs to query it. */
  pollTargets(): Promise<(PowerTargetRow & { id: number; hostname: string; power_state: string })[]> {
    return this.ds.query(
      `SELECT m.id, m.system_id, m.hostname, m.power_state, b.power_type, b.power_parameters, m.instance_power_parameters AS instance
         FROM machines m JOIN bmcs b ON b.id = m.bmc_id
        WHERE b.power_type NOT IN ('', 'manual') ORDER BY m.id`,
    );
  }

  // ---- listing conditions -----------------------------------------------------------------

  /** Limits `where` to the machines a caller limited to `ownerId` sees: theirs and unowned ones (null: all). */
  visibleTo(where: SqlWhere, ownerId: number | null): SqlWhere {
    if (ownerId !== null) where.add('(m.owner_id IS NULL OR m.owner_id = ?)', ownerId);
    return where;
  }

  /** Machines with these ids (database ids). */
  listByIds(ids: number[]): Promise<MachineRecord[]> {
    const w = new SqlWhere();
    w.add('m.id = ANY(?)', ids);
    return this.list(w);
  }

  /** The machine with an interface of this MAC, if any. */
  async findByMac(mac: string): Promise<MachineRecord | null> {
    const w = new SqlWhere();
    w.add('EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.mac_address = ?)', mac);
    const [rec] = await this.list(w);
    return rec ?? null;
  }

  /** Machines in one status, optionally owned by one user and limited to some system ids. */
  listInStatus(status: number, opts: { ownerId?: number; systemIds?: string[] } = {}): Promise<MachineRecord[]> {
    const w = new SqlWhere();
    if (opts.ownerId !== undefined) w.add('m.owner_id = ?', opts.ownerId);
    w.add('m.status = ?', status);
    if (opts.systemIds?.length) w.add('m.system_id = ANY(?)', opts.systemIds);
    return this.list(w);
  }

  /** The ids of a machine's interfaces that meet each label of an interfaces constraint. */
  async interfacesByLabel(em: EntityManager, machineId: number, labels: readonly InterfaceLabel[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const l of labels) {
      let n = 0;
      const sql = `SELECT i.id FROM ${INTERFACE_FROM} WHERE i.machine_id = ? AND ${l.where.sql} ORDER BY i.id`.replace(/\?/g, () => `$${++n}`);
      const rows = (await em.query(sql, [machineId, ...l.where.values])) as { id: number }[];
      out.set(l.label, rows.map((r) => r.id));
    }
    return out;
  }

  /**
   * Machines that can be allocated and match `where`, cheapest first (MAAS: cpu_count +
   * memory/1024), locked for the caller's transaction: 'skip-locked' passes over rows another
   * allocation holds, 'wait' waits for them; none only reads (a dry run).
   */
  allocatable(em: EntityManager, where: SqlWhere, limit: number, lock: 'skip-locked' | 'wait' | undefined, offset = 0): Promise<MachineRecord[]> {
    const w = new SqlWhere();
    w.clauses.push(...where.clauses);
    w.values.push(...where.values);
    // Written out as IDX_machines_allocatable_cost's predicate, so that Postgres can use that index
    // (free Ready machines, cheapest first) whatever plan it makes for the parameters.
    w.add(`m.status = ${Number(NodeStatus.READY)}`);
    w.add('m.owner_id IS NULL');
    w.add('NOT m.locked');
    return this.list(w, { limit, offset, forUpdate: lock, orderBy: '(m.cpu_count + m.memory / 1024.0), m.id' }, em);
  }

  async hostnameTaken(hostname: string, exceptId?: number): Promise<boolean> {
    // Hostnames are unique across machines and devices (MAAS keeps one node table).
    const rows = await this.ds.query(`SELECT 1 FROM machines WHERE hostname = $1 AND id <> $2 UNION ALL SELECT 1 FROM devices WHERE hostname = $1`, [
      hostname,
      exceptId ?? -1,
    ]);
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

  /** The machine's AUTO links on a subnet that hold no address yet, on enabled interfaces, in link order. */
  autoLinksWithoutAddress(em: EntityManager, machineId: number): Promise<{ link_id: number; interface_id: number; interface_name: string; subnet_id: number }[]> {
    return em.query(
      `SELECT l.id AS link_id, i.id AS interface_id, i.name AS interface_name, l.subnet_id
         FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
        WHERE i.machine_id = $1 AND i.enabled AND l.mode = 'auto' AND l.subnet_id IS NOT NULL AND l.static_ip_id IS NULL
        ORDER BY l.id`,
      [machineId],
    );
  }

  /** Gives an AUTO link its address (alloc_type 'auto', as MAAS's AUTO IPs). */
  async assignAutoAddress(em: EntityManager, linkId: number, x: { ip: string; subnetId: number; interfaceId: number }): Promise<void> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO static_ip_addresses (ip, subnet_id, interface_id, alloc_type, comment) VALUES ($1, $2, $3, 'auto', '') RETURNING id`,
      [x.ip, x.subnetId, x.interfaceId],
    );
    await em.query(`UPDATE interface_links SET static_ip_id = $2 WHERE id = $1`, [linkId, row.id]);
  }

  /** Frees the addresses the machine's AUTO links took when it deployed; the links stay, AUTO again. How many. */
  async releaseAutoAddresses(em: EntityManager, machineId: number): Promise<number> {
    const rows: unknown[] = await em.query(
      `DELETE FROM static_ip_addresses WHERE alloc_type = 'auto' AND id IN
         (SELECT l.static_ip_id FROM interface_links l JOIN interfaces i ON i.id = l.interface_id WHERE i.machine_id = $1 AND l.mode = 'auto')
       RETURNING id`,
      [machineId],
    );
    return rows.length;
  }

  async delete(id: number): Promise<void> {
    await this.ds.getRepository(MachineEntity).delete({ id });
  }
}
