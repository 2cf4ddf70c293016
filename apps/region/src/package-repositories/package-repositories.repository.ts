import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PackageRepository, PackageRepositoryFields } from './package-repository.form';

const COLS = `id, name, url, distributions, disabled_pockets AS "disabledPockets", disabled_components AS "disabledComponents",
  disable_sources AS "disableSources", components, arches, key, "default", enabled`;

/** Every query on package repositories. */
@Injectable()
export class PackageRepositoriesRepository {
  constructor(private readonly ds: DataSource) {}

  list(): Promise<PackageRepository[]> {
    return this.ds.query(`SELECT ${COLS} FROM package_repositories ORDER BY id`);
  }

  async find(id: number): Promise<PackageRepository | null> {
    const rows: PackageRepository[] = await this.ds.query(`SELECT ${COLS} FROM package_repositories WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async nameTaken(name: string, exceptId: number): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM package_repositories WHERE name = $1 AND id <> $2`, [name, exceptId]);
    return rows.length > 0;
  }

  async insert(f: PackageRepositoryFields): Promise<number> {
    const rows: { id: number }[] = await this.ds.query(
      `INSERT INTO package_repositories (name, url, distributions, disabled_pockets, disabled_components, disable_sources, components, arches, key, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [f.name, f.url, f.distributions, f.disabledPockets, f.disabledComponents, f.disableSources, f.components, f.arches, f.key, f.enabled],
    );
    return rows[0].id;
  }

  async update(id: number, f: PackageRepositoryFields): Promise<void> {
    await this.ds.query(
      `UPDATE package_repositories SET name = $2, url = $3, distributions = $4, disabled_pockets = $5, disabled_components = $6,
              disable_sources = $7, components = $8, arches = $9, key = $10, enabled = $11, updated = now() WHERE id = $1`,
      [id, f.name, f.url, f.distributions, f.disabledPockets, f.disabledComponents, f.disableSources, f.components, f.arches, f.key, f.enabled],
    );
  }

  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM package_repositories WHERE id = $1`, [id]);
  }
}
