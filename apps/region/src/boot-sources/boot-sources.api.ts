import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import type { BootSource, BootSourceInput, BootSourceSelection, BootSourceSelectionInput } from './boot-source.form';
import { BootSourcesService } from './boot-sources.service';

const API = '/MAAS/api/2.0';

/** Django's rendering of a timestamp (UTC, milliseconds, no offset), as MAAS clients parse it. */
const timestamp = (d: Date) => new Date(d).toISOString().slice(0, 23);

const sourceJson = (s: BootSource) => ({
  id: s.id,
  url: s.url,
  keyring_filename: s.keyringFilename,
  keyring_data: Buffer.from(s.keyringData).toString('base64'),
  created: timestamp(s.created),
  updated: timestamp(s.updated),
  resource_uri: `${API}/boot-sources/${s.id}/`,
});

const selectionJson = (s: BootSourceSelection) => ({
  id: s.id,
  boot_source_id: s.bootSourceId,
  os: s.os,
  release: s.release,
  arches: s.arches,
  subarches: s.subarches,
  labels: s.labels,
  resource_uri: `${API}/boot-sources/${s.bootSourceId}/selections/${s.id}/`,
});

/** What Kiln does (and does not do) with boot sources; said in every boot-source handler's describe/ doc. */
export const NOT_ACTED_ON =
  'Kiln stores boot sources and their selections and serves them as MAAS does, but does not act on them yet: ' +
  'it does not sync images from simplestreams. Its boot images come from `kiln boot-resource-import` (see boot-resources/).';

const SOURCE_FIELDS: ParamDoc[] = [
  { name: 'url', required: true, doc: 'The URL of the BootSource (http, https or file).' },
  { name: 'keyring_filename', doc: 'The path to the keyring file for this BootSource.' },
  { name: 'keyring_data', doc: 'The GPG keyring for this BootSource, uploaded as a file or base64-encoded.' },
];
const SELECTION_FIELDS: ParamDoc[] = [
  { name: 'os', required: true, doc: 'The OS (e.g. ubuntu, centos) for which to import resources.' },
  { name: 'release', required: true, doc: 'The release for which to import resources.' },
  { name: 'arches', doc: 'The architecture list for which to import resources.' },
  { name: 'subarches', doc: 'The subarchitecture list for which to import resources.' },
  { name: 'labels', doc: 'The label lists for which to import resources.' },
];
const ID: ParamDoc = { name: 'id', type: 'Int', required: true, doc: 'A boot-source id.' };
const SOURCE_ID: ParamDoc = { name: 'boot_source_id', type: 'Int', required: true, doc: 'A boot-source id.' };
const SELECTION_ID: ParamDoc = { name: 'id', type: 'Int', required: true, doc: 'A boot-source selection id.' };
const optional = (fields: ParamDoc[]) => fields.map((f) => ({ ...f, required: false }));

function sourceInput(r: ApiRequest): BootSourceInput {
  const out: BootSourceInput = {};
  const url = r.params.get('url');
  if (url !== undefined) out.url = url;
  const filename = r.params.get('keyring_filename');
  if (filename !== undefined) out.keyring_filename = filename;
  // python-libmaas and the maas CLI upload the keyring as a file; a non-empty string is base64.
  const file = r.params.files.get('keyring_data');
  const data = r.params.get('keyring_data');
  if (file) out.keyring_data = file.data;
  else if (data !== undefined && data !== '') out.keyring_data = data;
  return out;
}

function selectionInput(r: ApiRequest): BootSourceSelectionInput {
  const out: BootSourceSelectionInput = {};
  for (const k of ['os', 'release'] as const) {
    const v = r.params.get(k);
    if (v !== undefined) out[k] = v;
  }
  for (const k of ['arches', 'subarches', 'labels'] as const) {
    if (r.params.has(k)) out[k] = r.params.getAll(k);
  }
  return out;
}

/**
 * boot-sources/, boot-sources/{id}/, boot-sources/{boot_source_id}/selections/ and
 * .../selections/{id}/: MAAS's BootSource(s)Handler and BootSourceSelection(s)Handler. As in MAAS
 * (whose URLs wrap them in AdminRestrictedResource), every action is an administrator's, reads too.
 */
@Injectable()
export class BootSourcesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly sources: BootSourcesService,
  ) {}

  onModuleInit() {
    const id = (r: ApiRequest) => Number(r.pathParams.id);
    const sourceId = (r: ApiRequest) => Number(r.pathParams.boot_source_id);
    this.registry.register(
      {
        auth: {
          name: 'BootSourcesHandler',
          doc: `Manage the collection of boot sources. ${NOT_ACTED_ON}`,
          path: `${API}/boot-sources/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'List boot sources', description: 'List all boot sources.', permission: 'admin', run: async () => (await this.sources.list()).map(sourceJson) },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a boot source',
              description: `Create a new boot source. In addition to url, supply either keyring_data or keyring_filename. ${NOT_ACTED_ON}`,
              permission: 'admin',
              params: SOURCE_FIELDS,
              run: async (r: ApiRequest) => new ApiResponse(201, sourceJson(await this.sources.create(sourceInput(r)))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'BootSourceHandler',
          doc: `Manage a boot source. ${NOT_ACTED_ON}`,
          path: `${API}/boot-sources/{id}/`,
          ensureExists: async (p) => void (await this.sources.get(Number(p.id))),
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a boot source', permission: 'admin', params: [ID], run: async (r) => sourceJson(await this.sources.get(id(r))) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a boot source',
              permission: 'admin',
              params: [ID, ...optional(SOURCE_FIELDS)],
              run: async (r: ApiRequest) => sourceJson(await this.sources.update(id(r), sourceInput(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a boot source',
              description: 'Delete a boot source with the given id, and its selections.',
              permission: 'admin',
              params: [ID],
              run: async (r: ApiRequest) => {
                await this.sources.delete(id(r));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'BootSourceSelectionsHandler',
          doc: `Manage the collection of boot source selections. ${NOT_ACTED_ON}`,
          path: `${API}/boot-sources/{boot_source_id}/selections/`,
          ensureExists: async (p) => void (await this.sources.get(Number(p.boot_source_id))),
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List boot-source selections',
              permission: 'admin',
              params: [SOURCE_ID],
              run: async (r) => (await this.sources.listSelections(sourceId(r))).map(selectionJson),
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a boot-source selection',
              description: 'A source takes one selection per (os, release).',
              permission: 'admin',
              params: [SOURCE_ID, ...SELECTION_FIELDS],
              run: async (r: ApiRequest) => selectionJson(await this.sources.createSelection(sourceId(r), selectionInput(r))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'BootSourceSelectionHandler',
          doc: `Manage a boot source selection. ${NOT_ACTED_ON}`,
          path: `${API}/boot-sources/{boot_source_id}/selections/{id}/`,
          ensureExists: async (p) => void (await this.sources.getSelection(Number(p.boot_source_id), Number(p.id))),
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Read a boot source selection',
              permission: 'admin',
              params: [SOURCE_ID, SELECTION_ID],
              run: async (r) => selectionJson(await this.sources.getSelection(sourceId(r), id(r))),
            },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a boot-source selection',
              permission: 'admin',
              params: [SOURCE_ID, SELECTION_ID, ...optional(SELECTION_FIELDS)],
              run: async (r: ApiRequest) => selectionJson(await this.sources.updateSelection(sourceId(r), id(r), selectionInput(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a boot source selection',
              permission: 'admin',
              params: [SOURCE_ID, SELECTION_ID],
              run: async (r: ApiRequest) => {
                await this.sources.deleteSelection(sourceId(r), id(r));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
