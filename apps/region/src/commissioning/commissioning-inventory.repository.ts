import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { InventoryDisk, InventoryInterface, InventoryNumaNode, MachineInventory } from './commissioning-resources.mapper';

/** The probed outputs kept per machine (table machine_probed_details). */
/** `boot_mac`: the BOOTIF of the kernel command line, kept for the inventory that may arrive after it. */
export type ProbedDetailName = 'lshw' | 'lldp' | 'modaliases' | 'serial_ports' | 'boot_mac';

/** What writing an inventory changed, for the log. */
export interface InventoryChanges {
  machine: boolean;
  numaNodes: { written: number; removed: number };
  disks: { added: string[]; updated: string[]; removed: string[] };
  interfaces: { added: string[]; updated: string[]; removed: string[]; movedFrom: { mac: string; machineId: number }[] };
}

interface DiskRow {
  id: number;
  name: string;
  model: string;
  serial: string;
  id_path: string | null;
  size: string;
  block_size: number;
  tags: string[];
  firmware_version: string | null;
  numa_node: number;
}

interface InterfaceRow {
  id: number;
  machine_id: number;
  name: string;
  mac_address: string;
  vendor: string | null;
  product: string | null;
  firmware_version: string | null;
  link_speed: number;
  interface_speed: number;
  link_connected: boolean;
  mtu: number;
  numa_node: number;
  sriov_max_vf: number;
  tags: string[];
}

const VIRTUAL_TAG = 'virtual';
/** MAAS tags a NIC that offers SR-IOV virtual functions (the tag stays if they go, as in MAAS). */
const SRIOV_TAG = 'sriov';

const sameList = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function diskMatches(row: DiskRow, d: InventoryDisk): boolean {
  return (
    row.name === d.name &&
    row.model === d.model &&
    row.serial === d.serial &&
    row.id_path === d.idPath &&
    row.size === String(d.size) &&
    row.block_size === d.blockSize &&
    sameList(row.tags ?? [], d.tags) &&
    row.firmware_version === d.firmwareVersion &&
    row.numa_node === d.numaNode
  );
}

function interfaceMatches(row: InterfaceRow, i: InventoryInterface): boolean {
  return (
    row.name === i.name &&
    row.vendor === i.vendor &&
    row.product === i.product &&
    row.firmware_version === i.firmwareVersion &&
    row.link_speed === i.linkSpeed &&
    row.interface_speed === i.interfaceSpeed &&
    row.link_connected === i.linkConnected &&
    row.mtu === i.mtu &&
    row.numa_node === i.numaNode &&
    row.sriov_max_vf === i.sriovMaxVf &&
    (i.sriovMaxVf === 0 || (row.tags ?? []).includes(SRIOV_TAG))
  );
}

/**
 * Every query that writes a commissioning inventory onto a machine, in the caller's transaction.
 * Rows are written only where they differ, so that applying the same output again changes
 * nothing (and does not move the machine's render_rev).
 */
@Injectable()
export class CommissioningInventoryRepository {
  constructor(private readonly ds: DataSource) {}

  /** Locks the machine row; null when there is no such machine. */
  async lockMachine(em: EntityManager, machineId: number): Promise<{ id: number; system_id: string; hostname: string } | null> {
    const [m] = await em.query('SELECT id, system_id, hostname FROM machines WHERE id = $1 FOR UPDATE', [machineId]);
    return m ?? null;
  }

  async writeInventory(em: EntityManager, machineId: number, inv: MachineInventory): Promise<InventoryChanges> {
    const machine = await this.writeMachine(em, machineId, inv);
    const numaNodes = await this.writeNumaNodes(em, machineId, inv.numaNodes);
    const disks = await this.writeDisks(em, machineId, inv.disks);
    const interfaces = await this.writeInterfaces(em, machineId, inv.interfaces);
    await this.writeVirtualTag(em, machineId, inv.virtual);
    return { machine, numaNodes, disks, interfaces };
  }

  /**
   * CPU, memory, hardware_info; the architecture only when none is set (the operator's or
   * enlistment's choice stands); the hardware UUID when no other machine has it (MAAS drops a
   * duplicated one); the boot method when the rack has not recorded one.
   */
  private async writeMachine(em: EntityManager, machineId: number, inv: MachineInventory): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `WITH next AS (
         SELECT $2::int AS cpu_count, $3::int AS cpu_speed, $4::int AS memory, $5::jsonb AS hardware_info,
                CASE WHEN m.architecture = '' AND $6::varchar IS NOT NULL THEN $6::varchar ELSE m.architecture END AS architecture,
                CASE WHEN $7::varchar IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM machines o WHERE o.hardware_uuid = $7::varchar AND o.id <> m.id)
                     THEN $7::varchar ELSE m.hardware_uuid END AS hardware_uuid,
                COALESCE(m.bios_boot_method, $8::varchar) AS bios_boot_method
           FROM machines m WHERE m.id = $1)
       UPDATE machines m
          SET cpu_count = n.cpu_count, cpu_speed = n.cpu_speed, memory = n.memory, hardware_info = n.hardware_info,
              architecture = n.architecture, hardware_uuid = n.hardware_uuid, bios_boot_method = n.bios_boot_method
         FROM next n
        WHERE m.id = $1
          AND (m.cpu_count, m.cpu_speed, m.memory, m.hardware_info, m.architecture, m.hardware_uuid, m.bios_boot_method)
              IS DISTINCT FROM (n.cpu_count, n.cpu_speed, n.memory, n.hardware_info, n.architecture, n.hardware_uuid, n.bios_boot_method)
       RETURNING m.id`,
      [machineId, inv.cpuCount, inv.cpuSpeed, inv.memory, JSON.stringify(inv.hardwareInfo), inv.architecture, inv.hardwareUuid, inv.biosBootMethod],
    );
    return rowCount(rows) > 0;
  }

  private async writeNumaNodes(em: EntityManager, machineId: number, nodes: InventoryNumaNode[]): Promise<{ written: number; removed: number }> {
    const written = nodes.length
      ? rowCount(
          await em.query(
            `INSERT INTO numa_nodes (machine_id, index, cores, memory)
             SELECT $1, n.index, ARRAY(SELECT jsonb_array_elements_text(n.cores)::int), n.memory
               FROM jsonb_to_recordset($2::jsonb) AS n(index int, cores jsonb, memory bigint)
             ON CONFLICT (machine_id, index) DO UPDATE SET cores = EXCLUDED.cores, memory = EXCLUDED.memory
              WHERE (numa_nodes.cores, numa_nodes.memory) IS DISTINCT FROM (EXCLUDED.cores, EXCLUDED.memory)
             RETURNING id`,
            [machineId, JSON.stringify(nodes)],
          ),
        )
      : 0;
    const removed = rowCount(
      await em.query('DELETE FROM numa_nodes WHERE machine_id = $1 AND NOT (index = ANY($2::int[])) RETURNING id', [
        machineId,
        nodes.map((n) => n.index),
      ]),
    );
    return { written, removed };
  }

  /**
   * Physical disks, matched to what the machine had by serial, else by id_path (MAAS): a match
   * keeps its id (and with it a chosen boot disk and storage layout), the rest are removed or
   * added. Names are unique per machine, so renamed disks pass through a temporary name first.
   * A storage layout naming a removed disk goes back to the default.
   */
  private async writeDisks(em: EntityManager, machineId: number, disks: InventoryDisk[]): Promise<InventoryChanges['disks']> {
    const existing: DiskRow[] = await em.query(
      `SELECT id, name, model, serial, id_path, size::text AS size, block_size, tags, firmware_version, numa_node
         FROM block_devices WHERE machine_id = $1 AND type = 'physical' ORDER BY id`,
      [machineId],
    );
    const unmatched = [...existing];
    const pairs: { row: DiskRow | null; disk: InventoryDisk }[] = disks.map((disk) => {
      const i = unmatched.findIndex((r) => (disk.serial ? r.serial === disk.serial : r.id_path === disk.idPath));
      return { row: i >= 0 ? unmatched.splice(i, 1)[0] : null, disk };
    });
    const changes: InventoryChanges['disks'] = { added: [], updated: [], removed: unmatched.map((r) => r.name) };
    if (unmatched.length) {
      const gone = unmatched.map((r) => r.id);
      await em.query('DELETE FROM block_devices WHERE id = ANY($1::int[])', [gone]);
      await em.query(
        `UPDATE machines SET storage_layout = NULL
          WHERE id = $1 AND storage_layout IS NOT NULL
            AND ((storage_layout->>'root_device')::int = ANY($2::int[]) OR (storage_layout->>'cache_device')::int = ANY($2::int[]))`,
        [machineId, gone],
      );
    }
    // Kept disks whose name changes move aside first, so that no name is held twice along the way.
    const aside = pairs.filter((p) => p.row && p.row.name !== p.disk.name);
    for (const p of aside) await em.query('UPDATE block_devices SET name = $2 WHERE id = $1', [p.row!.id, `${p.row!.name}.${p.row!.id}`]);
    for (const { row, disk } of pairs) {
      if (!row) continue;
      if (diskMatches(row, disk)) continue;
      await em.query(
        `UPDATE block_devices SET name = $2, model = $3, serial = $4, id_path = $5, size = $6, block_size = $7, tags = $8::text[],
                firmware_version = $9, numa_node = $10
          WHERE id = $1`,
        [row.id, disk.name, disk.model, disk.serial, disk.idPath, String(disk.size), disk.blockSize, disk.tags, disk.firmwareVersion, disk.numaNode],
      );
      changes.updated.push(disk.name);
    }
    for (const { row, disk } of pairs) {
      if (row) continue;
      await em.query(
        `INSERT INTO block_devices (machine_id, name, type, model, serial, id_path, size, block_size, tags, firmware_version, numa_node)
         VALUES ($1, $2, 'physical', $3, $4, $5, $6, $7, $8::text[], $9, $10)`,
        [machineId, disk.name, disk.model, disk.serial, disk.idPath, String(disk.size), disk.blockSize, disk.tags, disk.firmwareVersion, disk.numaNode],
      );
      changes.added.push(disk.name);
    }
    return changes;
  }

  /**
   * Physical interfaces, matched by MAC. A MAC another machine has moves to this one (MAAS: the
   * NIC was moved). Interfaces commissioning no longer sees are removed, as MAAS removes them;
   * a static address on one stays (its interface link cleared by the foreign key) and is linked
   * again when a NIC with its MAC comes back.
   */
  private async writeInterfaces(em: EntityManager, machineId: number, ifaces: InventoryInterface[]): Promise<InventoryChanges['interfaces']> {
    const macs = ifaces.map((i) => i.mac);
    const rows: InterfaceRow[] = await em.query(
      `SELECT id, machine_id, name, mac_address, vendor, product, firmware_version, link_speed, interface_speed, link_connected, mtu,
              numa_node, sriov_max_vf, tags
         FROM interfaces WHERE (machine_id = $1 OR mac_address = ANY($2::varchar[])) AND type = 'physical' ORDER BY id`,
      [machineId, macs],
    );
    const moved = rows.filter((r) => r.machine_id !== machineId);
    const mine = rows.filter((r) => r.machine_id === machineId);
    const gone = mine.filter((r) => !macs.includes(r.mac_address));
    const stale = [...moved, ...gone];
    if (stale.length) await em.query('DELETE FROM interfaces WHERE id = ANY($1::int[])', [stale.map((r) => r.id)]);
    const changes: InventoryChanges['interfaces'] = {
      added: [],
      updated: [],
      removed: gone.map((r) => r.name),
      movedFrom: moved.map((r) => ({ mac: r.mac_address, machineId: r.machine_id })),
    };
    for (const i of ifaces) {
      const row = mine.find((r) => r.mac_address === i.mac);
      if (row) {
        if (interfaceMatches(row, i)) continue;
        await em.query(
          `UPDATE interfaces SET name = $2, vendor = $3, product = $4, firmware_version = $5, link_speed = $6, interface_speed = $7,
                  link_connected = $8, mtu = $9, numa_node = $10, sriov_max_vf = $11,
                  tags = CASE WHEN $11 > 0 AND NOT ($12 = ANY(tags)) THEN array_append(tags, $12) ELSE tags END
            WHERE id = $1`,
          [row.id, i.name, i.vendor, i.product, i.firmwareVersion, i.linkSpeed, i.interfaceSpeed, i.linkConnected, i.mtu, i.numaNode, i.sriovMaxVf, SRIOV_TAG],
        );
        changes.updated.push(i.name);
        continue;
      }
      const [created]: { id: number }[] = await em.query(
        `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, vendor, product, firmware_version, link_speed,
                                 interface_speed, link_connected, mtu, numa_node, sriov_max_vf, tags)
         VALUES ($1, $2, 'physical', $3, true, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text[])
         RETURNING id`,
        [machineId, i.name, i.mac, i.vendor, i.product, i.firmwareVersion, i.linkSpeed, i.interfaceSpeed, i.linkConnected, i.mtu, i.numaNode, i.sriovMaxVf,
          i.sriovMaxVf > 0 ? [SRIOV_TAG] : []],
      );
      await em.query('UPDATE static_ip_addresses SET interface_id = $1 WHERE mac_address = $2 AND interface_id IS NULL', [created.id, i.mac]);
      changes.added.push(i.name);
    }
    return changes;
  }

  /** MAAS's `virtual` tag: on when the system is a VM or container, off when it is physical. */
  private async writeVirtualTag(em: EntityManager, machineId: number, isVirtual: boolean): Promise<void> {
    if (isVirtual) {
      await em.query(`INSERT INTO tags (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [VIRTUAL_TAG]);
      await em.query(
        `INSERT INTO machine_tags (machine_id, tag_id) SELECT $1, id FROM tags WHERE name = $2 ON CONFLICT DO NOTHING`,
        [machineId, VIRTUAL_TAG],
      );
    } else {
      await em.query(`DELETE FROM machine_tags WHERE machine_id = $1 AND tag_id = (SELECT id FROM tags WHERE name = $2)`, [machineId, VIRTUAL_TAG]);
    }
  }

  /**
   * Marks the physical interface with this MAC as the one the machine boots from, and no other.
   * False when the machine has no such interface (nothing changes).
   */
  async setBootInterface(em: EntityManager, machineId: number, mac: string): Promise<boolean> {
    const [found] = await em.query(`SELECT id FROM interfaces WHERE machine_id = $1 AND mac_address = $2 AND type = 'physical'`, [machineId, mac]);
    if (!found) return false;
    await em.query('UPDATE interfaces SET is_boot = (id = $2) WHERE machine_id = $1 AND is_boot IS DISTINCT FROM (id = $2)', [machineId, found.id]);
    return true;
  }

  /** Keeps one probed output, replacing what the machine reported before (no write when it is the same). */
  async storeDetail(em: EntityManager, machineId: number, name: ProbedDetailName, data: Buffer): Promise<void> {
    await em.query(
      `INSERT INTO machine_probed_details (machine_id, name, data) VALUES ($1, $2, $3)
       ON CONFLICT (machine_id, name) DO UPDATE SET data = EXCLUDED.data, updated = now()
        WHERE machine_probed_details.data IS DISTINCT FROM EXCLUDED.data`,
      [machineId, name, data],
    );
  }

  /** The hardware_info commissioning found (MAAS keys; unknown ones absent). */
  async hardwareInfo(em: EntityManager, machineId: number): Promise<Record<string, string>> {
    const [m] = await em.query('SELECT hardware_info FROM machines WHERE id = $1', [machineId]);
    return m?.hardware_info ?? {};
  }

  /** The probed outputs of a machine, by name (missing ones absent). */
  async details(machineId: number, names: readonly ProbedDetailName[], em?: EntityManager): Promise<Partial<Record<ProbedDetailName, Buffer>>> {
    const rows: { name: ProbedDetailName; data: Buffer }[] = await (em ?? this.ds.manager).query(
      'SELECT name, data FROM machine_probed_details WHERE machine_id = $1 AND name = ANY($2::varchar[])',
      [machineId, names],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.data]));
  }
}

/** Rows a data-modifying query returned (pg gives the rows, or [rows, count] for some statements). */
function rowCount(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return Array.isArray(result) ? result.length : 0;
}
