import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';
import { FilesRepository, StoredFile, StoredFileWithContent } from './files.repository';

/** The most one stored file may hold: the storage keeps files in Postgres, for small blobs (as MAAS). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** MAAS's file storage: files owned per user, shared by an unguessable key. */
@Injectable()
export class FilesService {
  constructor(private readonly repo: FilesRepository) {}

  list(ownerId: number, prefix: string | undefined): Promise<StoredFile[]> {
    return this.repo.list(ownerId, prefix);
  }

  async add(ownerId: number, filename: string | undefined, files: { name: string; data: Buffer }[]): Promise<void> {
    if (!filename) throw invalid('Filename not supplied');
    if (filename.includes('/') || filename.length > 255) throw invalid({ filename: ['A file name may not contain "/" and has at most 255 characters.'] });
    if (!files.length) throw invalid('File not supplied');
    if (files.length !== 1 || files[0].name !== 'file') throw invalid('Exactly one file must be supplied');
    const data = files[0].data;
    if (data.length > MAX_FILE_BYTES) throw invalid({ file: [`The file is ${data.length} bytes; the most a stored file may hold is ${MAX_FILE_BYTES} bytes (16 MiB).`] });
    await this.repo.save(ownerId, filename, randomUUID(), data);
  }

  /** The caller's own file of that name. */
  async byName(ownerId: number, filename: string | undefined): Promise<StoredFileWithContent> {
    if (!filename) throw invalid({ filename: ['This field is required.'] });
    const f = await this.repo.byName(ownerId, filename);
    if (!f) throw notFound('File not found');
    return f;
  }

  /** Anyone's file, for whoever has its key (anonymous callers included, as Juju's agents). */
  async byKey(key: string | undefined): Promise<StoredFileWithContent> {
    if (!key) throw invalid({ key: ['This field is required.'] });
    const f = await this.repo.byKey(key);
    if (!f) throw notFound('No FileStorage matches the given query.');
    return f;
  }

  async delete(ownerId: number, filename: string | undefined): Promise<void> {
    await this.repo.delete((await this.byName(ownerId, filename)).id);
  }
}
