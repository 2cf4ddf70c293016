import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { RackInterfaceRecord } from '@kiln/db';

/** Serialises every rack's network sync, so two racks on one new network make one fabric, not two. */
const RACK_NETWORKS_LOCK = 0x6b6c6e01;

/** The SQL behind linking a rack's interfaces to fabrics, VLANs and subnets. */
@Injectable()
export class RackNetworksRepository {
  constructor(private readonly ds: DataSource) {}

  /** Runs `work` in one transaction holding the rack-networks lock. */
  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock($1)`, [RACK_NETWORKS_LOCK]);
      return work(em);
    });
  }

  /** The rack (locked) and the interfaces stored for it; null when unknown. */
  async rackForUpdate(em: EntityManager, systemId: string): Promise<{ id: number; interfaces: RackInterfaceRecord[] } | null> {
    const [row] = await em.query(`SELECT id, interfaces FROM rack_controllers WHERE system_id = $1 FOR UPDATE`, [systemId]);
    return row ? { id: row.id, interfaces: row.interfaces ?? [] } : null;
  }

  /** The subnet with exactly this CIDR, with its VLAN. */
  async subnetByCidr(em: EntityManager, cidr: string): Promise<{ id: number; vlanId: number } | null> {
    const [row] = await em.query(`SELECT id, vlan_id FROM subnets WHERE cidr = $1::cidr`, [cidr]);
    return row ? { id: row.id, vlanId: row.vlan_id } : null;
  }

  /** A VLAN's fabric and vid; null when it no longer exists. */
  async vlan(em: EntityManager, id: number): Promise<{ id: number; fabricId: number; vid: number } | null> {
    const [row] = await em.query(`SELECT id, fabric_id, vid FROM vlans WHERE id = $1`, [id]);
    return row ? { id: row.id, fabricId: row.fabric_id, vid: row.vid } : null;
  }

  /** A new fabric (named fabric-<id>, as MAAS) with its untagged VLAN; the VLAN's id. */
  async newFabric(em: EntityManager): Promise<{ fabricId: number; untaggedVlanId: number }> {
    const [f] = await em.query(`INSERT INTO fabrics (name) VALUES ('fabric-new-' || txid_current() || '-' || clock_timestamp()) RETURNING id`);
    await em.query(`UPDATE fabrics SET name = 'fabric-' || id WHERE id = $1`, [f.id]);
    const [v] = await em.query(`INSERT INTO vlans (fabric_id, vid) VALUES ($1, 0) RETURNING id`, [f.id]);
    return { fabricId: f.id, untaggedVlanId: v.id };
  }

  /** The VLAN `vid` of a fabric, created when missing. */
  async ensureVlan(em: EntityManager, fabricId: number, vid: number): Promise<number> {
    await em.query(`INSERT INTO vlans (fabric_id, vid) VALUES ($1, $2) ON CONFLICT (fabric_id, vid) DO NOTHING`, [fabricId, vid]);
    const [v] = await em.query(`SELECT id FROM vlans WHERE fabric_id = $1 AND vid = $2`, [fabricId, vid]);
    return v.id;
  }

  /** A new subnet named after its CIDR (as MAAS), on a VLAN; null when the name is taken by another subnet. */
  async insertSubnet(em: EntityManager, cidr: string, vlanId: number): Promise<number | null> {
    const rows = await em.query(`INSERT INTO subnets (name, vlan_id, cidr) VALUES ($1, $2, $3::cidr) ON CONFLICT DO NOTHING RETURNING id`, [cidr, vlanId, cidr]);
    return rows[0]?.id ?? null;
  }

  async saveInterfaces(em: EntityManager, rackId: number, interfaces: RackInterfaceRecord[]): Promise<void> {
    await em.query(`UPDATE rack_controllers SET interfaces = $2::jsonb WHERE id = $1`, [rackId, JSON.stringify(interfaces)]);
  }
}
