import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface SpaceRow {
  id: number;
  name: string;
  description: string;
}

/** Every query on spaces. A space's VLANs and subnets come from the networking repository. */
@Injectable()
export class SpacesRepository {
  constructor(private readonly ds: DataSource) {}

  async list(): Promise<SpaceRow[]> {
    return this.ds.query(`SELECT id, name, description FROM spaces ORDER BY id`);
  }

  /** By id or by name (MAAS's space specifier). */
  async byKey(key: string): Promise<SpaceRow | null> {
    const [row] = await this.ds.query(
      `SELECT id, name, description FROM spaces WHERE ($1 ~ '^[0-9]{1,9}$' AND id = $1::int) OR name = $1 ORDER BY (name = $1) LIMIT 1`,
      [key],
    );
    return row ?? null;
  }

  async nameTaken(name: string, exceptId: number | null): Promise<boolean> {
    const [row] = await this.ds.query(`SELECT 1 FROM spaces WHERE name = $1 AND id IS DISTINCT FROM $2`, [name, exceptId]);
    return !!row;
  }

  /** Inserts a space; without a name it is called space-<id>, as MAAS names it. */
  async insert(name: string | null, description: string): Promise<number> {
    return this.ds.transaction(async (em) => {
      const [row] = await em.query(`INSERT INTO spaces (name, description) VALUES (COALESCE($1, 'space-' || currval(pg_get_serial_sequence('spaces', 'id'))), $2) RETURNING id`, [
        name,
        description,
      ]);
      return row.id as number;
    });
  }

  async update(id: number, name: string, description: string): Promise<void> {
    await this.ds.query(`UPDATE spaces SET name = $2, description = $3, updated = now() WHERE id = $1`, [id, name, description]);
  }

  /** Deletes the space; its VLANs fall back to the undefined space (the foreign key sets NULL). */
  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM spaces WHERE id = $1`, [id]);
  }

  async anyVlanWithoutSpace(): Promise<boolean> {
    const [row] = await this.ds.query(`SELECT 1 FROM vlans WHERE space_id IS NULL LIMIT 1`);
    return !!row;
  }
}
