import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A boot resource with its sets and files, as the API and the racks see it. */
export interface BootResourceRow {
  id: number;
  rtype: number;
  name: string;
  architecture: string;
  extra: Record<string, string>;
  updated: Date;
  sets: BootResourceSetRow[];
}

export interface BootResourceSetRow {
  id: number;
  version: string;
  label: string;
  files: BootResourceFileRow[];
}

export interface BootResourceFileRow {
  id: number;
  filename: string;
  filetype: string;
  sha256: string;
  size: number;
  contentId: number | null;
  /** Bytes stored so far (== size once complete). */
  stored: number;
  /** Every byte in and the digest checked. */
  complete: boolean;
}

export interface ContentRow {
  id: number;
  sha256: string | null;
  size: number;
  stored: number;
}

/** A piece of stored bytes at offset `start`. */
export interface ChunkRow {
  start: number;
  data: Buffer;
}

/** Every query on boot resources and their stored bytes. */
@Injectable()
export class BootResourcesRepository {
  constructor(private readonly ds: DataSource) {}

  /** Resources (all, or those with the given ids) with their sets (newest first) and files. */
  async list(ids?: number[]): Promise<BootResourceRow[]> {
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT r.id, r.rtype, r.name, r.architecture, r.extra, r.updated,
              s.id AS set_id, s.version, s.label,
              f.id AS file_id, f.filename, f.filetype, f.sha256, f.size, f.content_id,
              c.stored, c.sha256 IS NOT NULL AS complete
         FROM boot_resources r
         LEFT JOIN boot_resource_sets s ON s.resource_id = r.id
         LEFT JOIN boot_resource_files f ON f.set_id = s.id
         LEFT JOIN boot_resource_contents c ON c.id = f.content_id
        WHERE ($1::int[] IS NULL OR r.id = ANY($1::int[]))
        ORDER BY r.id, s.id DESC, f.id`,
      [ids ?? null],
    );
    const out = new Map<number, BootResourceRow>();
    for (const row of rows) {
      const id = Number(row.id);
      let r = out.get(id);
      if (!r) {
        r = {
          id,
          rtype: Number(row.rtype),
          name: String(row.name),
          architecture: String(row.architecture),
          extra: (row.extra as Record<string, string>) ?? {},
          updated: row.updated as Date,
          sets: [],
        };
        out.set(id, r);
      }
      if (row.set_id === null) continue;
      let set = r.sets.find((s) => s.id === Number(row.set_id));
      if (!set) {
        set = { id: Number(row.set_id), version: String(row.version), label: String(row.label), files: [] };
        r.sets.push(set);
      }
      if (row.file_id === null) continue;
      set.files.push({
        id: Number(row.file_id),
        filename: String(row.filename),
        filetype: String(row.filetype),
        sha256: String(row.sha256),
        size: Number(row.size),
        contentId: row.content_id === null ? null : Number(row.content_id),
        stored: row.stored === null ? 0 : Number(row.stored),
        complete: row.complete === true,
      });
    }
    return [...out.values()];
  }

  async get(id: number): Promise<BootResourceRow | null> {
    return (await this.list([id]))[0] ?? null;
  }

  async findId(name: string, architecture: string): Promise<number | null> {
    const [row] = await this.ds.query(`SELECT id FROM boot_resources WHERE name = $1 AND architecture = $2`, [name, architecture]);
    return row ? Number(row.id) : null;
  }

  /**
   * Creates (or reuses) the resource `name`/`architecture` and its set `version`, and puts the
   * given files in that set (a file of the same name is replaced; its stored bytes are kept when
   * the digest and size are the same). Returns the resource id.
   */
  async createWithSet(input: {
    rtype: number;
    name: string;
    architecture: string;
    extra: Record<string, string>;
    version: string;
    label: string;
    files: Array<{ filename: string; filetype: string; sha256: string; size: number }>;
  }): Promise<number> {
    return this.ds.transaction(async (em) => {
      const [res] = await em.query(
        `INSERT INTO boot_resources (rtype, name, architecture, extra) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name, architecture) DO UPDATE SET rtype = EXCLUDED.rtype, extra = boot_resources.extra || EXCLUDED.extra, updated = now()
         RETURNING id`,
        [input.rtype, input.name, input.architecture, JSON.stringify(input.extra)],
      );
      const resourceId = Number(res.id);
      const [set] = await em.query(
        `INSERT INTO boot_resource_sets (resource_id, version, label) VALUES ($1, $2, $3)
         ON CONFLICT (resource_id, version) DO UPDATE SET label = EXCLUDED.label RETURNING id`,
        [resourceId, input.version, input.label],
      );
      for (const f of input.files) {
        // Bytes already stored under this digest are shared: the file is complete at once.
        await em.query(
          `INSERT INTO boot_resource_files (set_id, filename, filetype, sha256, size, content_id)
           VALUES ($1, $2, $3, $4::varchar, $5::bigint, (SELECT id FROM boot_resource_contents WHERE sha256 = $4::varchar AND size = $5::bigint))
           ON CONFLICT (set_id, filename) DO UPDATE SET filetype = EXCLUDED.filetype, sha256 = EXCLUDED.sha256, size = EXCLUDED.size,
             content_id = CASE WHEN boot_resource_files.sha256 = EXCLUDED.sha256 AND boot_resource_files.size = EXCLUDED.size
                               THEN COALESCE(boot_resource_files.content_id, EXCLUDED.content_id) ELSE EXCLUDED.content_id END`,
          [Number(set.id), f.filename, f.filetype, f.sha256, f.size],
        );
      }
      return resourceId;
    });
  }

  /** Deletes a resource (its sets and files go with it); false if there was none. */
  async delete(id: number): Promise<boolean> {
    const [, count] = await this.ds.query(`DELETE FROM boot_resources WHERE id = $1`, [id]);
    return count > 0;
  }

  /** Deletes stored bytes no file names any more; returns how many contents went. */
  async collectGarbage(): Promise<number> {
    const [, count] = await this.ds.query(
      `DELETE FROM boot_resource_contents c WHERE NOT EXISTS (SELECT 1 FROM boot_resource_files f WHERE f.content_id = c.id)`,
    );
    return count;
  }

  async file(resourceId: number, fileId: number): Promise<(BootResourceFileRow & { rtype: number }) | null> {
    const [row] = await this.ds.query(
      `SELECT f.id, f.filename, f.filetype, f.sha256, f.size, f.content_id, c.stored, c.sha256 IS NOT NULL AS complete, r.rtype
         FROM boot_resource_files f
         JOIN boot_resource_sets s ON s.id = f.set_id
         JOIN boot_resources r ON r.id = s.resource_id
         LEFT JOIN boot_resource_contents c ON c.id = f.content_id
        WHERE r.id = $1 AND f.id = $2`,
      [resourceId, fileId],
    );
    if (!row) return null;
    return {
      id: Number(row.id),
      filename: row.filename,
      filetype: row.filetype,
      sha256: row.sha256,
      size: Number(row.size),
      contentId: row.content_id === null ? null : Number(row.content_id),
      stored: row.stored === null ? 0 : Number(row.stored),
      complete: row.complete === true,
      rtype: Number(row.rtype),
    };
  }

  /** Starts the bytes of a file: a new content of `size` bytes, none stored yet, linked to the file. */
  async startContent(fileId: number, size: number): Promise<number> {
    return this.ds.transaction(async (em) => {
      const [c] = await em.query(`INSERT INTO boot_resource_contents (size) VALUES ($1) RETURNING id`, [size]);
      await em.query(`UPDATE boot_resource_files SET content_id = $1 WHERE id = $2`, [Number(c.id), fileId]);
      return Number(c.id);
    });
  }

  /**
   * Appends a chunk at `start`, which must be where the stored bytes end (a concurrent upload to
   * the same file loses the race and gets false).
   */
  async appendChunk(contentId: number, start: number, data: Buffer): Promise<boolean> {
    return this.ds.transaction(async (em) => {
      const [, count] = await em.query(
        `UPDATE boot_resource_contents SET stored = stored + $3 WHERE id = $1 AND stored = $2 AND sha256 IS NULL`,
        [contentId, start, data.length],
      );
      if (count !== 1) return false;
      await em.query(`INSERT INTO boot_resource_chunks (content_id, start, data) VALUES ($1, $2, $3)`, [contentId, start, data]);
      return true;
    });
  }

  async content(contentId: number): Promise<ContentRow | null> {
    const [row] = await this.ds.query(`SELECT id, sha256, size, stored FROM boot_resource_contents WHERE id = $1`, [contentId]);
    return row ? { id: Number(row.id), sha256: row.sha256, size: Number(row.size), stored: Number(row.stored) } : null;
  }

  /** The complete content with this digest. */
  async contentBySha256(sha256: string): Promise<ContentRow | null> {
    const [row] = await this.ds.query(`SELECT id, sha256, size, stored FROM boot_resource_contents WHERE sha256 = $1`, [sha256]);
    return row ? { id: Number(row.id), sha256: row.sha256, size: Number(row.size), stored: Number(row.stored) } : null;
  }

  /**
   * Seals a fully stored content under its digest. When the same bytes are already stored, the
   * file is pointed at them and this copy dropped (content addressing). Returns the content id the
   * file now names.
   */
  async sealContent(contentId: number, sha256: string): Promise<number> {
    return this.ds.transaction(async (em) => {
      const [existing] = await em.query(`SELECT id FROM boot_resource_contents WHERE sha256 = $1 FOR UPDATE`, [sha256]);
      if (existing) {
        await em.query(`UPDATE boot_resource_files SET content_id = $1 WHERE content_id = $2`, [Number(existing.id), contentId]);
        await em.query(`DELETE FROM boot_resource_contents WHERE id = $1`, [contentId]);
        return Number(existing.id);
      }
      await em.query(`UPDATE boot_resource_contents SET sha256 = $2 WHERE id = $1`, [contentId, sha256]);
      // Other files waiting for the same bytes (another resource's set) are complete too.
      await em.query(`UPDATE boot_resource_files SET content_id = $1 WHERE sha256 = $2 AND content_id IS NULL`, [contentId, sha256]);
      return contentId;
    });
  }

  /** Drops a content whose bytes were wrong; its file starts over. */
  async dropContent(contentId: number): Promise<void> {
    await this.ds.query(`DELETE FROM boot_resource_contents WHERE id = $1`, [contentId]);
  }

  /** How many bytes of a content its chunks hold (0 when it has none). */
  async storedBytes(contentId: number): Promise<number> {
    const [row] = await this.ds.query(`SELECT coalesce(sum(octet_length(data)), 0)::bigint AS n FROM boot_resource_chunks WHERE content_id = $1`, [contentId]);
    return Number(row.n);
  }

  /** The chunk holding byte `offset`, or null past the end. */
  async chunkAt(contentId: number, offset: number): Promise<ChunkRow | null> {
    const [row] = await this.ds.query(
      `SELECT start, data FROM boot_resource_chunks WHERE content_id = $1 AND start <= $2 ORDER BY start DESC LIMIT 1`,
      [contentId, offset],
    );
    if (!row) return null;
    const chunk = { start: Number(row.start), data: row.data as Buffer };
    return offset < chunk.start + chunk.data.length ? chunk : null;
  }

  /** The enrolled NATS public key of a rack (what its download requests are signed with). */
  async rackNkey(rackId: string): Promise<string | null> {
    const [row] = await this.ds.query(`SELECT nats_nkey FROM rack_controllers WHERE system_id = $1`, [rackId]);
    return row?.nats_nkey ?? null;
  }
}
