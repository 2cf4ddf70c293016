import { Injectable, OnModuleInit } from '@nestjs/common';
import type { TagEntity } from '@kiln/db';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, HandlerDef } from '../api/api.types';
import { poolJson, zoneJson } from '../machines/machine.serializer';
import { writeMachineJson } from '../machines/machine.json-writer';
import { GroupingEntity, GroupingKind } from './inventory.repository';
import { GroupingInput, InventoryService } from './inventory.service';

const API = '/MAAS/api/2.0';

function tagJson(t: TagEntity) {
  return {
    name: t.name,
    definition: t.definition,
    comment: t.comment,
    kernel_opts: t.kernelOpts,
    resource_uri: `${API}/tags/${encodeURIComponent(t.name)}/`,
  };
}

/** A request's value of each field it sent (first value); fields it did not send are left out. */
function sent<K extends string>(r: ApiRequest, fields: Record<K, string>): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const key of Object.keys(fields) as K[]) {
    const v = r.params.get(fields[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

const tagFields = (r: ApiRequest) => sent(r, { name: 'name', comment: 'comment', kernelOpts: 'kernel_opts', definition: 'definition' });
const groupingFields = (r: ApiRequest): GroupingInput => sent(r, { name: 'name', description: 'description' });

/** tags/, zones/ and resourcepools/: the named groupings machines belong to. */
@Injectable()
export class InventoryApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly inventory: InventoryService,
  ) {}

  /** The machines carrying the tag that the caller may see, as the machine listing writes them. */
  private async taggedMachines(r: ApiRequest): Promise<ApiResponse> {
    const recs = await this.inventory.machinesWithTag(r.pathParams.name, r.user!);
    return ApiResponse.rawJson(`[${recs.map(writeMachineJson).join(',')}]`);
  }

  onModuleInit() {
    this.registry.register(
      this.collection('TagsHandler', 'Manage all tags known to MAAS.', `${API}/tags/`, 'Tag', {
        list: async () => (await this.inventory.listTags()).map(tagJson),
        create: async (r) => tagJson(await this.inventory.createTag(tagFields(r))),
      }),
      {
        auth: {
          name: 'TagHandler',
          doc: 'Manage a Tag.',
          path: `${API}/tags/{name}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a specific Tag', run: async (r) => tagJson(await this.inventory.tag(r.pathParams.name)) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a tag',
              permission: 'admin',
              params: [
                { name: 'name', doc: 'The new tag name.' },
                { name: 'comment', doc: 'A description of what the the tag will be used for in natural language.' },
                { name: 'kernel_opts', doc: 'Nodes associated with this tag will add this string to their kernel options when booting.' },
              ],
              run: async (r) => {
                const { name, comment, kernelOpts } = tagFields(r);
                return tagJson(await this.inventory.updateTag(r.pathParams.name, { name, comment, kernelOpts }));
              },
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a tag',
              permission: 'admin',
              run: async (r) => {
                await this.inventory.deleteTag(r.pathParams.name);
                return ApiResponse.noContent();
              },
            },
            {
              name: 'machines',
              op: 'machines',
              method: 'GET',
              title: 'List all machines with this tag',
              run: (r) => this.taggedMachines(r),
            },
            {
              name: 'nodes',
              op: 'nodes',
              method: 'GET',
              title: 'List all nodes with this tag',
              description: 'Kiln tags machines only, so these are the machines with the tag.',
              run: (r) => this.taggedMachines(r),
            },
            ...(['devices', 'rack_controllers', 'region_controllers'] as const).map((op) => ({
              name: op,
              op,
              method: 'GET' as const,
              title: `List all ${op.replace('_', ' ')} with this tag`,
              description: `Kiln tags machines only (update_nodes takes machines), so no ${op.replace('_', ' ')} carry a tag: always an empty list.`,
              run: async (r: ApiRequest) => {
                await this.inventory.tag(r.pathParams.name);
                return [];
              },
            })),
            {
              name: 'rebuild',
              op: 'rebuild',
              method: 'POST',
              title: 'Manually trigger a rebuild the tag - node mapping',
              description: 'Re-evaluates the tag\'s definition (MAAS answers {"rebuilding": <name>}). Kiln\'s tags have no definitions, so the mapping stays as update_nodes made it.',
              permission: 'admin',
              run: async (r) => ({ rebuilding: (await this.inventory.tag(r.pathParams.name)).name }),
            },
            {
              name: 'update_nodes',
              op: 'update_nodes',
              method: 'POST',
              title: 'Update nodes associated with this tag',
              permission: 'admin',
              params: [
                { name: 'add', doc: 'The system_id to tag.' },
                { name: 'remove', doc: 'The system_id to untag.' },
              ],
              run: (r) => this.inventory.updateTagNodes(r.pathParams.name, r.params.getAll('add'), r.params.getAll('remove')),
            },
          ],
        },
      },
      this.collection('ZonesHandler', 'Manage physical zones.', `${API}/zones/`, 'Zone', {
        list: async () => (await this.inventory.list('Zone')).map(zoneJson),
        create: async (r) => zoneJson(await this.inventory.create('Zone', groupingFields(r))),
      }),
      this.item('ZoneHandler', 'Manage a physical zone.', `${API}/zones/{name}/`, 'Zone', 'name', zoneJson),
      this.collection('ResourcePoolsHandler', 'Manage resource pools.', `${API}/resourcepools/`, 'ResourcePool', {
        list: async () => (await this.inventory.list('ResourcePool')).map(poolJson),
        create: async (r) => poolJson(await this.inventory.create('ResourcePool', groupingFields(r))),
      }),
      this.item('ResourcePoolHandler', 'Manage a resource pool.', `${API}/resourcepool/{id}/`, 'ResourcePool', 'id', poolJson),
    );
  }

  private collection(
    name: string,
    doc: string,
    path: string,
    model: string,
    ops: { list: (r: ApiRequest) => Promise<unknown>; create: (r: ApiRequest) => Promise<unknown> },
  ): { auth: HandlerDef } {
    return {
      auth: {
        name,
        doc,
        path,
        actions: [
          { name: 'read', op: null, method: 'GET', title: `List ${model} objects`, run: ops.list },
          {
            name: 'create',
            op: null,
            method: 'POST',
            title: `Create a ${model}`,
            permission: 'admin',
            params: [
              { name: 'name', required: true, doc: `The name of the new ${model}.` },
              { name: 'description', doc: `A brief description of the new ${model}.` },
              ...(model === 'Tag'
                ? [
                    { name: 'comment', doc: 'A description of what the the tag will be used for in natural language.' },
                    { name: 'kernel_opts', doc: 'Nodes associated with this tag will add this string to their kernel options when booting.' },
                  ]
                : []),
            ],
            run: ops.create,
          },
        ],
      },
    };
  }

  private item(
    name: string,
    doc: string,
    path: string,
    kind: GroupingKind,
    key: 'name' | 'id',
    toJson: (e: GroupingEntity) => unknown,
  ): { auth: HandlerDef } {
    return {
      auth: {
        name,
        doc,
        path,
        actions: [
          { name: 'read', op: null, method: 'GET', title: `Retrieve a ${kind}`, run: async (r) => toJson(await this.inventory.find(kind, r.pathParams[key])) },
          {
            name: 'update',
            op: null,
            method: 'PUT',
            title: `Update a ${kind}`,
            permission: 'admin',
            params: [
              { name: 'name', doc: `The new name of the ${kind}.` },
              { name: 'description', doc: `The new description of the ${kind}.` },
            ],
            run: async (r) => toJson(await this.inventory.update(kind, r.pathParams[key], groupingFields(r))),
          },
          {
            name: 'delete',
            op: null,
            method: 'DELETE',
            title: `Delete a ${kind}`,
            permission: 'admin',
            run: async (r) => {
              await this.inventory.delete(kind, r.pathParams[key]);
              return ApiResponse.noContent();
            },
          },
        ],
      },
    };
  }
}
