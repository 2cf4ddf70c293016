import { createHash } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import { BootResourceFileRow, BootResourceRow, BootResourceSetRow } from './boot-resources.repository';
import { BootResourcesService, RESOURCE_TYPE, RESOURCE_TYPE_NAME } from './boot-resources.service';

const PATH = '/MAAS/api/2.0/boot-resources/';

export function uploadUri(resourceId: number, fileId: number): string {
  return `${PATH}${resourceId}/upload/${fileId}/`;
}

function fileJson(r: BootResourceRow, f: BootResourceFileRow) {
  const out: Record<string, unknown> = { filename: f.filename, filetype: f.filetype, sha256: f.sha256, size: f.size, complete: f.complete };
  if (!f.complete) {
    out.progress = f.size ? Math.round((f.stored / f.size) * 10000) / 100 : 0;
    if (r.rtype === RESOURCE_TYPE.uploaded) out.upload_uri = uploadUri(r.id, f.id);
  }
  return out;
}

function setJson(r: BootResourceRow, s: BootResourceSetRow) {
  const complete = s.files.length > 0 && s.files.every((f) => f.complete);
  const size = s.files.reduce((n, f) => n + f.size, 0);
  const out: Record<string, unknown> = {
    version: s.version,
    label: s.label,
    size,
    complete,
    files: Object.fromEntries(s.files.map((f) => [f.filename, fileJson(r, f)])),
  };
  if (!complete) out.progress = size ? Math.round((s.files.reduce((n, f) => n + (f.complete ? f.size : f.stored), 0) / size) * 10000) / 100 : 0;
  return out;
}

/** MAAS's boot_resource_to_dict: the extra fields (title, subarches, ...) sit beside the others. */
export function bootResourceJson(r: BootResourceRow, withSets = false) {
  const out: Record<string, unknown> = {
    id: r.id,
    type: RESOURCE_TYPE_NAME[r.rtype] ?? 'Uploaded',
    name: r.name,
    architecture: r.architecture,
    resource_uri: `${PATH}${r.id}/`,
    ...r.extra,
  };
  if (withSets) out.sets = Object.fromEntries(r.sets.map((s) => [s.version, setJson(r, s)]));
  return out;
}

const resourceId = (r: ApiRequest) => Number(/^\d+$/.test(r.pathParams.id) ? r.pathParams.id : NaN);

/**
 * boot-resources/ and boot-resources/{id}/ (MAAS's BootResourcesHandler and BootResourceHandler).
 * The bytes of a large file go through the streamed upload (boot-resource-upload.controller.ts):
 * create announces the file's sha256 and size, and its upload_uri takes the content.
 */
@Injectable()
export class BootResourcesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly resources: BootResourcesService,
  ) {}

  onModuleInit() {
    this.registry.register(
      {
        auth: {
          name: 'BootResourcesHandler',
          doc: 'Manage the boot resources.',
          path: PATH,
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List boot resources',
              params: [{ name: 'type', doc: 'Type of boot resources to list: synced, uploaded or generated.' }],
              run: async (req) => {
                const type = req.params.get('type');
                const wanted = type === undefined || type === 'all' ? null : RESOURCE_TYPE[type as keyof typeof RESOURCE_TYPE];
                if (wanted === undefined) throw new BadRequestError(`Bad type: ${type}`);
                return (await this.resources.list()).filter((r) => wanted === null || r.rtype === wanted).map((r) => bootResourceJson(r));
              },
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Upload a boot resource',
              permission: 'admin',
              params: [
                { name: 'name', doc: 'Name of the boot resource (e.g. debian/bookworm).', required: true },
                { name: 'architecture', doc: 'Architecture the boot resource supports (e.g. amd64/generic).', required: true },
                { name: 'sha256', doc: 'The sha256 of the content (required without content).' },
                { name: 'size', type: 'Int', doc: 'The size of the content (required without content).' },
                { name: 'title', doc: 'Title for the boot resource.' },
                { name: 'filetype', doc: 'Filetype for the uploaded content (default tgz).' },
                { name: 'content', doc: 'Image content; without it, upload the bytes to the upload_uri the answer names.' },
                { name: 'version', doc: 'Kiln: the set to add the file to (a multi-file image is one set); default: a new set named by the time.' },
                { name: 'filename', doc: 'Kiln: the name of the file in its set; default: the file type (root-tgz for tgz).' },
              ],
              run: async (req) => {
                const p = req.params;
                const content = p.files.get('content');
                let sha256 = p.get('sha256');
                let size = p.get('size');
                if (content) {
                  sha256 ??= createHash('sha256').update(content.data).digest('hex');
                  size ??= String(content.data.length);
                }
                const missing: Record<string, string[]> = {};
                for (const [k, v] of Object.entries({ name: p.get('name'), architecture: p.get('architecture'), sha256, size })) {
                  if (!v) missing[k] = ['This field is required.'];
                }
                if (Object.keys(missing).length) throw new BadRequestError(missing);
                const filetype = p.get('filetype') || 'tgz';
                const filename = p.get('filename') || (filetype === 'tgz' ? 'root-tgz' : filetype);
                let created = await this.resources.create({
                  name: p.get('name')!,
                  architecture: p.get('architecture')!,
                  title: p.get('title'),
                  version: p.get('version') || undefined,
                  files: [{ filename, filetype, sha256: sha256!, size: /^\d+$/.test(size!) ? Number(size) : NaN }],
                });
                if (content) {
                  const file = created.sets[0].files.find((f) => f.filename === filename)!;
                  if (!file.complete) {
                    await this.resources.upload(created.id, file.id, (async function* () { yield content.data; })(), content.data.length);
                    created = await this.resources.get(created.id);
                  }
                }
                return new ApiResponse(201, bootResourceJson(created, true));
              },
            },
            {
              name: 'is_importing',
              op: 'is_importing',
              method: 'GET',
              title: 'Importing status',
              description: 'Kiln imports nothing from a mirror by itself: images are uploaded, so this is always false.',
              run: () => false,
            },
            {
              name: 'import',
              op: 'import',
              method: 'POST',
              title: 'Import boot resources',
              permission: 'admin',
              run: () =>
                ApiResponse.text(
                  200,
                  'Import of boot resources started. Kiln has no image mirror: nothing new will appear until an image is uploaded (kiln boot-resource-import <dir>).',
                ),
            },
            {
              name: 'stop_import',
              op: 'stop_import',
              method: 'POST',
              title: 'Stop import boot resources',
              permission: 'admin',
              run: () => ApiResponse.text(200, 'Import of boot resources is being stopped'),
            },
          ],
        },
      },
      {
        auth: {
          name: 'BootResourceHandler',
          doc: 'Manage a boot resource.',
          path: `${PATH}{id}/`,
          ensureExists: async (pp) => void (await this.resources.get(Number(/^\d+$/.test(pp.id) ? pp.id : NaN))),
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a boot resource', run: async (req) => bootResourceJson(await this.resources.get(resourceId(req)), true) },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a boot resource',
              permission: 'admin',
              run: async (req) => {
                await this.resources.delete(resourceId(req));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
