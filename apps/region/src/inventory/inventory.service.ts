import { Injectable } from '@nestjs/common';
import type { TagEntity } from '@kiln/db';
import { invalid, notFound } from '../common/domain.error';
import { sqlState } from '../database/sql-state';
import { MachineRecord, MachinesRepository } from '../machines/machines.repository';
import { GroupingEntity, GroupingKind, InventoryRepository } from './inventory.repository';

const NAME = /^[\w-]{1,256}$/;

/** What a caller sends to change a tag; a field left out is left as it is. */
export interface TagInput {
  name?: string;
  comment?: string;
  kernelOpts?: string;
}

/** What a caller sends to create or change a zone or resource pool; a field left out is left as it is. */
export interface GroupingInput {
  name?: string;
  description?: string;
}

const DUPLICATE: Record<GroupingKind, string> = {
  Zone: 'Zone with this Name already exists.',
  ResourcePool: 'Resource pool with this Name already exists.',
};

/** The name of a tag, zone or pool: required, letters, digits, "-" and "_". */
function validName(name: string | undefined): string {
  if (!name) throw invalid({ name: ['This field is required.'] });
  if (!NAME.test(name)) throw invalid({ name: ['Name must contain only letters, digits, "-" and "_".'] });
  return name;
}

/** A unique violation as the field error MAAS answers, other errors as they are. */
function duplicateAs(e: unknown, message: string): unknown {
  return sqlState(e) === '23505' ? invalid({ name: [message] }) : e;
}

/** Tags, zones and resource pools: the named groupings machines belong to. */
@Injectable()
export class InventoryService {
  constructor(
    private readonly repo: InventoryRepository,
    private readonly machines: MachinesRepository,
  ) {}

  // ---- tags -------------------------------------------------------------------------------------

  listTags(): Promise<TagEntity[]> {
    return this.repo.listTags();
  }

  async tag(name: string): Promise<TagEntity> {
    const t = await this.repo.tagByName(name);
    if (!t) throw notFound('No Tag matches the given query.');
    return t;
  }

  async createTag(input: TagInput & { definition?: string }): Promise<TagEntity> {
    const name = validName(input.name);
    const definition = input.definition ?? '';
    if (definition) {
      // Kiln keeps hardware details as structured data, not lshw XML; XPath tags are refused
      // rather than silently never matching.
      throw invalid({ definition: ['Automatic (XPath) tag definitions are not supported by Kiln yet.'] });
    }
    try {
      return await this.repo.createTag({ name, definition, comment: input.comment ?? '', kernelOpts: input.kernelOpts ?? '' });
    } catch (e) {
      throw duplicateAs(e, 'Tag with this Name already exists.');
    }
  }

  async updateTag(name: string, input: TagInput): Promise<TagEntity> {
    const t = await this.tag(name);
    if (input.name !== undefined) t.name = validName(input.name);
    if (input.comment !== undefined) t.comment = input.comment;
    if (input.kernelOpts !== undefined) t.kernelOpts = input.kernelOpts;
    return this.repo.saveTag(t);
  }

  async deleteTag(name: string): Promise<void> {
    await this.repo.deleteTag((await this.tag(name)).id);
  }

  /** The machines with this tag that the caller may see (non-admins: unowned or their own). */
  async machinesWithTag(name: string, caller: { id: number; isAdmin: boolean }): Promise<MachineRecord[]> {
    const t = await this.tag(name);
    return this.machines.list(this.repo.machinesWithTag(t.id, caller.isAdmin ? undefined : caller.id));
  }

  async updateTagNodes(name: string, add: string[], remove: string[]): Promise<{ added: number; removed: number }> {
    const t = await this.tag(name);
    return this.repo.tagMachines(t.id, add, remove);
  }

  // ---- zones and resource pools -----------------------------------------------------------------

  list(kind: GroupingKind): Promise<GroupingEntity[]> {
    return this.repo.listGroupings(kind);
  }

  async find(kind: GroupingKind, key: string): Promise<GroupingEntity> {
    const found = await this.repo.groupingByKey(kind, key);
    if (!found) throw notFound(`No ${kind} matches the given query.`);
    return found;
  }

  async create(kind: GroupingKind, input: GroupingInput): Promise<GroupingEntity> {
    const name = validName(input.name);
    try {
      return await this.repo.createGrouping(kind, { name, description: input.description ?? '' });
    } catch (e) {
      throw duplicateAs(e, DUPLICATE[kind]);
    }
  }

  async update(kind: GroupingKind, key: string, input: GroupingInput): Promise<GroupingEntity> {
    const g = await this.find(kind, key);
    if (input.name !== undefined) g.name = validName(input.name);
    if (input.description !== undefined) g.description = input.description;
    await this.repo.saveGrouping(kind, g);
    return g;
  }

  /** The default zone or pool stays; so does one that machines still belong to. */
  async delete(kind: GroupingKind, key: string): Promise<void> {
    const g = await this.find(kind, key);
    if (g.name === 'default') throw invalid(`The default ${kind.toLowerCase()} cannot be deleted.`);
    const n = await this.repo.countMachinesIn(kind, g.id);
    if (n > 0) throw invalid(`Cannot delete ${kind.toLowerCase()} ${g.name}: ${n} ${kind === 'Zone' ? 'node' : 'machine'}(s) still belong to it.`);
    await this.repo.deleteGrouping(kind, g.id);
  }
}
