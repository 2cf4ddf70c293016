import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface SslKeyRow {
  id: number;
  userId: number;
  key: string;
}

const COLS = `id, user_id AS "userId", key`;

/** Every query on users' SSL keys. */
@Injectable()
export class SslKeysRepository {
  constructor(private readonly ds: DataSource) {}

  list(userId: number): Promise<SslKeyRow[]> {
    return this.ds.query(`SELECT ${COLS} FROM ssl_keys WHERE user_id = $1 ORDER BY id`, [userId]);
  }

  async find(id: number): Promise<SslKeyRow | null> {
    const rows: SslKeyRow[] = await this.ds.query(`SELECT ${COLS} FROM ssl_keys WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** The new key, or null when the user already has it. */
  async insert(userId: number, key: string): Promise<SslKeyRow | null> {
    const rows: SslKeyRow[] = await this.ds.query(
      `INSERT INTO ssl_keys (user_id, key) VALUES ($1, $2) ON CONFLICT (user_id, key) DO NOTHING RETURNING ${COLS}`,
      [userId, key],
    );
    return rows[0] ?? null;
  }

  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM ssl_keys WHERE id = $1`, [id]);
  }
}
