import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import type { PackageRepository, PackageRepositoryInput } from './package-repository.form';
import { PackageRepositoriesService } from './package-repositories.service';

const json = (r: PackageRepository) => ({
  id: r.id,
  name: r.name,
  url: r.url,
  distributions: r.distributions,
  disabled_pockets: r.disabledPockets,
  disabled_components: r.disabledComponents,
  disable_sources: r.disableSources,
  components: r.components,
  arches: r.arches,
  key: r.key,
  enabled: r.enabled,
  resource_uri: `/MAAS/api/2.0/package-repositories/${r.id}/`,
});

const FIELDS: ParamDoc[] = [
  { name: 'name', required: true, doc: 'The name of the package repository.' },
  { name: 'url', required: true, doc: 'The url of the package repository.' },
  { name: 'distributions', doc: 'Which package distributions to include.' },
  { name: 'disabled_pockets', doc: 'The list of pockets to disable (updates, security, backports).' },
  { name: 'disabled_components', doc: 'The list of components to disable. Only applicable to the default Ubuntu repositories.' },
  { name: 'components', doc: 'The list of components to enable. Only applicable to custom repositories.' },
  { name: 'arches', doc: 'The list of supported architectures.' },
  { name: 'key', doc: 'The authentication key to use with the repository.' },
  { name: 'disable_sources', type: 'Boolean', doc: 'Disable deb-src lines.' },
  { name: 'enabled', type: 'Boolean', doc: 'Whether or not the repository is enabled.' },
];
const ID: ParamDoc = { name: 'id', type: 'Int', required: true, doc: 'The package repository id.' };

function input(r: ApiRequest): PackageRepositoryInput {
  const out: PackageRepositoryInput = {};
  for (const k of ['name', 'url', 'key', 'disable_sources', 'enabled'] as const) {
    const v = r.params.get(k);
    if (v !== undefined) out[k] = v;
  }
  for (const k of ['distributions', 'disabled_pockets', 'disabled_components', 'components', 'arches'] as const) {
    if (r.params.has(k)) out[k] = r.params.getAll(k);
  }
  return out;
}

/** package-repositories/ and package-repositories/{id}/: MAAS's PackageRepositoriesHandler and PackageRepositoryHandler. */
@Injectable()
export class PackageRepositoriesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly repos: PackageRepositoriesService,
  ) {}

  onModuleInit() {
    const id = (r: ApiRequest) => Number(r.pathParams.id);
    this.registry.register(
      {
        auth: {
          name: 'PackageRepositoriesHandler',
          doc: 'Manage the collection of all Package Repositories in MAAS.',
          path: '/MAAS/api/2.0/package-repositories/',
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'List package repositories', run: async () => (await this.repos.list()).map(json) },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a package repository',
              permission: 'admin',
              params: FIELDS,
              run: async (r: ApiRequest) => json(await this.repos.create(input(r))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'PackageRepositoryHandler',
          doc: 'Manage an individual package repository.',
          path: '/MAAS/api/2.0/package-repositories/{id}/',
          ensureExists: async (p) => void (await this.repos.get(Number(p.id))),
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a package repository', params: [ID], run: async (r) => json(await this.repos.get(id(r))) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a package repository',
              permission: 'admin',
              params: [ID, ...FIELDS.map((f) => ({ ...f, required: false }))],
              run: async (r: ApiRequest) => json(await this.repos.update(id(r), input(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a package repository',
              description: 'The default Ubuntu archives cannot be deleted (disable them instead).',
              permission: 'admin',
              params: [ID],
              run: async (r: ApiRequest) => {
                await this.repos.delete(id(r));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
