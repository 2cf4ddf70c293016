import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { InterfaceNetRows, InterfaceRow, loadInterfaces } from '../machines/machines.repository';

export interface DeviceRow {
  id: number;
  system_id: string;
  hostname: string;
  description: string;
  domain_id: number;
  domain_name: string;
  domain_authoritative: boolean;
  domain_ttl: number | null;
  domain_is_default: boolean;
  zone_id: number;
  zone_name: string;
  zone_description: string;
  owner_id: number | null;
  owner: string | null;
  parent_id: number | null;
  parent: string | null;
  owner_data: Record<string, string>;
}

export interface DeviceFilter {
  systemIds?: string[];
  hostnames?: string[];
  macs?: string[];
  domains?: string[];
  zones?: string[];
  /** Only devices without an owner or owned by this user; null: every device. */
  visibleTo: number | null;
}

export interface DeviceValues {
  hostname: string;
  description: string;
  domainId: number;
  zoneId: number;
  parentId: number | null;
  ownerId: number | null;
}

const SELECT = `
  SELECT v.id, v.system_id, v.hostname, v.description, v.domain_id, d.name AS domain_name, d.authoritative AS domain_authoritative,
         d.ttl AS domain_ttl, d.is_default AS domain_is_default, v.zone_id, z.name AS zone_name, z.description AS zone_description,
         v.owner_id, u.username AS owner, v.parent_id, m.system_id AS parent, v.owner_data
    FROM devices v JOIN domains d ON d.id = v.domain_id JOIN zones z ON z.id = v.zone_id
    LEFT JOIN users u ON u.id = v.owner_id LEFT JOIN machines m ON m.id = v.parent_id`;

/** Every query on devices and their interfaces. */
@Injectable()
export class DevicesRepository {
  constructor(private readonly ds: DataSource) {}

  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  list(f: DeviceFilter): Promise<DeviceRow[]> {
    return this.ds.query(
      `${SELECT}
        WHERE ($1::text[] IS NULL OR v.system_id = ANY($1)) AND ($2::text[] IS NULL OR v.hostname = ANY($2))
          AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM interfaces i WHERE i.device_id = v.id AND i.mac_address = ANY($3)))
          AND ($4::text[] IS NULL OR d.name = ANY($4)) AND ($5::text[] IS NULL OR z.name = ANY($5))
          AND ($6::int IS NULL OR v.owner_id IS NULL OR v.owner_id = $6)
        ORDER BY v.id`,
      [f.systemIds ?? null, f.hostnames ?? null, f.macs ?? null, f.domains ?? null, f.zones ?? null, f.visibleTo],
    );
  }

  async bySystemId(systemId: string): Promise<DeviceRow | null> {
    const [row] = await this.ds.query(`${SELECT} WHERE v.system_id = $1`, [systemId]);
    return row ?? null;
  }

  /** The devices' interfaces with their links, and the VLANs and subnets those refer to. */
  interfaces(deviceIds: number[]): Promise<{ interfaces: InterfaceRow[]; net: InterfaceNetRows }> {
    return loadInterfaces(this.ds.manager, deviceIds, 'device');
  }

  /** Names of the node already using each MAC (machines' and devices' interfaces). */
  async macOwners(macs: string[], exceptDeviceId: number | null): Promise<{ mac: string; hostname: string }[]> {
    return this.ds.query(
      `SELECT i.mac_address AS mac, m.hostname FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE i.mac_address = ANY($1) AND i.type = 'physical'
       UNION ALL
       SELECT i.mac_address, v.hostname FROM interfaces i JOIN devices v ON v.id = i.device_id
        WHERE i.mac_address = ANY($1) AND i.type = 'physical' AND v.id IS DISTINCT FROM $2`,
      [macs, exceptDeviceId],
    );
  }

  /** Whether a node (machine, device, rack) other than this device has the hostname. */
  async hostnameTaken(hostname: string, exceptDeviceId: number | null): Promise<boolean> {
    const [row] = await this.ds.query(
      `SELECT 1 FROM machines WHERE hostname = $1
       UNION ALL SELECT 1 FROM devices WHERE hostname = $1 AND id IS DISTINCT FROM $2
       UNION ALL SELECT 1 FROM rack_controllers WHERE hostname = $1 LIMIT 1`,
      [hostname, exceptDeviceId],
    );
    return !!row;
  }

  async systemIdTaken(systemId: string): Promise<boolean> {
    const [row] = await this.ds.query(
      `SELECT 1 FROM machines WHERE system_id = $1 UNION ALL SELECT 1 FROM devices WHERE system_id = $1
       UNION ALL SELECT 1 FROM rack_controllers WHERE system_id = $1 UNION ALL SELECT 1 FROM region_controllers WHERE system_id = $1 LIMIT 1`,
      [systemId],
    );
    return !!row;
  }

  /** A domain or zone by name (or id). */
  async idByName(table: 'domains' | 'zones', name: string): Promise<number | null> {
    const [row] = await this.ds.query(`SELECT id FROM ${table} WHERE name = $1 OR ($1 ~ '^[0-9]{1,9}$' AND id = $1::int) ORDER BY (name = $1) DESC LIMIT 1`, [name]);
    return row?.id ?? null;
  }

  async defaultDomainId(): Promise<number | null> {
    const [row] = await this.ds.query(`SELECT id FROM domains WHERE is_default ORDER BY id LIMIT 1`);
    return row?.id ?? null;
  }

  async machineIdBySystemId(systemId: string): Promise<number | null> {
    const [row] = await this.ds.query(`SELECT id FROM machines WHERE system_id = $1`, [systemId]);
    return row?.id ?? null;
  }

  async insert(em: EntityManager, systemId: string, v: DeviceValues): Promise<number> {
    const [row] = await em.query(
      `INSERT INTO devices (system_id, hostname, description, domain_id, zone_id, parent_id, owner_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [systemId, v.hostname, v.description, v.domainId, v.zoneId, v.parentId, v.ownerId],
    );
    return row.id as number;
  }

  async insertInterfaces(em: EntityManager, deviceId: number, macs: string[]): Promise<void> {
    for (const [i, mac] of macs.entries()) {
      await em.query(`INSERT INTO interfaces (device_id, name, type, mac_address) VALUES ($1, $2, 'physical', $3)`, [deviceId, `eth${i}`, mac]);
    }
  }

  async update(id: number, v: DeviceValues): Promise<void> {
    await this.ds.query(
      `UPDATE devices SET hostname = $2, description = $3, domain_id = $4, zone_id = $5, parent_id = $6, owner_id = $7, updated = now() WHERE id = $1`,
      [id, v.hostname, v.description, v.domainId, v.zoneId, v.parentId, v.ownerId],
    );
  }

  async setOwnerData(id: number, data: Record<string, string>): Promise<void> {
    await this.ds.query(`UPDATE devices SET owner_data = $2::jsonb, updated = now() WHERE id = $1`, [id, JSON.stringify(data)]);
  }

  /**
   * MAAS's restore of a device's networking: its physical interfaces only, one per MAC, named
   * eth0, eth1, ... again, without links (deleting a link frees its static address).
   */
  async resetInterfaces(em: EntityManager, deviceId: number): Promise<void> {
    await em.query(`DELETE FROM interfaces WHERE device_id = $1 AND type <> 'physical'`, [deviceId]);
    await em.query(`DELETE FROM interface_links l USING interfaces i WHERE i.id = l.interface_id AND i.device_id = $1`, [deviceId]);
    // Two passes, so a rename never meets a name another interface still holds.
    await em.query(`UPDATE interfaces SET name = 'restore-' || id WHERE device_id = $1`, [deviceId]);
    await em.query(
      `UPDATE interfaces i SET name = 'eth' || (n.rn - 1), vlan_id = NULL, tags = '{}', mtu = 1500, enabled = true FROM
         (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM interfaces WHERE device_id = $1) n WHERE n.id = i.id`,
      [deviceId],
    );
  }

  async setZone(systemIds: string[], zoneId: number): Promise<void> {
    await this.ds.query(`UPDATE devices SET zone_id = $2, updated = now() WHERE system_id = ANY($1)`, [systemIds, zoneId]);
  }

  async macRegistered(mac: string): Promise<boolean> {
    const [row] = await this.ds.query(`SELECT 1 FROM interfaces WHERE mac_address = $1 AND device_id IS NOT NULL`, [mac]);
    return !!row;
  }

  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM devices WHERE id = $1`, [id]);
  }
}
