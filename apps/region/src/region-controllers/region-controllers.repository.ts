import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface RegionRow {
  id: number;
  system_id: string;
  hostname: string;
  pid: number;
  version: string;
  last_seen: Date;
  created: Date;
}

const SELECT = `SELECT id, system_id, hostname, pid, version, last_seen, created FROM region_controllers`;

/** Every query on the region processes' records. */
@Injectable()
export class RegionControllersRepository {
  constructor(private readonly ds: DataSource) {}

  async insert(r: { systemId: string; hostname: string; pid: number; version: string }): Promise<void> {
    await this.ds.query(`INSERT INTO region_controllers (system_id, hostname, pid, version, last_seen) VALUES ($1, $2, $3, $4, now())`, [
      r.systemId,
      r.hostname,
      r.pid,
      r.version,
    ]);
  }

  /** Moves last_seen; false when the record is gone (deleted while this region was silent). */
  async heartbeat(systemId: string): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [, affected] = await this.ds.query(`UPDATE region_controllers SET last_seen = now() WHERE system_id = $1`, [systemId]);
    return affected > 0;
  }

  list(): Promise<RegionRow[]> {
    return this.ds.query(`${SELECT} ORDER BY id`);
  }

  async bySystemId(systemId: string): Promise<RegionRow | null> {
    const [row] = await this.ds.query(`${SELECT} WHERE system_id = $1`, [systemId]);
    return row ?? null;
  }

  async systemIdTaken(systemId: string): Promise<boolean> {
    const [row] = await this.ds.query(
      `SELECT 1 FROM machines WHERE system_id = $1 UNION ALL SELECT 1 FROM devices WHERE system_id = $1
       UNION ALL SELECT 1 FROM rack_controllers WHERE system_id = $1 UNION ALL SELECT 1 FROM region_controllers WHERE system_id = $1 LIMIT 1`,
      [systemId],
    );
    return !!row;
  }

  /** The default domain, which region FQDNs are in. */
  async defaultDomain(): Promise<{ id: number; name: string }> {
    const [row] = await this.ds.query(`SELECT id, name FROM domains ORDER BY is_default DESC, id LIMIT 1`);
    return row ?? { id: 0, name: 'maas' };
  }

  async delete(systemId: string): Promise<void> {
    await this.ds.query(`DELETE FROM region_controllers WHERE system_id = $1`, [systemId]);
  }
}
