import { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS = [
  'commissioning_status',
  'testing_status',
  'cpu_test_status',
  'memory_test_status',
  'network_test_status',
  'storage_test_status',
  'other_test_status',
];

/**
 * The script statuses of the machine JSON (commissioning_status, testing_status, cpu_test_status...)
 * kept on the machine row, so that listing thousands of machines reads them with the row.
 *
 * MAAS computes them on every read from the latest result of each script (per disk and
 * interface) across the machine's commissioning and testing runs, leaving out aborted results;
 * the aggregate is MAAS's `get_status_from_qs` (running beats pending beats aborted beats failed
 * beats degraded, else passed; suppressed results count as passed; -1 without results). Statement
 * triggers on script_results and script_sets recompute them whatever code path writes results,
 * and the machine row's own trigger then bumps render_rev, so cached machine JSON goes stale.
 */
export class AddMachineScriptStatuses1795690000002 implements MigrationInterface {
  name = 'AddMachineScriptStatuses1795690000002';

  public async up(q: QueryRunner): Promise<void> {
    for (const c of COLUMNS) await q.query(`ALTER TABLE "machines" ADD "${c}" smallint NOT NULL DEFAULT '-1'`);

    // The status of a collection of results: `statuses` are those of its results that are not
    // suppressed, `any_result` whether it has any result at all.
    await q.query(`
      CREATE FUNCTION kiln_script_status(statuses smallint[], any_result boolean) RETURNS smallint
      LANGUAGE sql IMMUTABLE AS $$
        SELECT (CASE
          WHEN NOT any_result THEN -1
          WHEN statuses && '{1,7,10}'::smallint[] THEN 1
          WHEN statuses && '{0}'::smallint[] THEN 0
          WHEN statuses && '{5}'::smallint[] THEN 5
          WHEN statuses && '{3,4,8,11}'::smallint[] THEN 3
          WHEN statuses && '{6}'::smallint[] THEN 6
          ELSE 2 END)::smallint
      $$`);

    const status = (where: string) =>
      `kiln_script_status(array_agg(l.status) FILTER (WHERE ${where} AND NOT l.suppressed), count(l.status) FILTER (WHERE ${where}) > 0)`;
    await q.query(`
      CREATE FUNCTION kiln_refresh_machine_script_statuses(machine_ids int[]) RETURNS void
      -- A trigger's few index lookups: never worth JIT compiling, which on statistics that lag
      -- behind a bulk insert can cost seconds for a query that runs in a millisecond.
      LANGUAGE sql SET jit = off AS $$
        UPDATE machines m
           SET commissioning_status = s.commissioning, testing_status = s.testing, cpu_test_status = s.cpu,
               memory_test_status = s.memory, network_test_status = s.network, storage_test_status = s.storage,
               other_test_status = s.other
          FROM (
            SELECT t.machine_id,
                   ${status('l.result_type = 0')} AS commissioning,
                   ${status('l.result_type = 2')} AS testing,
                   ${status('l.result_type = 2 AND l.hardware_type = 1')} AS cpu,
                   ${status('l.result_type = 2 AND l.hardware_type = 2')} AS memory,
                   ${status('l.result_type = 2 AND l.hardware_type = 4')} AS network,
                   ${status('l.result_type = 2 AND l.hardware_type = 3')} AS storage,
                   ${status('l.result_type = 2 AND l.hardware_type = 0')} AS other
              FROM (SELECT DISTINCT unnest(machine_ids) AS machine_id) t
              -- The results of each run through their index on script_set_id (OFFSET 0 keeps the
              -- planner from flattening the lateral into a join it may cost on stale statistics),
              -- so the work follows the results read, for one machine or thousands.
              LEFT JOIN (
                SELECT DISTINCT ON (ss.machine_id, r.script_name, r.block_device_id, r.interface_id)
                       ss.machine_id, r.status, r.suppressed, ss.result_type, r.hardware_type
                  FROM script_sets ss
                 CROSS JOIN LATERAL (
                   SELECT r.id, r.script_name, r.block_device_id, r.interface_id, r.status, r.suppressed,
                          (SELECT sc.hardware_type FROM scripts sc WHERE sc.id = r.script_id) AS hardware_type
                     FROM script_results r WHERE r.script_set_id = ss.id OFFSET 0
                 ) r
                 WHERE ss.machine_id = ANY(machine_ids)
                 ORDER BY ss.machine_id, r.script_name, r.block_device_id, r.interface_id, r.id DESC
              ) l ON l.machine_id = t.machine_id AND l.status <> 5 AND l.result_type IN (0, 2)
             GROUP BY t.machine_id
          ) s
         WHERE m.id = s.machine_id
           AND (m.commissioning_status, m.testing_status, m.cpu_test_status, m.memory_test_status, m.network_test_status,
                m.storage_test_status, m.other_test_status)
               IS DISTINCT FROM (s.commissioning, s.testing, s.cpu, s.memory, s.network, s.storage, s.other)
      $$`);

    await q.query(`
      CREATE FUNCTION kiln_script_results_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          PERFORM kiln_refresh_machine_script_statuses(ARRAY(
            SELECT ss.machine_id FROM script_sets ss WHERE ss.id IN (SELECT script_set_id FROM new_rows)));
        ELSIF TG_OP = 'UPDATE' THEN
          -- Output uploads and timestamps do not change a status: only recompute for what does.
          PERFORM kiln_refresh_machine_script_statuses(ARRAY(
            SELECT ss.machine_id FROM script_sets ss WHERE ss.id IN (
              SELECT n.script_set_id FROM new_rows n JOIN old_rows o ON o.id = n.id
               WHERE (n.status, n.suppressed, n.script_id, n.script_name, n.script_set_id, n.block_device_id, n.interface_id)
                     IS DISTINCT FROM (o.status, o.suppressed, o.script_id, o.script_name, o.script_set_id, o.block_device_id, o.interface_id)
              UNION
              SELECT o.script_set_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.script_set_id <> o.script_set_id)));
        ELSE
          PERFORM kiln_refresh_machine_script_statuses(ARRAY(
            SELECT ss.machine_id FROM script_sets ss WHERE ss.id IN (SELECT script_set_id FROM old_rows)));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER script_results_statuses_insert AFTER INSERT ON "script_results" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kiln_script_results_statuses()`,
    );
    await q.query(
      `CREATE TRIGGER script_results_statuses_update AFTER UPDATE ON "script_results" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kiln_script_results_statuses()`,
    );
    await q.query(
      `CREATE TRIGGER script_results_statuses_delete AFTER DELETE ON "script_results" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kiln_script_results_statuses()`,
    );

    // A deleted run takes its results with it (the cascade runs after the run's row is gone, so
    // the results' trigger cannot find the machine): recompute from the runs themselves.
    await q.query(`
      CREATE FUNCTION kiln_script_sets_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM kiln_refresh_machine_script_statuses(ARRAY(SELECT machine_id FROM old_rows));
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER script_sets_statuses_delete AFTER DELETE ON "script_sets" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kiln_script_sets_statuses()`,
    );

    // A script moved to another hardware type moves its results to another of the test statuses.
    await q.query(`
      CREATE FUNCTION kiln_scripts_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM kiln_refresh_machine_script_statuses(ARRAY(
          SELECT DISTINCT ss.machine_id FROM script_results r JOIN script_sets ss ON ss.id = r.script_set_id
           WHERE r.script_id = NEW.id));
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER scripts_statuses AFTER UPDATE OF hardware_type ON "scripts" FOR EACH ROW WHEN (OLD.hardware_type IS DISTINCT FROM NEW.hardware_type) EXECUTE FUNCTION kiln_scripts_statuses()`,
    );

    // Results may already exist: start from the truth.
    await q.query(`SELECT kiln_refresh_machine_script_statuses(ARRAY(SELECT DISTINCT machine_id FROM script_sets))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER scripts_statuses ON "scripts"`);
    await q.query(`DROP TRIGGER script_sets_statuses_delete ON "script_sets"`);
    for (const op of ['insert', 'update', 'delete']) await q.query(`DROP TRIGGER script_results_statuses_${op} ON "script_results"`);
    await q.query(`DROP FUNCTION kiln_scripts_statuses()`);
    await q.query(`DROP FUNCTION kiln_script_sets_statuses()`);
    await q.query(`DROP FUNCTION kiln_script_results_statuses()`);
    await q.query(`DROP FUNCTION kiln_refresh_machine_script_statuses(int[])`);
    await q.query(`DROP FUNCTION kiln_script_status(smallint[], boolean)`);
    for (const c of [...COLUMNS].reverse()) await q.query(`ALTER TABLE "machines" DROP COLUMN "${c}"`);
  }
}
