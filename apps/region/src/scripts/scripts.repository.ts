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

  // ---- the catalogue (scripts/ API) ------------------------------------------------------------

  /** Every script, optionally of one type and hardware type, by name. */
  listScripts(filter: { scriptType?: number; hardwareType?: number } = {}): Promise<ScriptRow[]> {
    return this.ds.query(
      `${SELECT_SCRIPT} WHERE ($1::smallint IS NULL OR script_type = $1) AND ($2::smallint IS NULL OR hardware_type = $2) ORDER BY id`,
      [filter.scriptType ?? null, filter.hardwareType ?? null],
    );
  }

  /** The script named, or with this id (MAAS: an all-digit name is an id). */
  async findScript(nameOrId: string, em?: EntityManager): Promise<ScriptRow | null> {
    const byId = /^\d+$/.test(nameOrId);
    if (byId && !Number.isSafeInteger(Number(nameOrId))) return null;
    const lock = em ? ' FOR UPDATE' : '';
    const rows: ScriptRow[] = await (em ?? this.ds.manager).query(
      `${SELECT_SCRIPT} WHERE ${byId ? 'id = $1::int' : 'name = $1'}${lock}`,
      [byId ? Number(nameOrId) : nameOrId],
    );
    return rows[0] ?? null;
  }

  async nameTaken(em: EntityManager, name: string, exceptId: number): Promise<boolean> {
    const rows = await em.query(`SELECT 1 FROM scripts WHERE name = $1 AND id <> $2`, [name, exceptId]);
    return rows.length > 0;
  }

  /**
   * Revisions of these scripts up to their current one, newest first (MAAS `previous_versions()`),
   * with the text only when asked for.
   */
  history(scriptIds: number[], withData: boolean): Promise<ScriptVersionRow[]> {
    if (!scriptIds.length) return Promise.resolve([]);
    return this.ds.query(
      `SELECT v.id, v.script_id, v.comment, v.created, v.sha256${withData ? ', v.data' : ''}
         FROM script_versions v JOIN scripts s ON s.id = v.script_id
        WHERE v.script_id = ANY($1) AND v.id <= s.current_version_id
        ORDER BY v.script_id, v.id DESC`,
      [scriptIds],
    );
  }

  /** One revision's text, if it is one of the script's revisions up to its current one. */
  async revisionData(scriptId: number, versionId: number): Promise<Buffer | null> {
    const [row]: { data: Buffer }[] = await this.ds.query(
      `SELECT v.data FROM script_versions v JOIN scripts s ON s.id = v.script_id
        WHERE v.script_id = $1 AND v.id = $2 AND v.id <= s.current_version_id`,
      [scriptId, versionId],
    );
    return row?.data ?? null;
  }

  /** Replaces every field of a script (tags and timeout included). */
  async updateAll(em: EntityManager, id: number, f: ScriptFields): Promise<void> {
    await em.query(
      `UPDATE scripts SET name = $2, title = $3, description = $4, tags = $5, script_type = $6, hardware_type = $7, parallel = $8,
         timeout_seconds = $9, destructive = $10, may_reboot = $11, recommission = $12, apply_configured_networking = $13,
         for_hardware = $14, packages = $15, parameters = $16, results = $17, updated = now() WHERE id = $1`,
      [
        id,
        f.name,
        f.title,
        f.description,
        f.tags,
        f.scriptType,
        f.hardwareType,
        f.parallel,
        f.timeoutSeconds,
        f.destructive,
        f.mayReboot,
        f.recommission,
        f.applyConfiguredNetworking,
        f.forHardware,
        JSON.stringify(f.packages),
        JSON.stringify(f.parameters),
        JSON.stringify(f.results),
      ],
    );
  }

  async setTags(id: number, tags: string[]): Promise<void> {
    await this.ds.query(`UPDATE scripts SET tags = $2, updated = now() WHERE id = $1`, [id, tags]);
  }

  /** Makes `versionId` current and drops the revisions after it (MAAS's revert garbage-collects them). */
  async revertTo(em: EntityManager, scriptId: number, versionId: number): Promise<void> {
    await em.query(`UPDATE scripts SET current_version_id = $2, updated = now() WHERE id = $1`, [scriptId, versionId]);
    await em.query(`DELETE FROM script_versions WHERE script_id = $1 AND id > $2`, [scriptId, versionId]);
  }

  async deleteScript(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM scripts WHERE id = $1`, [id]);
  }
}

/** A `scripts` row with its current revision's text. */
export interface ScriptRow {
  id: number;
  name: string;
  title: string;
  description: string;
  tags: string[];
  script_type: number;
  hardware_type: number;
  parallel: number;
  timeout_seconds: number;
  destructive: boolean;
  may_reboot: boolean;
  recommission: boolean;
  apply_configured_networking: boolean;
  for_hardware: string[];
  packages: Record<string, unknown>;
  parameters: Record<string, unknown>;
  results: Record<string, unknown>;
  is_default: boolean;
  current_version_id: number | null;
  data: Buffer | null;
}

export interface ScriptVersionRow {
  id: number;
  script_id: number;
  comment: string;
  created: Date;
  sha256: string;
  data?: Buffer;
}

const SELECT_SCRIPT = `
  SELECT s.id, s.name, s.title, s.description, s.tags, s.script_type, s.hardware_type, s.parallel, s.timeout_seconds,
         s.destructive, s.may_reboot, s.recommission, s.apply_configured_networking, s.for_hardware, s.packages,
         s.parameters, s.results, s.is_default, s.current_version_id,
         (SELECT v.data FROM script_versions v WHERE v.id = s.current_version_id) AS data
    FROM scripts s`;

/** A stored row as the form's fields. */
export function scriptFields(r: ScriptRow): ScriptFields {
  return {
    name: r.name,
    title: r.title,
    description: r.description,
    tags: r.tags,
    scriptType: r.script_type,
    hardwareType: r.hardware_type,
    parallel: r.parallel,
    timeoutSeconds: r.timeout_seconds,
    destructive: r.destructive,
    mayReboot: r.may_reboot,
    recommission: r.recommission,
    applyConfiguredNetworking: r.apply_configured_networking,
    forHardware: r.for_hardware,
    packages: r.packages,
    parameters: r.parameters,
    results: r.results,
    isDefault: r.is_default,
  };
}
