import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { ApiRegistry } from '../api/api.registry';
import { ApiResponse } from '../api/api.types';

/**
 * MAAS's API capabilities, each claimed only while Kiln does what it promises (clients switch
 * features on by them: Juju manages devices and bridges by them). Those that depend on a handler
 * follow the handlers registered; `ipv6-deployment-ubuntu` is not claimed (deployments configure
 * IPv4 only) and `bridging-automatic-ubuntu` not (allocate's `bridge_all` is not carried out).
 */
export function capabilities(registry: Pick<ApiRegistry, 'has'>): string[] {
  const caps: [string, boolean][] = [
    ['networks-management', registry.has('SubnetsHandler')],
    ['static-ipaddresses', registry.has('IPAddressesHandler', 'reserve')],
    ['devices-management', registry.has('DevicesHandler')],
    // The curtin configuration Kiln renders carries the machine's storage and network layout.
    ['storage-deployment-ubuntu', true],
    ['network-deployment-ubuntu', true],
    ['bridging-interface-ubuntu', registry.has('InterfacesHandler', 'create_bridge')],
    ['authenticate-api', true],
  ];
  return caps.filter(([, on]) => on).map(([name]) => name);
}

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
              run: () => ({ capabilities: capabilities(this.registry), version: this.config.version, subversion: 'kiln' }),
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
