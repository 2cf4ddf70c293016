import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { BootSource, BootSourceFields, BootSourceSelection, BootSourceSelectionFields } from './boot-source.form';

const SOURCE_COLS = `id, url, keyring_filename AS "keyringFilename", keyring_data AS "keyringData", created, updated`;
const SELECTION_COLS = `id, boot_source_id AS "bootSourceId", os, release, arches, subarches, labels`;

/** Every query on boot sources and their selections. */
@Injectable()
export class BootSourcesRepository {
  constructor(private readonly ds: DataSource) {}

  list(): Promise<BootSource[]> {
    return this.ds.query(`SELECT ${SOURCE_COLS} FROM boot_sources ORDER BY id`);
  }

  async find(id: number): Promise<BootSource | null> {
    const rows: BootSource[] = await this.ds.query(`SELECT ${SOURCE_COLS} FROM boot_sources WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async urlTaken(url: string, exceptId: number): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM boot_sources WHERE url = $1 AND id <> $2`, [url, exceptId]);
    return rows.length > 0;
  }

  /** The new source's id, or null when another source has the URL. */
  async insert(f: BootSourceFields): Promise<number | null> {
    const rows: { id: number }[] = await this.ds.query(
      `INSERT INTO boot_sources (url, keyring_filename, keyring_data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id`,
      [f.url, f.keyringFilename, f.keyringData],
    );
    return rows[0]?.id ?? null;
  }

  async update(id: number, f: BootSourceFields): Promise<void> {
    await this.ds.query(`UPDATE boot_sources SET url = $2, keyring_filename = $3, keyring_data = $4, updated = now() WHERE id = $1`, [
      id,
      f.url,
      f.keyringFilename,
      f.keyringData,
    ]);
  }

  /** Deletes the source; its selections go with it (ON DELETE CASCADE). */
  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM boot_sources WHERE id = $1`, [id]);
  }

  listSelections(sourceId: number): Promise<BootSourceSelection[]> {
    return this.ds.query(`SELECT ${SELECTION_COLS} FROM boot_source_selections WHERE boot_source_id = $1 ORDER BY id`, [sourceId]);
  }

  async findSelection(sourceId: number, id: number): Promise<BootSourceSelection | null> {
    const rows: BootSourceSelection[] = await this.ds.query(
      `SELECT ${SELECTION_COLS} FROM boot_source_selections WHERE boot_source_id = $1 AND id = $2`,
      [sourceId, id],
    );
    return rows[0] ?? null;
  }

  async selectionTaken(sourceId: number, os: string, release: string, exceptId: number): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `SELECT 1 FROM boot_source_selections WHERE boot_source_id = $1 AND os = $2 AND release = $3 AND id <> $4`,
      [sourceId, os, release, exceptId],
    );
    return rows.length > 0;
  }

  /** The new selection's id, or null when the source already has (os, release). */
  async insertSelection(sourceId: number, f: BootSourceSelectionFields): Promise<number | null> {
    const rows: { id: number }[] = await this.ds.query(
      `INSERT INTO boot_source_selections (boot_source_id, os, release, arches, subarches, labels) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING RETURNING id`,
      [sourceId, f.os, f.release, f.arches, f.subarches, f.labels],
    );
    return rows[0]?.id ?? null;
  }

  async updateSelection(id: number, f: BootSourceSelectionFields): Promise<void> {
    await this.ds.query(
      `UPDATE boot_source_selections SET os = $2, release = $3, arches = $4, subarches = $5, labels = $6, updated = now() WHERE id = $1`,
      [id, f.os, f.release, f.arches, f.subarches, f.labels],
    );
  }

  async deleteSelection(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM boot_source_selections WHERE id = $1`, [id]);
  }
}
