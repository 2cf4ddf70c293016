import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse } from '../api/api.types';
import type { SslKeyRow } from './sslkeys.repository';
import { SslKeysService } from './sslkeys.service';

const json = (k: SslKeyRow) => ({ id: k.id, key: k.key, resource_uri: `/MAAS/api/2.0/account/prefs/sslkeys/${k.id}/` });

/** account/prefs/sslkeys/ and account/prefs/sslkeys/{id}/: MAAS's SSLKeysHandler and SSLKeyHandler. */
@Injectable()
export class SslKeysApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly keys: SslKeysService,
  ) {}

  onModuleInit() {
    this.registry.register(
      {
        auth: {
          name: 'SSLKeysHandler',
          doc: 'Operations on multiple keys.',
          path: '/MAAS/api/2.0/account/prefs/sslkeys/',
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'List keys', description: 'List all keys belonging to the requesting user.', run: async (r) => (await this.keys.list(r.user!)).map(json) },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Add a new SSL key',
              description: 'Add a new SSL key (a PEM-encoded X.509 certificate) to the requesting user\'s account.',
              params: [{ name: 'key', required: true, doc: 'An SSL key should be provided in the request payload as form data with the name "key".' }],
              run: async (r: ApiRequest) => json(await this.keys.add(r.user!, r.params.get('key'))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'SSLKeyHandler',
          doc: 'Manage an SSL key.',
          path: '/MAAS/api/2.0/account/prefs/sslkeys/{id}/',
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Retrieve an SSL key', params: [{ name: 'id', type: 'Int', required: true, doc: 'An SSL key ID.' }], run: async (r) => json(await this.keys.get(r.user!, Number(r.pathParams.id))) },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete an SSL key',
              params: [{ name: 'id', type: 'Int', required: true, doc: 'An SSL key ID.' }],
              run: async (r: ApiRequest) => {
                await this.keys.delete(r.user!, Number(r.pathParams.id));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
