import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { ApiRegistry } from '../api/api.registry';
import { ApiResponse } from '../api/api.types';

export const CAPABILITIES = [
  'networks-management',
  'static-ipaddresses',
  'ipv6-deployment-ubuntu',
  'devices-management',
  'storage-deployment-ubuntu',
  'network-deployment-ubuntu',
  'bridging-interface-ubuntu',
  'bridging-automatic-ubuntu',
  'authenticate-api',
];

/** version/ and describe/: anonymous, and what every client reads first. */
@Injectable()
export class MetaApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  onModuleInit() {
    this.registry.register(
      {
        anon: {
          name: 'VersionHandler',
          doc: 'Information about this MAAS instance.',
          path: '/MAAS/api/2.0/version/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'MAAS version information',
              permission: 'anonymous',
              run: () => ({ capabilities: CAPABILITIES, version: this.config.version, subversion: 'kiln' }),
            },
          ],
        },
      },
      {
        anon: {
          name: 'DescribeHandler',
          doc: 'Describe the API.',
          path: '/MAAS/api/2.0/describe/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Describe the MAAS API',
              description: 'Returns a description of the entire MAAS API, generated from the definitions that route requests.',
              permission: 'anonymous',
              // Exactly application/json: the maas CLI compares the header string.
              run: (r) => new ApiResponse(200, this.registry.describe(r.origin).doc, 'application/json'),
            },
          ],
        },
      },
    );
  }
}
