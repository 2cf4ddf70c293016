import { Injectable } from '@nestjs/common';
import { conflict, invalid, notFound } from '../common/domain.error';
import { applyPackageRepositoryInput, PackageRepository, PackageRepositoryInput } from './package-repository.form';
import { PackageRepositoriesRepository } from './package-repositories.repository';

const EMPTY = { name: '', url: '', distributions: [], disabledPockets: [], disabledComponents: [], disableSources: true, components: [], arches: [], key: '', enabled: true, default: false };

/**
 * Package repositories machines are deployed with (MAAS's PackageRepository). Stored and served by
 * the API; Kiln's curtin configuration does not write them into deployed machines' apt sources yet.
 */
@Injectable()
export class PackageRepositoriesService {
  constructor(private readonly repo: PackageRepositoriesRepository) {}

  list(): Promise<PackageRepository[]> {
    return this.repo.list();
  }

  async get(id: number): Promise<PackageRepository> {
    const r = Number.isInteger(id) ? await this.repo.find(id) : null;
    if (!r) throw notFound('No PackageRepository matches the given query.');
    return r;
  }

  async create(input: PackageRepositoryInput): Promise<PackageRepository> {
    const applied = applyPackageRepositoryInput(EMPTY, input);
    if (!applied.ok) throw invalid(applied.errors);
    if (await this.repo.nameTaken(applied.fields.name, 0)) throw invalid({ name: ['Package repository with this Name already exists.'] });
    return this.get(await this.repo.insert(applied.fields));
  }

  async update(id: number, input: PackageRepositoryInput): Promise<PackageRepository> {
    const current = await this.get(id);
    const applied = applyPackageRepositoryInput(current, input);
    if (!applied.ok) throw invalid(applied.errors);
    if (await this.repo.nameTaken(applied.fields.name, id)) throw invalid({ name: ['Package repository with this Name already exists.'] });
    await this.repo.update(id, applied.fields);
    return this.get(id);
  }

  async delete(id: number): Promise<void> {
    const r = await this.get(id);
    if (r.default) throw conflict("This is a default Ubuntu repository. It can't be deleted.");
    await this.repo.delete(id);
  }
}
