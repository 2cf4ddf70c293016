import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse } from '../api/api.types';
import type { LicenseKeyRow } from './license-keys.repository';
import { LicenseKeysService } from './license-keys.service';

const json = (k: LicenseKeyRow) => ({
  osystem: k.osystem,
  distro_series: k.distroSeries,
  license_key: k.licenseKey,
  resource_uri: `/MAAS/api/2.0/license-key/${k.osystem}/${k.distroSeries}`,
});

const KEY_PARAMS = [
  { name: 'osystem', required: true, doc: 'Operating system that the key belongs to (Kiln accepts windows, whose key format it checks).' },
  { name: 'distro_series', required: true, doc: 'OS release that the key belongs to.' },
];

/** license-keys/ and license-key/{osystem}/{distro_series}: MAAS's LicenseKeysHandler and LicenseKeyHandler. */
@Injectable()
export class LicenseKeysApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly keys: LicenseKeysService,
  ) {}

  onModuleInit() {
    const os = (r: ApiRequest) => r.pathParams.osystem;
    const series = (r: ApiRequest) => r.pathParams.distro_series;
    this.registry.register(
      {
        auth: {
          name: 'LicenseKeysHandler',
          doc: 'Manage the license keys.',
          path: '/MAAS/api/2.0/license-keys/',
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'List license keys', permission: 'admin', run: async () => (await this.keys.list()).map(json) },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Define a license key',
              permission: 'admin',
              params: [...KEY_PARAMS, { name: 'license_key', required: true, doc: 'License key for osystem/distro_series combo.' }],
              run: async (r: ApiRequest) =>
                json(await this.keys.create({ osystem: r.params.get('osystem'), distroSeries: r.params.get('distro_series'), licenseKey: r.params.get('license_key') })),
            },
          ],
        },
      },
      {
        auth: {
          name: 'LicenseKeyHandler',
          doc: 'Manage a license key.',
          path: '/MAAS/api/2.0/license-key/{osystem}/{distro_series}',
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read license key', permission: 'admin', params: KEY_PARAMS, run: async (r) => json(await this.keys.get(os(r), series(r))) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update license key',
              permission: 'admin',
              params: [...KEY_PARAMS, { name: 'license_key', doc: 'License key for osystem/distro_series combo.' }],
              run: async (r: ApiRequest) => json(await this.keys.update(os(r), series(r), r.params.get('license_key'))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete license key',
              permission: 'admin',
              params: KEY_PARAMS,
              run: async (r: ApiRequest) => {
                await this.keys.delete(os(r), series(r));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
