import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse } from '../api/api.types';
import { configNamesDoc } from './config.catalogue';
import { ConfigService } from './config.service';

/** maas/: MAAS's MaasHandler, the configuration settings. */
@Injectable()
export class MaasApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly config: ConfigService,
  ) {}

  onModuleInit() {
    this.registry.register({
      auth: {
        name: 'MaasHandler',
        doc: 'Manage the MAAS server.',
        path: '/MAAS/api/2.0/maas/',
        actions: [
          {
            name: 'get_config',
            op: 'get_config',
            method: 'GET',
            title: 'Get a configuration value',
            description: 'Get a configuration value. The answer is the value as JSON; a setting never set reads its default.',
            params: [{ name: 'name', required: true, doc: configNamesDoc() }],
            run: async (r: ApiRequest) => {
              const name = r.params.get('name');
              if (!name) return ApiResponse.text(400, 'No provided name!');
              return new ApiResponse(200, await this.config.read(name, r.user!), 'application/json');
            },
          },
          {
            name: 'set_config',
            op: 'set_config',
            method: 'POST',
            title: 'Set a configuration value',
            description: 'Set a configuration value, validated as MAAS validates it.',
            permission: 'admin',
            params: [
              { name: 'name', required: true, doc: configNamesDoc() },
              { name: 'value', required: true, doc: 'The value of the configuration item.' },
            ],
            run: async (r: ApiRequest) => {
              await this.config.set(r.params.get('name'), r.params.get('value'));
              return ApiResponse.text(200, 'OK');
            },
          },
        ],
      },
    });
  }
}
