import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ResourcePoolEntity, TagEntity, ZoneEntity } from '@kiln/db';
import { SqlWhere } from '../machines/machine.filters';

/** The named groupings of machines that are kept as rows of their own. */
export type GroupingKind = 'Zone' | 'ResourcePool';
export type GroupingEntity = ZoneEntity | ResourcePoolEntity;

const ENTITY: Record<GroupingKind, new () => GroupingEntity> = { Zone: ZoneEntity, ResourcePool: ResourcePoolEntity };
const MACHINE_COLUMN: Record<GroupingKind, string> = { Zone: 'zone_id', ResourcePool: 'pool_id' };

/** Every query on tags, zones and resource pools, and on which machines carry a tag. */
@Injectable()
export class InventoryRepository {
  constructor(private readonly ds: DataSource) {}

  // ---- tags -------------------------------------------------------------------------------------

  listTags(): Promise<TagEntity[]> {
    return this.ds.getRepository(TagEntity).find({ order: { name: 'ASC' } });
  }

  tagByName(name: string): Promise<TagEntity | null> {
    return this.ds.getRepository(TagEntity).findOneBy({ name });
  }

  createTag(t: { name: string; definition: string; comment: string; kernelOpts: string }): Promise<TagEntity> {
    const repo = this.ds.getRepository(TagEntity);
    return repo.save(repo.create(t));
  }

  saveTag(t: TagEntity): Promise<TagEntity> {
    return this.ds.getRepository(TagEntity).save(t);
  }

  async deleteTag(id: number): Promise<void> {
    await this.ds.getRepository(TagEntity).delete({ id });
  }

  /** Tags and untags machines by system_id, in one transaction; how many were tagged and untagged. */
  tagMachines(tagId: number, add: string[], remove: string[]): Promise<{ added: number; removed: number }> {
    return this.ds.transaction(async (em) => {
      const added = add.length
        ? await em.query(
            `INSERT INTO machine_tags (machine_id, tag_id) SELECT id, $2 FROM machines WHERE system_id = ANY($1)
             ON CONFLICT DO NOTHING RETURNING machine_id`,
            [add, tagId],
          )
        : [];
      const removed = remove.length
        ? await em.query(
            `DELETE FROM machine_tags WHERE tag_id = $2 AND machine_id IN (SELECT id FROM machines WHERE system_id = ANY($1))
             RETURNING machine_id`,
            [remove, tagId],
          )
        : [[]];
      return { added: added.length, removed: Array.isArray(removed[0]) ? removed[0].length : removed.length };
    });
  }

  /** The machines filter for "carries this tag" (and, for a non-admin, "unowned or theirs"). */
  machinesWithTag(tagId: number, visibleToUserId?: number): SqlWhere {
    const w = new SqlWhere();
    w.add('EXISTS (SELECT 1 FROM machine_tags mt WHERE mt.machine_id = m.id AND mt.tag_id = ?)', tagId);
    if (visibleToUserId !== undefined) w.add('(m.owner_id IS NULL OR m.owner_id = ?)', visibleToUserId);
    return w;
  }

  // ---- zones and resource pools -----------------------------------------------------------------

  listGroupings(kind: GroupingKind): Promise<GroupingEntity[]> {
    return this.ds.getRepository(ENTITY[kind]).find({ order: { id: 'ASC' } });
  }

  /** By name, or (for resource pools, whose path names them by id) by id when `key` is a number. */
  groupingByKey(kind: GroupingKind, key: string): Promise<GroupingEntity | null> {
    const where = kind === 'ResourcePool' && /^\d+$/.test(key) ? { id: Number(key) } : { name: key };
    return this.ds.getRepository(ENTITY[kind]).findOneBy(where);
  }

  createGrouping(kind: GroupingKind, g: { name: string; description: string }): Promise<GroupingEntity> {
    const repo = this.ds.getRepository(ENTITY[kind]);
    return repo.save(repo.create(g));
  }

  async saveGrouping(kind: GroupingKind, g: GroupingEntity): Promise<void> {
    await this.ds.getRepository(ENTITY[kind]).save(g);
  }

  async deleteGrouping(kind: GroupingKind, id: number): Promise<void> {
    await this.ds.getRepository(ENTITY[kind]).delete({ id });
  }

  async countMachinesIn(kind: GroupingKind, id: number): Promise<number> {
    // Devices are in zones too (their own table), and hold on to theirs as machines do.
    const devices = kind === 'Zone' ? ' + (SELECT count(*) FROM devices WHERE zone_id = $1)' : '';
    const [{ n }] = await this.ds.query(`SELECT ((SELECT count(*) FROM machines WHERE ${MACHINE_COLUMN[kind]} = $1)${devices})::int AS n`, [id]);
    return n;
  }
}
