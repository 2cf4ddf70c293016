import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface LicenseKeyRow {
  osystem: string;
  distroSeries: string;
  licenseKey: string;
}

const COLS = `osystem, distro_series AS "distroSeries", license_key AS "licenseKey"`;

/** Every query on license keys. */
@Injectable()
export class LicenseKeysRepository {
  constructor(private readonly ds: DataSource) {}

  list(): Promise<LicenseKeyRow[]> {
    return this.ds.query(`SELECT ${COLS} FROM license_keys ORDER BY osystem, distro_series`);
  }

  async find(osystem: string, series: string): Promise<LicenseKeyRow | null> {
    const rows: LicenseKeyRow[] = await this.ds.query(`SELECT ${COLS} FROM license_keys WHERE osystem = $1 AND distro_series = $2`, [osystem, series]);
    return rows[0] ?? null;
  }

  /** The new key, or null when the pair already has one. */
  async insert(k: LicenseKeyRow): Promise<LicenseKeyRow | null> {
    const rows: LicenseKeyRow[] = await this.ds.query(
      `INSERT INTO license_keys (osystem, distro_series, license_key) VALUES ($1, $2, $3) ON CONFLICT (osystem, distro_series) DO NOTHING RETURNING ${COLS}`,
      [k.osystem, k.distroSeries, k.licenseKey],
    );
    return rows[0] ?? null;
  }

  async updateKey(osystem: string, series: string, licenseKey: string): Promise<void> {
    await this.ds.query(`UPDATE license_keys SET license_key = $3 WHERE osystem = $1 AND distro_series = $2`, [osystem, series, licenseKey]);
  }

  async delete(osystem: string, series: string): Promise<void> {
    await this.ds.query(`DELETE FROM license_keys WHERE osystem = $1 AND distro_series = $2`, [osystem, series]);
  }
}
