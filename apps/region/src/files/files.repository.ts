import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StoredFile {
  id: number;
  filename: string;
  ownerId: number | null;
  key: string;
}

export interface StoredFileWithContent extends StoredFile {
  content: Buffer;
}

const COLS = `id, filename, owner_id AS "ownerId", key`;

/** Every query on the file storage. */
@Injectable()
export class FilesRepository {
  constructor(private readonly ds: DataSource) {}

  /** The owner's files, by name, optionally those whose name starts with `prefix` (without content). */
  list(ownerId: number, prefix: string | undefined): Promise<StoredFile[]> {
    return prefix === undefined
      ? this.ds.query(`SELECT ${COLS} FROM files WHERE owner_id = $1 ORDER BY filename`, [ownerId])
      : this.ds.query(`SELECT ${COLS} FROM files WHERE owner_id = $1 AND starts_with(filename, $2) ORDER BY filename`, [ownerId, prefix]);
  }

  async byName(ownerId: number, filename: string): Promise<StoredFileWithContent | null> {
    const rows: StoredFileWithContent[] = await this.ds.query(`SELECT ${COLS}, content FROM files WHERE owner_id = $1 AND filename = $2`, [ownerId, filename]);
    return rows[0] ?? null;
  }

  async byKey(key: string): Promise<StoredFileWithContent | null> {
    const rows: StoredFileWithContent[] = await this.ds.query(`SELECT ${COLS}, content FROM files WHERE key = $1`, [key]);
    return rows[0] ?? null;
  }

  /** Stores the file, replacing the content of the owner's file of that name (which keeps its key). */
  async save(ownerId: number, filename: string, key: string, content: Buffer): Promise<void> {
    await this.ds.query(
      `INSERT INTO files (filename, owner_id, key, content) VALUES ($1, $2, $3, $4)
       ON CONFLICT (COALESCE(owner_id, 0), filename) DO UPDATE SET content = EXCLUDED.content`,
      [filename, ownerId, key, content],
    );
  }

  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM files WHERE id = $1`, [id]);
  }
}
