import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StaticRouteRow {
  id: number;
  source_id: number;
  destination_id: number;
  gateway_ip: string;
  metric: number;
}

const SELECT = `SELECT id, source_id, destination_id, host(gateway_ip) AS gateway_ip, metric FROM static_routes`;

/** Every query on static routes. */
@Injectable()
export class StaticRoutesRepository {
  constructor(private readonly ds: DataSource) {}

  list(): Promise<StaticRouteRow[]> {
    return this.ds.query(`${SELECT} ORDER BY id`);
  }

  async byId(id: number): Promise<StaticRouteRow | null> {
    const [row] = await this.ds.query(`${SELECT} WHERE id = $1`, [id]);
    return row ?? null;
  }

  async duplicate(r: Omit<StaticRouteRow, 'id' | 'metric'>, exceptId: number | null): Promise<boolean> {
    const [row] = await this.ds.query(
      `SELECT 1 FROM static_routes WHERE source_id = $1 AND destination_id = $2 AND gateway_ip = $3::inet AND id IS DISTINCT FROM $4`,
      [r.source_id, r.destination_id, r.gateway_ip, exceptId],
    );
    return !!row;
  }

  async insert(r: Omit<StaticRouteRow, 'id'>): Promise<number> {
    const [row] = await this.ds.query(`INSERT INTO static_routes (source_id, destination_id, gateway_ip, metric) VALUES ($1, $2, $3, $4) RETURNING id`, [
      r.source_id,
      r.destination_id,
      r.gateway_ip,
      r.metric,
    ]);
    return row.id as number;
  }

  async update(r: StaticRouteRow): Promise<void> {
    await this.ds.query(`UPDATE static_routes SET source_id = $2, destination_id = $3, gateway_ip = $4, metric = $5, updated = now() WHERE id = $1`, [
      r.id,
      r.source_id,
      r.destination_id,
      r.gateway_ip,
      r.metric,
    ]);
  }

  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM static_routes WHERE id = $1`, [id]);
  }
}
