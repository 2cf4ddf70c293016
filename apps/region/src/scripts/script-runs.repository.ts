import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** A script as a run needs it: what selects it, what it runs with, and its current revision. */
export interface RunnableScript {
  id: number;
  name: string;
  tags: string[];
  scriptType: number;
  hardwareType: number;
  parallel: number;
  timeoutSeconds: number;
  destructive: boolean;
  mayReboot: boolean;
  applyConfiguredNetworking: boolean;
  forHardware: string[];
  packages: Record<string, unknown>;
  parameters: Record<string, Record<string, unknown>>;
  isDefault: boolean;
  currentVersionId: number | null;
}

export interface RunDisk {
  id: number;
  name: string;
  model: string;
  serial: string;
  idPath: string | null;
}

export interface RunInterface {
  id: number;
  name: string;
  macAddress: string;
  vendor: string | null;
  product: string | null;
}

export interface NewScriptResult {
  scriptSetId: number;
  scriptId: number | null;
  scriptVersionId: number | null;
  scriptName: string;
  status: number;
  parameters: Record<string, unknown>;
  blockDeviceId?: number | null;
  interfaceId?: number | null;
}

/** A result of a run, with what the tarball and the signal handler need of its script. */
export interface RunResultRow {
  id: number;
  script_set_id: number;
  result_type: number;
  script_id: number | null;
  script_version_id: number | null;
  script_name: string;
  status: number;
  parameters: Record<string, unknown>;
  started: Date | null;
  output: Buffer | null;
  stdout: Buffer | null;
  stderr: Buffer | null;
  result: Buffer | null;
  /** Null for a result without a script (enlistment) or whose script was deleted. */
  script_type: number | null;
  hardware_type: number | null;
  parallel: number | null;
  timeout_seconds: number | null;
  apply_configured_networking: boolean | null;
  for_hardware: string[] | null;
  packages: Record<string, unknown> | null;
  tags: string[] | null;
  is_default: boolean | null;
  may_reboot: boolean | null;
  data: Buffer | null;
}

export interface NodeTokenRow {
  id: number;
  machine_id: number;
  consumer_key: string;
  token_key: string;
  token_secret: string;
  purpose: string;
  revoked: Date | null;
  system_id: string;
}

/** A result locked for a signal to update. */
export interface LockedResult {
  id: number;
  status: number;
  script_name: string;
  script_set_id: number;
  interface_id: number | null;
}

/** Script statuses that are not finished (pending, running, installing, applying netconf). */
export const UNFINISHED_STATUSES = [0, 1, 7, 10];

const SCRIPT_COLUMNS = `s.id, s.name, s.tags, s.script_type, s.hardware_type, s.parallel, s.timeout_seconds, s.destructive, s.may_reboot,
  s.apply_configured_networking, s.for_hardware, s.packages, s.parameters, s.is_default, s.current_version_id`;

interface ScriptRow {
  id: number;
  name: string;
  tags: string[];
  script_type: number;
  hardware_type: number;
  parallel: number;
  timeout_seconds: number;
  destructive: boolean;
  may_reboot: boolean;
  apply_configured_networking: boolean;
  for_hardware: string[];
  packages: Record<string, unknown>;
  parameters: Record<string, Record<string, unknown>>;
  is_default: boolean;
  current_version_id: number | null;
}

function toScript(r: ScriptRow): RunnableScript {
  return {
    id: r.id,
    name: r.name,
    tags: r.tags,
    scriptType: r.script_type,
    hardwareType: r.hardware_type,
    parallel: r.parallel,
    timeoutSeconds: r.timeout_seconds,
    destructive: r.destructive,
    mayReboot: r.may_reboot,
    applyConfiguredNetworking: r.apply_configured_networking,
    forHardware: r.for_hardware,
    packages: r.packages,
    parameters: r.parameters,
    isDefault: r.is_default,
    currentVersionId: r.current_version_id,
  };
}

/** Every SQL string about runs (script sets and their results) and the node tokens of a run. */
@Injectable()
export class ScriptRunsRepository {
  constructor(private readonly ds: DataSource) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(work);
  }

  /** Outside a transaction. */
  manager(): EntityManager {
    return this.ds.manager;
  }

  async scriptsOfType(em: EntityManager, scriptType: number): Promise<RunnableScript[]> {
    const rows: ScriptRow[] = await em.query(`SELECT ${SCRIPT_COLUMNS} FROM scripts s WHERE s.script_type = $1 ORDER BY s.name`, [scriptType]);
    return rows.map(toScript);
  }

  async disksOf(em: EntityManager, machineId: number): Promise<RunDisk[]> {
    const rows: { id: number; name: string; model: string; serial: string; id_path: string | null }[] = await em.query(
      `SELECT id, name, model, serial, id_path FROM block_devices WHERE machine_id = $1 AND type = 'physical' ORDER BY name, id`,
      [machineId],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, model: r.model, serial: r.serial, idPath: r.id_path }));
  }

  async interfacesOf(em: EntityManager, machineId: number): Promise<RunInterface[]> {
    const rows: { id: number; name: string; mac_address: string; vendor: string | null; product: string | null }[] = await em.query(
      `SELECT id, name, mac_address, vendor, product FROM interfaces WHERE machine_id = $1 AND type = 'physical' ORDER BY name, id`,
      [machineId],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, macAddress: r.mac_address, vendor: r.vendor, product: r.product }));
  }

  async createSet(em: EntityManager, machineId: number, resultType: number, requested: string[]): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO script_sets (machine_id, result_type, requested_scripts) VALUES ($1, $2, $3) RETURNING id`,
      [machineId, resultType, requested],
    );
    return row.id;
  }

  async addResult(em: EntityManager, r: NewScriptResult): Promise<number> {
    const [row]: { id: number }[] = await em.query(
      `INSERT INTO script_results (script_set_id, script_id, script_version_id, script_name, status, parameters, block_device_id, interface_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [r.scriptSetId, r.scriptId, r.scriptVersionId, r.scriptName, r.status, JSON.stringify(r.parameters), r.blockDeviceId ?? null, r.interfaceId ?? null],
    );
    return row.id;
  }

  /** Marks the unfinished results of these sets Aborted; returns how many. */
  async abortUnfinished(em: EntityManager, setIds: number[]): Promise<number> {
    if (!setIds.length) return 0;
    const rows: unknown[] = await em.query(
      `UPDATE script_results SET status = 5, ended = now(), updated = now() WHERE script_set_id = ANY($1) AND status = ANY($2) RETURNING id`,
      [setIds, UNFINISHED_STATUSES],
    );
    return rows.length;
  }

  async hasUnfinished(em: EntityManager, setId: number): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM script_results WHERE script_set_id = $1 AND status = ANY($2) LIMIT 1`, [setId, UNFINISHED_STATUSES]);
    return rows.length > 0;
  }

  /** The results of these sets, with their scripts' run settings and revision text, ordered by name then id. */
  async resultsOfSets(em: EntityManager, setIds: number[]): Promise<RunResultRow[]> {
    if (!setIds.length) return [];
    return em.query(
      `SELECT r.id, r.script_set_id, ss.result_type, r.script_id, r.script_version_id, r.script_name, r.status, r.parameters, r.started,
              r.output, r.stdout, r.stderr, r.result,
              s.script_type, s.hardware_type, s.parallel, s.timeout_seconds, s.apply_configured_networking, s.for_hardware, s.packages,
              s.tags, s.is_default, s.may_reboot, v.data
         FROM script_results r
         JOIN script_sets ss ON ss.id = r.script_set_id
         LEFT JOIN scripts s ON s.id = r.script_id
         LEFT JOIN script_versions v ON v.id = r.script_version_id
        WHERE r.script_set_id = ANY($1)
        ORDER BY r.script_name, r.id`,
      [setIds],
    );
  }

  /** Names of the scripts that already have a result in a set. */
  async resultNames(em: EntityManager, setId: number): Promise<string[]> {
    const rows: { script_name: string }[] = await em.query(`SELECT DISTINCT script_name FROM script_results WHERE script_set_id = $1`, [setId]);
    return rows.map((r) => r.script_name);
  }

  async requestedScripts(em: EntityManager, setId: number): Promise<string[]> {
    const rows: { requested_scripts: string[] }[] = await em.query(`SELECT requested_scripts FROM script_sets WHERE id = $1`, [setId]);
    return rows[0]?.requested_scripts ?? [];
  }

  /** Locks a result of a set for update. */
  async lockResult(em: EntityManager, setIds: number[], id: number): Promise<LockedResult | null> {
    if (!setIds.length) return null;
    const rows = await em.query(
      `SELECT id, status, script_name, script_set_id, interface_id FROM script_results WHERE id = $1 AND script_set_id = ANY($2) FOR UPDATE`,
      [id, setIds],
    );
    return rows[0] ?? null;
  }

  /** The first unfinished (else the latest) result of a script by name in these sets, locked. */
  async lockResultByName(
    em: EntityManager,
    setIds: number[],
    name: string,
  ): Promise<LockedResult | null> {
    if (!setIds.length) return null;
    const rows = await em.query(
      `SELECT id, status, script_name, script_set_id, interface_id FROM script_results WHERE script_name = $1 AND script_set_id = ANY($2)
        ORDER BY (status = ANY($3)) DESC, id LIMIT 1 FOR UPDATE`,
      [name, setIds, UNFINISHED_STATUSES],
    );
    return rows[0] ?? null;
  }

  async updateResult(
    em: EntityManager,
    id: number,
    f: {
      status: number;
      exitStatus?: number | null;
      runtime?: number | null;
      started?: boolean;
      ended?: boolean;
      output?: Buffer;
      stdout?: Buffer;
      stderr?: Buffer;
      result?: Buffer;
      scriptVersionId?: number | null;
    },
  ): Promise<void> {
    const sets: string[] = ['status = $2', 'updated = now()'];
    const values: unknown[] = [id, f.status];
    const add = (col: string, v: unknown) => {
      values.push(v);
      sets.push(`${col} = $${values.length}`);
    };
    if (f.exitStatus !== undefined) add('exit_status', f.exitStatus);
    if (f.runtime !== undefined) add('runtime', f.runtime);
    if (f.output !== undefined) add('output', f.output);
    if (f.stdout !== undefined) add('stdout', f.stdout);
    if (f.stderr !== undefined) add('stderr', f.stderr);
    if (f.result !== undefined) add('result', f.result);
    if (f.scriptVersionId !== undefined && f.scriptVersionId !== null) add('script_version_id', f.scriptVersionId);
    if (f.started) sets.push('started = COALESCE(started, now())');
    if (f.ended) sets.push('ended = now()');
    await em.query(`UPDATE script_results SET ${sets.join(', ')} WHERE id = $1`, values);
  }

  /** What an interface test found of the link (result YAML `link_connected`). */
  async setLinkConnected(em: EntityManager, interfaceId: number, connected: boolean): Promise<void> {
    await em.query(`UPDATE interfaces SET link_connected = $2 WHERE id = $1`, [interfaceId, connected]);
  }

  async scriptByName(em: EntityManager, name: string): Promise<RunnableScript | null> {
    const rows: ScriptRow[] = await em.query(`SELECT ${SCRIPT_COLUMNS} FROM scripts s WHERE s.name = $1`, [name]);
    return rows[0] ? toScript(rows[0]) : null;
  }

  /** Status counts of a set's results: how many failed (failed, timed out, failed installing/netconf). */
  async failedResults(em: EntityManager, setId: number | null): Promise<string[]> {
    if (setId === null) return [];
    const rows: { script_name: string }[] = await em.query(
      `SELECT script_name FROM script_results WHERE script_set_id = $1 AND status IN (3, 4, 8, 11) ORDER BY script_name, id`,
      [setId],
    );
    return rows.map((r) => r.script_name);
  }

  /** The failed results of a set with the last bytes of their combined output (stderr when there is none). */
  async failedResultTails(em: EntityManager, setId: number | null, bytes: number): Promise<{ script_name: string; tail: string }[]> {
    if (setId === null) return [];
    const rows: { script_name: string; tail: Buffer | null }[] = await em.query(
      `SELECT script_name,
              substring(COALESCE(NULLIF(output, ''::bytea), stderr, ''::bytea) FROM greatest(1, length(COALESCE(NULLIF(output, ''::bytea), stderr, ''::bytea)) - $2 + 1)) AS tail
         FROM script_results WHERE script_set_id = $1 AND status IN (3, 4, 8, 11) ORDER BY script_name, id`,
      [setId, bytes],
    );
    return rows.map((r) => ({ script_name: r.script_name, tail: r.tail ? r.tail.toString('utf8') : '' }));
  }

  async pingSets(em: EntityManager, setIds: number[]): Promise<void> {
    if (setIds.length) await em.query(`UPDATE script_sets SET last_ping = now() WHERE id = ANY($1)`, [setIds]);
  }

  // ---- node tokens -------------------------------------------------------------------------

  async createToken(em: EntityManager, machineId: number, t: { consumerKey: string; tokenKey: string; tokenSecret: string; purpose: string }): Promise<void> {
    await em.query(
      `INSERT INTO node_tokens (machine_id, consumer_key, token_key, token_secret, purpose) VALUES ($1, $2, $3, $4, $5)`,
      [machineId, t.consumerKey, t.tokenKey, t.tokenSecret, t.purpose],
    );
  }

  /** Revokes the machine's live tokens (of these purposes, or all); returns how many. */
  async revokeTokens(em: EntityManager, machineId: number, purposes?: string[]): Promise<number> {
    const rows: unknown[] = purposes
      ? await em.query(`UPDATE node_tokens SET revoked = now() WHERE machine_id = $1 AND revoked IS NULL AND purpose = ANY($2) RETURNING id`, [
          machineId,
          purposes,
        ])
      : await em.query(`UPDATE node_tokens SET revoked = now() WHERE machine_id = $1 AND revoked IS NULL RETURNING id`, [machineId]);
    return rows.length;
  }

  async liveToken(em: EntityManager, machineId: number): Promise<NodeTokenRow | null> {
    const rows: NodeTokenRow[] = await em.query(
      `SELECT t.id, t.machine_id, t.consumer_key, t.token_key, t.token_secret, t.purpose, t.revoked, m.system_id
         FROM node_tokens t JOIN machines m ON m.id = t.machine_id
        WHERE t.machine_id = $1 AND t.revoked IS NULL ORDER BY t.id DESC LIMIT 1`,
      [machineId],
    );
    return rows[0] ?? null;
  }

  async tokenByKey(tokenKey: string): Promise<NodeTokenRow | null> {
    const rows: NodeTokenRow[] = await this.ds.query(
      `SELECT t.id, t.machine_id, t.consumer_key, t.token_key, t.token_secret, t.purpose, t.revoked, m.system_id
         FROM node_tokens t JOIN machines m ON m.id = t.machine_id WHERE t.token_key = $1`,
      [tokenKey],
    );
    return rows[0] ?? null;
  }
}
