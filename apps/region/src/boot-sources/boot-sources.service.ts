import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';
import {
  applyBootSourceInput,
  applyBootSourceSelectionInput,
  BootSource,
  BootSourceInput,
  BootSourceSelection,
  BootSourceSelectionInput,
  DUPLICATE_SELECTION,
  DUPLICATE_URL,
} from './boot-source.form';
import { BootSourcesRepository } from './boot-sources.repository';

const EMPTY_SOURCE = { url: '', keyringFilename: '', keyringData: Buffer.alloc(0) };
const EMPTY_SELECTION = { os: '', release: '', arches: ['*'], subarches: ['*'], labels: ['*'] };

/**
 * Boot sources and their selections (MAAS's BootSource, BootSourceSelection). Stored and served so
 * that MAAS clients find them; Kiln does not sync images from them: its boot resources come from
 * `kiln boot-resource-import`.
 */
@Injectable()
export class BootSourcesService {
  constructor(private readonly repo: BootSourcesRepository) {}

  list(): Promise<BootSource[]> {
    return this.repo.list();
  }

  async get(id: number): Promise<BootSource> {
    const s = Number.isInteger(id) ? await this.repo.find(id) : null;
    if (!s) throw notFound('No BootSource matches the given query.');
    return s;
  }

  async create(input: BootSourceInput): Promise<BootSource> {
    const applied = applyBootSourceInput(EMPTY_SOURCE, input);
    if (!applied.ok) throw invalid(applied.errors);
    const id = await this.repo.insert(applied.fields);
    if (id === null) throw invalid(DUPLICATE_URL);
    return this.get(id);
  }

  async update(id: number, input: BootSourceInput): Promise<BootSource> {
    const current = await this.get(id);
    const applied = applyBootSourceInput(current, input);
    if (!applied.ok) throw invalid(applied.errors);
    if (await this.repo.urlTaken(applied.fields.url, id)) throw invalid(DUPLICATE_URL);
    await this.repo.update(id, applied.fields);
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    await this.get(id);
    await this.repo.delete(id);
  }

  async listSelections(sourceId: number): Promise<BootSourceSelection[]> {
    await this.get(sourceId);
    return this.repo.listSelections(sourceId);
  }

  async getSelection(sourceId: number, id: number): Promise<BootSourceSelection> {
    await this.get(sourceId);
    const s = Number.isInteger(id) ? await this.repo.findSelection(sourceId, id) : null;
    if (!s) throw notFound('No BootSourceSelection matches the given query.');
    return s;
  }

  async createSelection(sourceId: number, input: BootSourceSelectionInput): Promise<BootSourceSelection> {
    await this.get(sourceId);
    const applied = applyBootSourceSelectionInput(EMPTY_SELECTION, input);
    if (!applied.ok) throw invalid(applied.errors);
    const f = applied.fields;
    const id = await this.repo.insertSelection(sourceId, f);
    if (id === null) throw invalid(DUPLICATE_SELECTION);
    return this.getSelection(sourceId, id);
  }

  async updateSelection(sourceId: number, id: number, input: BootSourceSelectionInput): Promise<BootSourceSelection> {
    const current = await this.getSelection(sourceId, id);
    const applied = applyBootSourceSelectionInput(current, input);
    if (!applied.ok) throw invalid(applied.errors);
    const f = applied.fields;
    if (await this.repo.selectionTaken(sourceId, f.os, f.release, id)) throw invalid(DUPLICATE_SELECTION);
    await this.repo.updateSelection(id, f);
    return this.getSelection(sourceId, id);
  }

  async deleteSelection(sourceId: number, id: number): Promise<void> {
    await this.getSelection(sourceId, id);
    await this.repo.deleteSelection(id);
  }
}
