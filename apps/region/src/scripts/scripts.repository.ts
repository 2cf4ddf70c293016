import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A script's metadata as stored (the `scripts` row without its id, revisions and timestamps). */
export interface ScriptFields {
  name: string;
  title: string;
  description: string;
  tags: string[];
  scriptType: number;
  hardwareType: number;
  parallel: number;
  timeoutSeconds: number;
  destructive: boolean;
  mayReboot: boolean;
  recommission: boolean;
  applyConfiguredNetworking: boolean;
  forHardware: string[];
  packages: Record<string, unknown>;
  parameters: Record<string, unknown>;
  results: Record<string, unknown>;
  isDefault: boolean;
}

export interface StoredScriptHead {
  id: number;
  isDefault: boolean;
  /** sha256 of the current revision's text, null when it has none. */
  sha256: string | null;
}

/** Every SQL string about scripts and their revisions. */
@Injectable()
export class ScriptsRepository {
  constructor(private readonly ds: DataSource) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(work);
  }

  /** Serialises the built-in seeding of regions starting side by side (held to the transaction's end). */
  async lockBuiltinSeeding(em: EntityManager): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('kiln.builtin-scripts'))`);
  }

  async findHead(em: EntityManager, name: string): Promise<StoredScriptHead | null> {
    const rows: { id: number; is_default: boolean; sha256: string | null }[] = await em.query(
      `SELECT s.id, s.is_default, v.sha256 FROM scripts s LEFT JOIN script_versions v ON v.id = s.current_version_id WHERE s.name = $1`,
      [name],
    );
    return rows[0] ? { id: rows[0].id, isDefault: rows[0].is_default, sha256: rows[0].sha256 } : null;
  }

  /** Inserts a script with its first revision; returns the script's id. */
  async insert(em: EntityManager, fields: ScriptFields, text: Buffer, sha256: string, comment: string): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO scripts (name, title, description, tags, script_type, hardware_type, parallel, timeout_seconds, destructive,
         may_reboot, recommission, apply_configured_networking, for_hardware, packages, parameters, results, is_default)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
      [
        fields.name,
        fields.title,
        fields.description,
        fields.tags,
        fields.scriptType,
        fields.hardwareType,
        fields.parallel,
        fields.timeoutSeconds,
        fields.destructive,
        fields.mayReboot,
        fields.recommission,
        fields.applyConfiguredNetworking,
        fields.forHardware,
        JSON.stringify(fields.packages),
        JSON.stringify(fields.parameters),
        JSON.stringify(fields.results),
        fields.isDefault,
      ],
    );
    await this.addRevision(em, row.id, text, sha256, comment);
    return row.id;
  }

  /**
   * Replaces a script's metadata, except its tags and timeout (which an operator may have set),
   * and makes `text` its current revision.
   */
  async updateKeepingTagsAndTimeout(em: EntityManager, id: number, fields: ScriptFields, text: Buffer, sha256: string, comment: string): Promise<void> {
    await em.query(
      `UPDATE scripts SET title = $2, description = $3, script_type = $4, hardware_type = $5, parallel = $6, destructive = $7,
         may_reboot = $8, recommission = $9, apply_configured_networking = $10, for_hardware = $11, packages = $12,
         parameters = $13, results = $14, updated = now() WHERE id = $1`,
      [
        id,
        fields.title,
        fields.description,
        fields.scriptType,
        fields.hardwareType,
        fields.parallel,
        fields.destructive,
        fields.mayReboot,
        fields.recommission,
        fields.applyConfiguredNetworking,
        fields.forHardware,
        JSON.stringify(fields.packages),
        JSON.stringify(fields.parameters),
        JSON.stringify(fields.results),
      ],
    );
    await this.addRevision(em, id, text, sha256, comment);
  }

  /** Adds a revision and makes it the script's current one. */
  async addRevision(em: EntityManager, scriptId: number, text: Buffer, sha256: string, comment: string): Promise<number> {
    const [v]: { id: number }[] = await em.query(
      `INSERT INTO script_versions (script_id, data, sha256, comment) VALUES ($1, $2, $3, $4) RETURNING id`,
      [scriptId, text, sha256, comment],
    );
    await em.query(`UPDATE scripts SET current_version_id = $2 WHERE id = $1`, [scriptId, v.id]);
    return v.id;
  }
}
