import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** What the results API reads of a machine. */
export interface ResultsMachineRow {
  id: number;
  system_id: string;
  hostname: string;
  fqdn: string;
  owner_id: number | null;
  current_commissioning_script_set_id: number | null;
  current_testing_script_set_id: number | null;
  current_installation_script_set_id: number | null;
}

/** One run (script set) with its aggregates over all its results. */
export interface ScriptSetRow {
  id: number;
  machine_id: number;
  result_type: number;
  last_ping: Date | null;
  /** MAAS's aggregate status (kiln_script_status): -1 when the run has no results. */
  status: number;
  started: Date | null;
  /** Null while any result has not ended. */
  ended: Date | null;
}

export interface ScriptResultRow {
  id: number;
  script_set_id: number;
  script_id: number | null;
  script_version_id: number | null;
  /** The script's name, or the name the result was stored under when it has no script. */
  name: string;
  status: number;
  exit_status: number | null;
  started: Date | null;
  ended: Date | null;
  parameters: Record<string, { type: string; value?: unknown }>;
  suppressed: boolean;
  created: Date;
  updated: Date;
  tags: string[] | null;
  hardware_type: number | null;
  timeout_seconds: number | null;
  block_device_id: number | null;
  block_device_name: string | null;
  interface_id: number | null;
  interface_name: string | null;
  output?: Buffer | null;
  stdout?: Buffer | null;
  stderr?: Buffer | null;
  result?: Buffer | null;
}

/** A passed run of a script on the machine, for estimated runtimes. */
export interface PassedRunRow {
  id: number;
  script_id: number | null;
  script_name: string;
  block_device_id: number | null;
  seconds: number;
}

const SET_COLUMNS = `
  ss.id, ss.machine_id, ss.result_type, ss.last_ping,
  (SELECT kiln_script_status(array_agg(r.status) FILTER (WHERE NOT r.suppressed), count(*) > 0)
     FROM script_results r WHERE r.script_set_id = ss.id) AS status,
  (SELECT min(r.started) FROM script_results r WHERE r.script_set_id = ss.id) AS started,
  (SELECT CASE WHEN bool_or(r.ended IS NULL) THEN NULL ELSE max(r.ended) END
     FROM script_results r WHERE r.script_set_id = ss.id) AS ended`;

/** Every SQL string of the results API: machines' runs, their results and outputs. */
@Injectable()
export class ScriptResultsRepository {
  constructor(private readonly ds: DataSource) {}

  async machine(systemId: string): Promise<ResultsMachineRow | null> {
    const [row] = await this.ds.query(
      `SELECT m.id, m.system_id, m.hostname, m.hostname || '.' || d.name AS fqdn, m.owner_id,
              m.current_commissioning_script_set_id, m.current_testing_script_set_id, m.current_installation_script_set_id
         FROM machines m JOIN domains d ON d.id = m.domain_id WHERE m.system_id = $1`,
      [systemId],
    );
    return row ?? null;
  }

  /** The machine's runs, optionally of one type, oldest first. */
  sets(machineId: number, resultType?: number): Promise<ScriptSetRow[]> {
    return this.ds.query(
      `SELECT ${SET_COLUMNS} FROM script_sets ss
        WHERE ss.machine_id = $1 AND ($2::smallint IS NULL OR ss.result_type = $2) ORDER BY ss.id`,
      [machineId, resultType ?? null],
    );
  }

  async set(machineId: number, setId: number): Promise<ScriptSetRow | null> {
    const [row] = await this.ds.query(`SELECT ${SET_COLUMNS} FROM script_sets ss WHERE ss.machine_id = $1 AND ss.id = $2`, [machineId, setId]);
    return row ?? null;
  }

  /** The results of these runs, with their outputs only when asked for. */
  results(setIds: number[], withOutput: boolean): Promise<ScriptResultRow[]> {
    if (!setIds.length) return Promise.resolve([]);
    return this.ds.query(
      `SELECT r.id, r.script_set_id, r.script_id, r.script_version_id, coalesce(s.name, r.script_name) AS name, r.status,
              r.exit_status, r.started, r.ended, r.parameters, r.suppressed, r.created, r.updated,
              s.tags, s.hardware_type, s.timeout_seconds, r.block_device_id, b.name AS block_device_name,
              r.interface_id, i.name AS interface_name
              ${withOutput ? ', r.output, r.stdout, r.stderr, r.result' : ''}
         FROM script_results r
         LEFT JOIN scripts s ON s.id = r.script_id
         LEFT JOIN block_devices b ON b.id = r.block_device_id
         LEFT JOIN interfaces i ON i.id = r.interface_id
        WHERE r.script_set_id = ANY($1) ORDER BY r.id`,
      [setIds],
    );
  }

  /** Every passed run of any script on the machine, newest first (MAAS's estimated runtimes). */
  passedRuns(machineId: number): Promise<PassedRunRow[]> {
    return this.ds.query(
      `SELECT r.id, r.script_id, r.script_name, r.block_device_id,
              extract(epoch FROM r.ended - coalesce(r.started, r.ended))::float8 AS seconds
         FROM script_results r JOIN script_sets ss ON ss.id = r.script_set_id
        WHERE ss.machine_id = $1 AND r.status = 2 AND r.ended IS NOT NULL ORDER BY r.id DESC`,
      [machineId],
    );
  }

  async setSuppressed(resultIds: number[], suppressed: boolean): Promise<void> {
    if (!resultIds.length) return;
    await this.ds.query(`UPDATE script_results SET suppressed = $2, updated = now() WHERE id = ANY($1)`, [resultIds, suppressed]);
  }

  /**
   * Deletes a run. When it was the machine's current testing run, the latest other testing run
   * (if any) becomes current, as MAAS does.
   */
  async deleteSet(machineId: number, setId: number): Promise<void> {
    await this.ds.transaction(async (em) => {
      await em.query(
        `UPDATE machines SET current_testing_script_set_id =
           (SELECT max(id) FROM script_sets WHERE machine_id = $1 AND result_type = 2 AND id <> $2)
          WHERE id = $1 AND current_testing_script_set_id = $2`,
        [machineId, setId],
      );
      await em.query(`DELETE FROM script_sets WHERE machine_id = $1 AND id = $2`, [machineId, setId]);
    });
  }
}
