import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';
import { licenseKeyErrors } from './license-key.validator';
import { LicenseKeyRow, LicenseKeysRepository } from './license-keys.repository';

/** License keys of operating systems that need one, per OS and series (administrators only). */
@Injectable()
export class LicenseKeysService {
  constructor(private readonly repo: LicenseKeysRepository) {}

  list(): Promise<LicenseKeyRow[]> {
    return this.repo.list();
  }

  async create(input: { osystem?: string; distroSeries?: string; licenseKey?: string }): Promise<LicenseKeyRow> {
    const k = { osystem: input.osystem?.trim() ?? '', distroSeries: input.distroSeries?.trim() ?? '', licenseKey: input.licenseKey?.trim() ?? '' };
    const errors = licenseKeyErrors(k.osystem, k.distroSeries, k.licenseKey);
    if (Object.keys(errors).length) throw invalid(errors);
    const row = await this.repo.insert(k);
    if (!row) throw invalid({ __all__: ['License key with this Osystem and Distro series already exists.'] });
    return row;
  }

  async get(osystem: string, series: string): Promise<LicenseKeyRow> {
    const k = await this.repo.find(osystem, series);
    if (!k) throw notFound('No LicenseKey matches the given query.');
    return k;
  }

  async update(osystem: string, series: string, licenseKey: string | undefined): Promise<LicenseKeyRow> {
    const k = await this.get(osystem, series);
    if (licenseKey === undefined) return k;
    const errors = licenseKeyErrors(k.osystem, k.distroSeries, licenseKey.trim());
    if (Object.keys(errors).length) throw invalid(errors);
    await this.repo.updateKey(osystem, series, licenseKey.trim());
    return this.get(osystem, series);
  }

  async delete(osystem: string, series: string): Promise<void> {
    await this.get(osystem, series);
    await this.repo.delete(osystem, series);
  }
}
