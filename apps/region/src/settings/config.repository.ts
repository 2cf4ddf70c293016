import { Inject, Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import type { ConfigValue } from './config.catalogue';

/** The `config` table, and the channel every region hears its changes on. */
@Injectable()
export class ConfigRepository {
  constructor(
    private readonly ds: DataSource,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  async all(): Promise<Map<string, ConfigValue>> {
    const rows: { name: string; value: ConfigValue }[] = await this.ds.query(`SELECT name, value FROM config`);
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  async set(name: string, value: ConfigValue): Promise<void> {
    await this.ds.query(
      `INSERT INTO config (name, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [name, JSON.stringify(value)],
    );
  }

  /** The URL of the first default package repository for any of `arches` (MAAS's get_main_archive_url), or null. */
  async archiveUrl(arches: readonly string[]): Promise<string | null> {
    const [row] = await this.ds.query(`SELECT url FROM package_repositories WHERE "default" AND arches && $1::text[] ORDER BY id LIMIT 1`, [arches]);
    return row?.url ?? null;
  }

  /** Points that repository at `url`, or creates it (called `name`) when there is none, as MAAS's UbuntuForm does. */
  async setArchiveUrl(name: string, arches: readonly string[], url: string): Promise<void> {
    await this.ds.transaction(async (em) => {
      const [row] = await em.query(
        `SELECT id FROM package_repositories WHERE "default" AND arches && $1::text[] ORDER BY id LIMIT 1 FOR UPDATE`,
        [arches],
      );
      if (row) await em.query(`UPDATE package_repositories SET url = $2, updated = now() WHERE id = $1`, [row.id, url]);
      else await em.query(`INSERT INTO package_repositories (name, url, arches, "default") VALUES ($1, $2, $3, true)`, [name, url, arches]);
    });
  }

  /**
   * Listens on `kiln_config` on a connection of its own (a pooled one would go back to the pool).
   * `onChange` gets each changed name; `onLost` is called once if the connection fails. Returns
   * a function that stops listening.
   */
  async listen(onChange: (name: string) => void, onLost: (err: Error) => void): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: this.config.db.url });
    let lost = false;
    const fail = (err: Error) => {
      if (lost) return;
      lost = true;
      onLost(err);
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('config listener connection ended')));
    client.on('notification', (n) => {
      if (n.channel === 'kiln_config') onChange(n.payload ?? '');
    });
    await client.connect();
    await client.query('LISTEN kiln_config');
    return async () => {
      lost = true;
      await client.end().catch(() => undefined);
    };
  }
}
