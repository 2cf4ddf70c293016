import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ActionDef, ApiRequest, ApiResponse } from '../api/api.types';
import type { StoredFile, StoredFileWithContent } from './files.repository';
import { FilesService } from './files.service';

const anonUri = (f: StoredFile) => `/MAAS/api/2.0/files/?op=get_by_key&key=${f.key}`;
const listJson = (f: StoredFile) => ({
  filename: f.filename,
  anon_resource_uri: anonUri(f),
  resource_uri: `/MAAS/api/2.0/files/${encodeURIComponent(f.filename)}/`,
});
const octets = (f: StoredFileWithContent) => new ApiResponse(200, f.content, 'application/octet-stream');

/** files/ and files/{filename}/: MAAS's FilesHandler (with its anonymous get_by_key) and FileHandler. */
@Injectable()
export class FilesApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly files: FilesService,
  ) {}

  onModuleInit() {
    const getByKey = (permission: 'anonymous' | 'authenticated'): ActionDef => ({
      name: 'get_by_key',
      op: 'get_by_key',
      method: 'GET',
      title: 'Get a file by key',
      description: 'Get a file from the file storage with the given key. The file is returned in the response content.',
      permission,
      params: [{ name: 'key', required: true, doc: 'The file\'s key.' }],
      run: async (r: ApiRequest) => octets(await this.files.byKey(r.params.get('key'))),
    });
    const add = async (r: ApiRequest) => {
      const uploads = [...r.params.files].map(([name, f]) => ({ name, data: f.data }));
      await this.files.add(r.user!.id, r.params.get('filename'), uploads);
      return new ApiResponse(201, '', 'text/plain; charset=utf-8');
    };
    const addParams = [
      { name: 'filename', required: true, doc: 'The file name to use in the storage.' },
      { name: 'file', required: true, doc: 'Actual file data with content type application/octet-stream.' },
    ];
    const list = async (r: ApiRequest) => (await this.files.list(r.user!.id, r.params.get('prefix'))).map(listJson);
    const remove = async (r: ApiRequest) => {
      await this.files.delete(r.user!.id, r.params.get('filename'));
      return ApiResponse.noContent();
    };
    this.registry.register(
      {
        anon: {
          name: 'AnonFilesHandler',
          doc: 'Anonymous file operations: a file can be read without credentials by whoever has its key.',
          path: '/MAAS/api/2.0/files/',
          actions: [getByKey('anonymous')],
        },
        auth: {
          name: 'FilesHandler',
          doc: 'Manage the collection of all the files in this MAAS.',
          path: '/MAAS/api/2.0/files/',
          // MAAS's restful create/read/delete (what Juju's gomaasapi calls) and the older ops alike.
          actions: [
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Add a new file',
              description: `Add a new file to the file storage, or replace the caller's file of that name. At most 16 MiB.`,
              params: addParams,
              run: add,
            },
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List files',
              description: "List the caller's files, ordered by file name, without their content.",
              params: [{ name: 'prefix', doc: 'Optional prefix used to filter out the returned files.' }],
              run: list,
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a file',
              params: [{ name: 'filename', required: true, doc: 'The filename of the object to be deleted.' }],
              run: remove,
            },
            {
              name: 'add',
              op: 'add',
              method: 'POST',
              title: 'Add a new file',
              description: `Add a new file to the file storage, or replace the caller's file of that name. At most 16 MiB.`,
              params: addParams,
              run: add,
            },
            {
              name: 'list',
              op: 'list',
              method: 'GET',
              title: 'List files',
              description: "List the caller's files, ordered by file name, without their content.",
              params: [{ name: 'prefix', doc: 'Optional prefix used to filter out the returned files.' }],
              run: list,
            },
            {
              name: 'get',
              op: 'get',
              method: 'GET',
              title: 'Get a named file',
              description: "Get one of the caller's files by name. The file is returned in the response content.",
              params: [{ name: 'filename', required: true, doc: 'The exact name of the file you want to get.' }],
              run: async (r: ApiRequest) => octets(await this.files.byName(r.user!.id, r.params.get('filename'))),
            },
            getByKey('authenticated'),
            {
              // The older POST op=delete: still routed, but describe/ lists only the restful delete
              // above, as MAAS does (two actions named delete break the maas CLI).
              name: 'delete',
              op: 'delete',
              method: 'POST',
              title: 'Delete a file',
              params: [{ name: 'filename', required: true, doc: 'The filename of the object to be deleted.' }],
              undescribed: true,
              run: remove,
            },
          ],
        },
      },
      {
        auth: {
          name: 'FileHandler',
          doc: 'Manage a FileStorage object. The file is identified by its filename and owner.',
          path: '/MAAS/api/2.0/files/{filename}/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Read a stored file',
              description: 'Reads a stored file as a JSON object; its content is base64-encoded.',
              params: [{ name: 'filename', required: true, doc: 'The name of the file.' }],
              run: async (r: ApiRequest) => {
                const f = await this.files.byName(r.user!.id, r.pathParams.filename);
                return { ...listJson(f), content: f.content.toString('base64') };
              },
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a file',
              params: [{ name: 'filename', required: true, doc: 'The name of the file.' }],
              run: async (r: ApiRequest) => {
                await this.files.delete(r.user!.id, r.pathParams.filename);
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
