import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';
import { SpaceRow, SpacesRepository } from './spaces.repository';

export const UNDEFINED_SPACE_ID = -1;
export const UNDEFINED_SPACE_NAME = 'undefined';

export interface SpaceInput {
  name?: string;
  description?: string;
}

/** MAAS's space name rule (validate_space_name): letters, digits, "-" and "_", and not "undefined". */
export function spaceNameError(name: string): string | null {
  if (!/^[\w-]{1,256}$/.test(name)) return 'Invalid space name: must contain only letters, digits, "-" and "_".';
  if (name === UNDEFINED_SPACE_NAME) return `Invalid space name: "${UNDEFINED_SPACE_NAME}" is reserved.`;
  return null;
}

/** Spaces (reference 2.13; MAAS's SpaceForm). The undefined space (-1) is shown but cannot be changed. */
@Injectable()
export class SpacesService {
  constructor(private readonly repo: SpacesRepository) {}

  isUndefined(key: string): boolean {
    return key === String(UNDEFINED_SPACE_ID) || key === UNDEFINED_SPACE_NAME;
  }

  async spaceOr404(key: string): Promise<SpaceRow> {
    const s = await this.repo.byKey(key);
    if (!s) throw notFound('No Space matches the given query.');
    return s;
  }

  private async checkName(name: string, exceptId: number | null): Promise<void> {
    const err = spaceNameError(name);
    if (err) throw invalid({ name: [err] });
    if (await this.repo.nameTaken(name, exceptId)) throw invalid({ name: ['Space with this Name already exists.'] });
  }

  async create(p: SpaceInput): Promise<number> {
    const name = p.name?.trim() || null;
    if (name !== null) await this.checkName(name, null);
    return this.repo.insert(name, p.description ?? '');
  }

  async update(key: string, p: SpaceInput): Promise<number> {
    if (this.isUndefined(key)) throw invalid(`Space cannot be modified: ${UNDEFINED_SPACE_NAME}`);
    const s = await this.spaceOr404(key);
    const name = p.name !== undefined && p.name.trim() !== '' ? p.name.trim() : s.name;
    if (name !== s.name) await this.checkName(name, s.id);
    await this.repo.update(s.id, name, p.description ?? s.description);
    return s.id;
  }

  async delete(key: string): Promise<void> {
    if (this.isUndefined(key)) throw invalid(`Space cannot be deleted: ${UNDEFINED_SPACE_NAME}`);
    await this.repo.delete((await this.spaceOr404(key)).id);
  }

  list(): Promise<SpaceRow[]> {
    return this.repo.list();
  }

  hasUndefinedSpace(): Promise<boolean> {
    return this.repo.anyVlanWithoutSpace();
  }
}
