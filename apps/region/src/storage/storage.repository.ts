import { Injectable } from '@nestjs/common';
import type { MachineStorageLayout } from '@kiln/db';
import { DataSource, EntityManager } from 'typeorm';

export interface StorageMachineRow {
  id: number;
  system_id: string;
  hostname: string;
  owner_id: number | null;
  locked: boolean;
  status: number;
  architecture: string;
  bios_boot_method: string | null;
}

export interface StorageDeviceRow {
  id: number;
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
  filesystem_group_id: number | null;
}

export interface PartitionTableRow {
  id: number;
  block_device_id: number;
  table_type: string;
}

export interface PartitionRow {
  id: number;
  partition_table_id: number;
  index: number;
  uuid: string;
  size: string;
  bootable: boolean;
  tags: string[];
}

export interface FilesystemRow {
  id: number;
  block_device_id: number | null;
  partition_id: number | null;
  fstype: string;
  uuid: string;
  label: string | null;
  mount_point: string | null;
  mount_options: string | null;
  filesystem_group_id: number | null;
  cache_set_id: number | null;
}

export interface FilesystemGroupRow {
  id: number;
  name: string;
  uuid: string;
  group_type: string;
  cache_mode: string | null;
  cache_set_id: number | null;
}

export interface CacheSetRow {
  id: number;
  name: string;
}

/** Everything a machine's storage is made of, as stored. */
export interface StorageRows {
  machine: StorageMachineRow;
  devices: StorageDeviceRow[];
  tables: PartitionTableRow[];
  partitions: PartitionRow[];
  filesystems: FilesystemRow[];
  groups: FilesystemGroupRow[];
  cacheSets: CacheSetRow[];
}

/** The storage model's rows of one machine beyond its block devices (the machine record carries them). */
export type MachineStorageRows = Omit<StorageRows, 'machine' | 'devices'>;

export interface NewFilesystem {
  blockDeviceId?: number;
  partitionId?: number;
  fstype: string;
  uuid: string;
  label: string | null;
  mountPoint?: string | null;
  mountOptions?: string | null;
  groupId?: number | null;
  cacheSetId?: number | null;
}

/** The SQL of the storage model (partition tables, partitions, filesystems, groups, cache sets). */
@Injectable()
export class StorageRepository {
  constructor(private readonly ds: DataSource) {}

  private q(em?: EntityManager): EntityManager {
    return em ?? this.ds.manager;
  }

  /** The machine, locked FOR UPDATE when inside a transaction, so storage edits on one machine queue. */
  async machine(systemId: string, em?: EntityManager, lock = false): Promise<StorageMachineRow | undefined> {
    const rows: StorageMachineRow[] = await this.q(em).query(
      `SELECT id, system_id, hostname, owner_id, locked, status, architecture, bios_boot_method
         FROM machines WHERE system_id = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [systemId],
    );
    return rows[0];
  }

  /** What laying a storage layout out needs of a machine. */
  async layoutTarget(
    em: EntityManager,
    machineId: number,
  ): Promise<{ id: number; architecture: string; bios_boot_method: string | null; storage_layout: MachineStorageLayout | null; skip_storage: boolean } | undefined> {
    const rows = await em.query(`SELECT id, architecture, bios_boot_method, storage_layout, skip_storage FROM machines WHERE id = $1`, [machineId]);
    return rows[0];
  }

  async hasModel(em: EntityManager, machineId: number): Promise<boolean> {
    const [row]: { n: number }[] = await em.query(
      `SELECT (SELECT count(*) FROM partition_tables WHERE machine_id = $1) + (SELECT count(*) FROM filesystems WHERE machine_id = $1) AS n`,
      [machineId],
    );
    return Number(row.n) > 0;
  }

  async load(machine: StorageMachineRow, em?: EntityManager): Promise<StorageRows> {
    const q = this.q(em);
    const id = [machine.id];
    // Inside a transaction the queries share one connection, which runs one query at a time: send them in turn.
    const calls = [
      () => q.query(
        `SELECT id, name, type, uuid, model, serial, id_path, size, block_size, tags, firmware_version, is_boot, numa_node, filesystem_group_id
           FROM block_devices WHERE machine_id = $1 ORDER BY id`,
        id,
      ),
      () => q.query(`SELECT id, block_device_id, table_type FROM partition_tables WHERE machine_id = $1 ORDER BY id`, id),
      () => q.query(`SELECT id, partition_table_id, index, uuid, size, bootable, tags FROM partitions WHERE machine_id = $1 ORDER BY partition_table_id, index`, id),
      () => q.query(
        `SELECT id, block_device_id, partition_id, fstype, uuid, label, mount_point, mount_options, filesystem_group_id, cache_set_id
           FROM filesystems WHERE machine_id = $1 ORDER BY id`,
        id,
      ),
      () => q.query(`SELECT id, name, uuid, group_type, cache_mode, cache_set_id FROM filesystem_groups WHERE machine_id = $1 ORDER BY id`, id),
      () => q.query(`SELECT id, name FROM bcache_cache_sets WHERE machine_id = $1 ORDER BY id`, id),
    ];
    const [devices, tables, partitions, filesystems, groups, cacheSets] = em ? await serially(calls) : await Promise.all(calls.map((call) => call()));
    return { machine, devices, tables, partitions, filesystems, groups, cacheSets };
  }

  async updateDevice(em: EntityManager, id: number, fields: Partial<Record<'name' | 'model' | 'serial' | 'id_path' | 'size' | 'block_size' | 'uuid', string | number | null>>): Promise<void> {
    const keys = Object.keys(fields) as (keyof typeof fields)[];
    if (!keys.length) return;
    const sets = keys.map((k, i) => `"${k}" = $${i + 2}`).join(', ');
    await em.query(`UPDATE block_devices SET ${sets} WHERE id = $1`, [id, ...keys.map((k) => fields[k])]);
  }

  async setDeviceTags(em: EntityManager, id: number, tags: string[]): Promise<void> {
    await em.query(`UPDATE block_devices SET tags = $2 WHERE id = $1`, [id, tags]);
  }

  async setBootDisk(em: EntityManager, machineId: number, deviceId: number): Promise<void> {
    await em.query(`UPDATE block_devices SET is_boot = (id = $2) WHERE machine_id = $1 AND type = 'physical'`, [machineId, deviceId]);
  }

  async deleteDevice(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM block_devices WHERE id = $1`, [id]);
  }

  async insertDevice(
    em: EntityManager,
    machineId: number,
    d: { name: string; type: string; uuid: string | null; model?: string; serial?: string; idPath?: string | null; size: number; blockSize: number; groupId?: number | null },
  ): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO block_devices (machine_id, name, type, uuid, model, serial, id_path, size, block_size, filesystem_group_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [machineId, d.name, d.type, d.uuid, d.model ?? '', d.serial ?? '', d.idPath ?? null, d.size, d.blockSize, d.groupId ?? null],
    );
    return row.id;
  }

  async insertPartitionTable(em: EntityManager, machineId: number, deviceId: number, tableType: string): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO partition_tables (machine_id, block_device_id, table_type) VALUES ($1, $2, $3) RETURNING id`,
      [machineId, deviceId, tableType],
    );
    return row.id;
  }

  async deletePartitionTable(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM partition_tables WHERE id = $1`, [id]);
  }

  async insertPartition(em: EntityManager, machineId: number, p: { tableId: number; index: number; uuid: string; size: number; bootable: boolean }): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO partitions (machine_id, partition_table_id, index, uuid, size, bootable) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [machineId, p.tableId, p.index, p.uuid, p.size, p.bootable],
    );
    return row.id;
  }

  async deletePartition(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM partitions WHERE id = $1`, [id]);
  }

  async setPartitionTags(em: EntityManager, id: number, tags: string[]): Promise<void> {
    await em.query(`UPDATE partitions SET tags = $2 WHERE id = $1`, [id, tags]);
  }

  async insertFilesystem(em: EntityManager, machineId: number, f: NewFilesystem): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO filesystems (machine_id, block_device_id, partition_id, fstype, uuid, label, mount_point, mount_options, filesystem_group_id, cache_set_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [
        machineId,
        f.blockDeviceId ?? null,
        f.partitionId ?? null,
        f.fstype,
        f.uuid,
        f.label,
        f.mountPoint ?? null,
        f.mountOptions ?? null,
        f.groupId ?? null,
        f.cacheSetId ?? null,
      ],
    );
    return row.id;
  }

  async deleteFilesystem(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM filesystems WHERE id = $1`, [id]);
  }

  async setMount(em: EntityManager, id: number, mountPoint: string | null, mountOptions: string | null): Promise<void> {
    await em.query(`UPDATE filesystems SET mount_point = $2, mount_options = $3 WHERE id = $1`, [id, mountPoint, mountOptions]);
  }

  async insertGroup(em: EntityManager, machineId: number, g: { name: string; uuid: string; groupType: string; cacheMode?: string | null; cacheSetId?: number | null }): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO filesystem_groups (machine_id, name, uuid, group_type, cache_mode, cache_set_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [machineId, g.name, g.uuid, g.groupType, g.cacheMode ?? null, g.cacheSetId ?? null],
    );
    return row.id;
  }

  async insertCacheSet(em: EntityManager, machineId: number, name: string): Promise<number> {
    const [row]: { id: number }[] = await em.query(`INSERT INTO bcache_cache_sets (machine_id, name) VALUES ($1, $2) RETURNING id`, [machineId, name]);
    return row.id;
  }

  async setCacheMode(em: EntityManager, groupId: number, mode: string): Promise<void> {
    await em.query(`UPDATE filesystem_groups SET cache_mode = $2 WHERE id = $1`, [groupId, mode]);
  }

  async deleteCacheSet(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM filesystems WHERE cache_set_id = $1`, [id]);
    await em.query(`DELETE FROM bcache_cache_sets WHERE id = $1`, [id]);
  }

  async updateGroup(em: EntityManager, id: number, name: string, uuid: string): Promise<void> {
    await em.query(`UPDATE filesystem_groups SET name = $2, uuid = $3 WHERE id = $1`, [id, name, uuid]);
  }

  /** Deletes a group, its virtual devices, and frees its members' filesystems. */
  async deleteGroup(em: EntityManager, id: number): Promise<void> {
    await em.query(`DELETE FROM block_devices WHERE filesystem_group_id = $1 AND type = 'virtual'`, [id]);
    await em.query(`DELETE FROM filesystems WHERE filesystem_group_id = $1`, [id]);
    await em.query(`DELETE FROM filesystem_groups WHERE id = $1`, [id]);
  }

  /** Removes every partition table, filesystem, group, virtual device and cache set of a machine. */
  async clear(em: EntityManager, machineId: number): Promise<void> {
    await em.query(`DELETE FROM filesystems WHERE machine_id = $1`, [machineId]);
    await em.query(`DELETE FROM block_devices WHERE machine_id = $1 AND type = 'virtual'`, [machineId]);
    await em.query(`DELETE FROM partition_tables WHERE machine_id = $1`, [machineId]);
    await em.query(`DELETE FROM filesystem_groups WHERE machine_id = $1`, [machineId]);
    await em.query(`DELETE FROM bcache_cache_sets WHERE machine_id = $1`, [machineId]);
  }
}

/** Runs the calls one after the other; the results in order. */
async function serially<R>(calls: readonly (() => Promise<R>)[]): Promise<R[]> {
  const out: R[] = [];
  for (const call of calls) out.push(await call());
  return out;
}
