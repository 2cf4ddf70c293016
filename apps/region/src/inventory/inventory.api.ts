import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ResourcePoolEntity, TagEntity, ZoneEntity } from '@kiln/db';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, HandlerDef } from '../api/api.types';
import { BadRequestError, NotFoundError } from '../api/http/http.errors';
import { poolJson, zoneJson } from '../machines/machine.serializer';
import { serializeList } from '../machines/machines.api';
import { MachinesRepository } from '../machines/machines.repository';
import { SqlWhere } from '../machines/machine.filters';

const API = '/MAAS/api/2.0';
const NAME = /^[\w-]{1,256}$/;

function tagJson(t: TagEntity) {
  return {
    name: t.name,
    definition: t.definition,
    comment: t.comment,
    kernel_opts: t.kernelOpts,
    resource_uri: `${API}/tags/${encodeURIComponent(t.name)}/`,
  };
}

function uniqueViolation(e: unknown): boolean {
  return (e as { code?: string })?.code === '23505';
}

/** tags/, zones/ and resourcepools/: the named groupings machines belong to. */
@Injectable()
export class InventoryApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly ds: DataSource,
    private readonly machines: MachinesRepository,
  ) {}

  onModuleInit() {
    this.registry.register(
      this.collection('TagsHandler', 'Manage all tags known to MAAS.', `${API}/tags/`, 'Tag', {
        list: async () => (await this.ds.getRepository(TagEntity).find({ order: { name: 'ASC' } })).map(tagJson),
        create: async (r) => {
          const name = this.validName(r);
          const definition = r.params.get('definition') ?? '';
          if (definition) {
            // Kiln keeps hardware details as structured data, not lshw XML; XPath tags are refused
            // rather than silently never matching.
            throw new BadRequestError({ definition: ['Automatic (XPath) tag definitions are not supported by Kiln yet.'] });
          }
          const repo = this.ds.getRepository(TagEntity);
          try {
            return tagJson(
              await repo.save(repo.create({ name, definition, comment: r.params.get('comment') ?? '', kernelOpts: r.params.get('kernel_opts') ?? '' })),
            );
          } catch (e) {
            if (uniqueViolation(e)) throw new BadRequestError({ name: ['Tag with this Name already exists.'] });
            throw e;
          }
        },
      }),
      {
        auth: {
          name: 'TagHandler',
          doc: 'Manage a Tag.',
          path: `${API}/tags/{name}/`,
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a specific Tag', run: async (r) => tagJson(await this.tag(r)) },
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
                const t = await this.tag(r);
                if (r.params.has('name')) t.name = this.validName(r);
                if (r.params.has('comment')) t.comment = r.params.get('comment') ?? '';
                if (r.params.has('kernel_opts')) t.kernelOpts = r.params.get('kernel_opts') ?? '';
                return tagJson(await this.ds.getRepository(TagEntity).save(t));
              },
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a tag',
              permission: 'admin',
              run: async (r) => {
                await this.ds.getRepository(TagEntity).delete({ id: (await this.tag(r)).id });
                return ApiResponse.noContent();
              },
            },
            {
              name: 'machines',
              op: 'machines',
              method: 'GET',
              title: 'List all machines with this tag',
              run: async (r) => {
                const t = await this.tag(r);
                const w = new SqlWhere();
                w.add('EXISTS (SELECT 1 FROM machine_tags mt WHERE mt.machine_id = m.id AND mt.tag_id = ?)', t.id);
                if (!r.user!.isAdmin) w.add('(m.owner_id IS NULL OR m.owner_id = ?)', r.user!.id);
                return ApiResponse.rawJson(serializeList(await this.machines.list(w)));
              },
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
              run: async (r) => {
                const t = await this.tag(r);
                const add = r.params.getAll('add');
                const remove = r.params.getAll('remove');
                return this.ds.transaction(async (em) => {
                  const added = add.length
                    ? await em.query(
                        `INSERT INTO machine_tags (machine_id, tag_id) SELECT id, $2 FROM machines WHERE system_id = ANY($1)
                         ON CONFLICT DO NOTHING RETURNING machine_id`,
                        [add, t.id],
                      )
                    : [];
                  const removed = remove.length
                    ? await em.query(
                        `DELETE FROM machine_tags WHERE tag_id = $2 AND machine_id IN (SELECT id FROM machines WHERE system_id = ANY($1))
                         RETURNING machine_id`,
                        [remove, t.id],
                      )
                    : [[]];
                  return { added: added.length, removed: Array.isArray(removed[0]) ? removed[0].length : removed.length };
                });
              },
            },
          ],
        },
      },
      this.collection('ZonesHandler', 'Manage physical zones.', `${API}/zones/`, 'Zone', {
        list: async () => (await this.ds.getRepository(ZoneEntity).find({ order: { id: 'ASC' } })).map(zoneJson),
        create: async (r) => {
          const repo = this.ds.getRepository(ZoneEntity);
          try {
            return zoneJson(await repo.save(repo.create({ name: this.validName(r), description: r.params.get('description') ?? '' })));
          } catch (e) {
            if (uniqueViolation(e)) throw new BadRequestError({ name: ['Zone with this Name already exists.'] });
            throw e;
          }
        },
      }),
      this.item('ZoneHandler', 'Manage a physical zone.', `${API}/zones/{name}/`, 'Zone', ZoneEntity, 'name', zoneJson, 'default'),
      this.collection('ResourcePoolsHandler', 'Manage resource pools.', `${API}/resourcepools/`, 'ResourcePool', {
        list: async () => (await this.ds.getRepository(ResourcePoolEntity).find({ order: { id: 'ASC' } })).map(poolJson),
        create: async (r) => {
          const repo = this.ds.getRepository(ResourcePoolEntity);
          try {
            return poolJson(await repo.save(repo.create({ name: this.validName(r), description: r.params.get('description') ?? '' })));
          } catch (e) {
            if (uniqueViolation(e)) throw new BadRequestError({ name: ['Resource pool with this Name already exists.'] });
            throw e;
          }
        },
      }),
      this.item('ResourcePoolHandler', 'Manage a resource pool.', `${API}/resourcepool/{id}/`, 'ResourcePool', ResourcePoolEntity, 'id', poolJson, 'default'),
    );
  }

  private validName(r: ApiRequest): string {
    const name = r.params.get('name');
    if (!name) throw new BadRequestError({ name: ['This field is required.'] });
    if (!NAME.test(name)) throw new BadRequestError({ name: ['Name must contain only letters, digits, "-" and "_".'] });
    return name;
  }

  private async tag(r: ApiRequest): Promise<TagEntity> {
    const t = await this.ds.getRepository(TagEntity).findOneBy({ name: r.pathParams.name });
    if (!t) throw new NotFoundError('No Tag matches the given query.');
    return t;
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

  private item<E extends ZoneEntity | ResourcePoolEntity>(
    name: string,
    doc: string,
    path: string,
    model: string,
    entity: new () => E,
    key: 'name' | 'id',
    toJson: (e: E) => unknown,
    protectedName: string,
  ): { auth: HandlerDef } {
    const find = async (r: ApiRequest): Promise<E> => {
      const raw = r.pathParams[key];
      const where = key === 'id' ? (/^\d+$/.test(raw) ? { id: Number(raw) } : { name: raw }) : { name: raw };
      const found = await this.ds.getRepository(entity).findOneBy(where as never);
      if (!found) throw new NotFoundError(`No ${model} matches the given query.`);
      return found as E;
    };
    return {
      auth: {
        name,
        doc,
        path,
        actions: [
          { name: 'read', op: null, method: 'GET', title: `Retrieve a ${model}`, run: async (r) => toJson(await find(r)) },
          {
            name: 'update',
            op: null,
            method: 'PUT',
            title: `Update a ${model}`,
            permission: 'admin',
            params: [
              { name: 'name', doc: `The new name of the ${model}.` },
              { name: 'description', doc: `The new description of the ${model}.` },
            ],
            run: async (r) => {
              const e = await find(r);
              if (r.params.has('name')) e.name = this.validName(r);
              if (r.params.has('description')) e.description = r.params.get('description') ?? '';
              await this.ds.getRepository(entity).save(e as never);
              return toJson(e);
            },
          },
          {
            name: 'delete',
            op: null,
            method: 'DELETE',
            title: `Delete a ${model}`,
            permission: 'admin',
            run: async (r) => {
              const e = await find(r);
              if (e.name === protectedName) throw new BadRequestError(`The default ${model.toLowerCase()} cannot be deleted.`);
              const column = model === 'Zone' ? 'zone_id' : 'pool_id';
              const [{ n }] = await this.ds.query(`SELECT count(*)::int AS n FROM machines WHERE ${column} = $1`, [e.id]);
              if (n > 0) throw new BadRequestError(`Cannot delete ${model.toLowerCase()} ${e.name}: ${n} machine(s) still belong to it.`);
              await this.ds.getRepository(entity).delete({ id: e.id } as never);
              return ApiResponse.noContent();
            },
          },
        ],
      },
    };
  }
}
