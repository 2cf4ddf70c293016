import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptResultEntity, ScriptSetEntity } from '@kiln/db';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} -0000$/;

type Machine = Record<string, unknown> & { system_id: string };
type ResultJson = Record<string, unknown> & { id: number; name: string; status: number };
type SetJson = Record<string, unknown> & { id: number; results: ResultJson[] };

const STATUS_KEYS = [
  'commissioning_status',
  'testing_status',
  'cpu_test_status',
  'memory_test_status',
  'network_test_status',
  'storage_test_status',
  'other_test_status',
  'interface_test_status',
];

describe('script results and the machine script statuses against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;
  let machine: { systemId: string; id: number; hostname: string };
  const scripts: Record<string, number> = {};
  let commissioning: ScriptSetEntity;
  let testing: ScriptSetEntity;
  const results: Record<string, ScriptResultEntity> = {};
  let macs = 0;

  async function newMachine(): Promise<{ systemId: string; id: number; hostname: string }> {
    const mac = `52:54:00:cc:00:${(++macs).toString(16).padStart(2, '0')}`;
    const r = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: mac, power_type: 'manual', deployed: 'true' });
    expect(r.status).toBe(200);
    const m = r.json() as Machine;
    const [{ id, hostname }] = await h.ds.query(`SELECT id, hostname FROM machines WHERE system_id = $1`, [m.system_id]);
    return { systemId: m.system_id, id, hostname };
  }

  async function makeScript(name: string, hardwareType: string, tags: string, type = 'testing', timeout = '0'): Promise<number> {
    const r = await h.call(admin, 'POST', `${API}/scripts/`, { name, hardware_type: hardwareType, tags, type, timeout, script: `#!/bin/sh\necho ${name}\n` });
    expect(r.status).toBe(200);
    return (r.json() as { id: number }).id;
  }

  async function addSet(machineId: number, resultType: number, current?: 'commissioning' | 'testing' | 'installation'): Promise<ScriptSetEntity> {
    const set = await h.ds.getRepository(ScriptSetEntity).save({ machineId, resultType, lastPing: new Date('2026-12-01T10:00:00Z') });
    if (current) await h.ds.query(`UPDATE machines SET current_${current}_script_set_id = $2 WHERE id = $1`, [machineId, set.id]);
    return set;
  }

  async function addResult(set: ScriptSetEntity, name: string, fields: Partial<ScriptResultEntity> = {}): Promise<ScriptResultEntity> {
    return h.ds.getRepository(ScriptResultEntity).save({ scriptSetId: set.id, scriptName: name, scriptId: scripts[name] ?? null, ...fields });
  }

  const machineJson = async (key: ApiKey = admin) => (await h.call(key, 'GET', `${API}/machines/${machine.systemId}/`)).json() as Record<string, unknown>;
  const listed = async () => ((await h.call(admin, 'GET', `${API}/machines/`)).json() as Machine[]).find((m) => m.system_id === machine.systemId)!;
  const statuses = (m: Record<string, unknown>) => Object.fromEntries(STATUS_KEYS.flatMap((k) => [[k, m[k]], [`${k}_name`, m[`${k}_name`]]]));
  const expected = (s: Record<string, number>) => {
    const names: Record<number, string> = { [-1]: 'Unknown', 0: 'Pending', 1: 'Running', 2: 'Passed', 3: 'Failed', 5: 'Aborted', 6: 'Degraded' };
    const all: Record<string, number> = { commissioning_status: -1, testing_status: -1, cpu_test_status: -1, memory_test_status: -1, network_test_status: -1, storage_test_status: -1, other_test_status: -1, ...s };
    all.interface_test_status = all.network_test_status;
    return Object.fromEntries(STATUS_KEYS.flatMap((k) => [[k, all[k]], [`${k}_name`, names[all[k]]]]));
  };

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
    machine = await newMachine();
    await h.ds.query(`UPDATE machines SET owner_id = (SELECT id FROM users WHERE username = 'alice') WHERE id = $1`, [machine.id]);
    scripts['cpu-burn'] = await makeScript('cpu-burn', 'cpu', 'cpu,burn');
    scripts['mem-check'] = await makeScript('mem-check', 'memory', 'memory', 'testing', '300');
    scripts['disk-check'] = await makeScript('disk-check', 'storage', 'storage');
    scripts['net-check'] = await makeScript('net-check', 'network', 'network');
    scripts['probe'] = await makeScript('probe', 'node', 'probe', 'commissioning');
  });
  afterAll(() => h.stop());

  it('shows no results and no current runs before any run', async () => {
    const m = await machineJson();
    expect(m).toMatchObject({ current_commissioning_result_id: null, current_testing_result_id: null, current_installation_result_id: null });
    expect(statuses(m)).toEqual(expected({}));
    expect((await h.call(admin, 'GET', `${API}/nodes/${machine.systemId}/results/`)).json()).toEqual([]);
  });

  it('computes the statuses with MAAS rules, and the listing never serves stale ones', async () => {
    commissioning = await addSet(machine.id, 0, 'commissioning');
    const t0 = new Date('2026-12-01T10:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    results.probe = await addResult(commissioning, 'probe', { status: 2, exitStatus: 0, started: t0, ended: at(5), output: Buffer.from('probe combined\n'), stdout: Buffer.from('probe out\n'), stderr: Buffer.from(''), result: null });
    results.resources = await addResult(commissioning, '50-maas-01-commissioning', { status: 2, exitStatus: 0, started: at(1), ended: at(65), output: Buffer.from('{"resources": {}}\n') });
    testing = await addSet(machine.id, 2, 'testing');
    results.cpu = await addResult(testing, 'cpu-burn', { status: 1, started: at(100) });
    results.mem = await addResult(testing, 'mem-check', { status: 3, exitStatus: 1, started: at(100), ended: at(160), stderr: Buffer.from('bad dimm\n') });
    results.disk = await addResult(testing, 'disk-check', {
      status: 2,
      exitStatus: 0,
      started: at(100),
      ended: at(110),
      parameters: { storage: { type: 'storage', value: { name: 'sda' } }, secret: { type: 'password', value: 's3cret' } },
    });
    results.net = await addResult(testing, 'net-check', { status: 3, exitStatus: 2, suppressed: true, started: at(100), ended: at(101) });

    const warm = await listed();
    expect(warm).toMatchObject({ current_commissioning_result_id: commissioning.id, current_testing_result_id: testing.id });
    // Running beats failed; a suppressed failure counts as passed.
    const now = expected({ commissioning_status: 2, testing_status: 1, cpu_test_status: 1, memory_test_status: 3, storage_test_status: 2, network_test_status: 2 });
    expect(statuses(warm)).toEqual(now);
    expect(statuses(await machineJson())).toEqual(now);

    // A result changing behind the API's back (the metadata API, another region) shows at once.
    await h.ds.getRepository(ScriptResultEntity).update({ id: results.cpu.id }, { status: 2, ended: at(130) });
    expect(statuses(await listed())).toEqual(expected({ commissioning_status: 2, testing_status: 3, cpu_test_status: 2, memory_test_status: 3, storage_test_status: 2, network_test_status: 2 }));

    // Suppressing the memory failure through the API clears it.
    const put = await h.call(admin, 'PUT', `${API}/nodes/${machine.systemId}/results/current-testing/`, { suppressed: 'true', filters: 'mem-check' });
    expect(put.status).toBe(200);
    expect((put.json() as SetJson).results.map((r) => [r.name, r.suppressed])).toEqual([['mem-check', true]]);
    expect(statuses(await listed())).toEqual(expected({ commissioning_status: 2, testing_status: 2, cpu_test_status: 2, memory_test_status: 2, storage_test_status: 2, network_test_status: 2 }));
    await h.call(admin, 'PUT', `${API}/nodes/${machine.systemId}/results/${testing.id}/`, { suppressed: 'false', filters: 'memory' });
    expect((await listed()).memory_test_status).toBe(3);
  });

  it('takes the latest result of each script across runs, leaving out aborted ones, as MAAS does', async () => {
    // A later run of only the CPU test: the memory status still comes from the earlier run.
    const again = await addSet(machine.id, 2, 'testing');
    await addResult(again, 'cpu-burn', { status: 4, exitStatus: 124 });
    await addResult(again, 'disk-check', { status: 5 });
    const m = await listed();
    expect(m.current_testing_result_id).toBe(again.id);
    expect(statuses(m)).toEqual(expected({ commissioning_status: 2, testing_status: 3, cpu_test_status: 3, memory_test_status: 3, network_test_status: 2, other_test_status: -1 }));

    // Deleting the current testing run makes the previous one current again, and recomputes.
    expect((await h.call(alice, 'DELETE', `${API}/nodes/${machine.systemId}/results/current-testing/`)).status).toBe(403);
    const del = await h.call(admin, 'DELETE', `${API}/nodes/${machine.systemId}/results/current-testing/`);
    expect(del.status).toBe(204);
    const after = await listed();
    expect(after.current_testing_result_id).toBe(testing.id);
    expect(statuses(after)).toEqual(expected({ commissioning_status: 2, testing_status: 3, cpu_test_status: 2, memory_test_status: 3, storage_test_status: 2, network_test_status: 2 }));

    const keep = await h.call(admin, 'DELETE', `${API}/nodes/${machine.systemId}/results/current-commissioning/`);
    expect(keep.status).toBe(400);
    expect(keep.text).toBe(`Unable to delete the current commissioning script set for node: ${machine.hostname}.maas`);
  });

  it('lists runs and results field by field, passwords redacted, outputs only when asked', async () => {
    const r = await h.call(alice, 'GET', `${API}/nodes/${machine.systemId}/results/`);
    expect(r.status).toBe(200);
    const sets = r.json() as SetJson[];
    expect(sets.map((s) => s.id)).toEqual([commissioning.id, testing.id]);
    const [c] = sets;
    expect(c).toEqual({
      id: commissioning.id,
      system_id: machine.systemId,
      type: 0,
      type_name: 'Commissioning',
      last_ping: 'Tue, 01 Dec 2026 10:00:00 -0000',
      status: 2,
      status_name: 'Passed',
      started: 'Tue, 01 Dec 2026 10:00:00 -0000',
      ended: 'Tue, 01 Dec 2026 10:01:05 -0000',
      runtime: '0:01:05',
      results: expect.any(Array),
      resource_uri: `${API}/nodes/${machine.systemId}/results/${commissioning.id}/`,
    });
    expect(c.results.map((x) => x.name)).toEqual(['50-maas-01-commissioning', 'probe']);
    expect(c.results[1]).toEqual({
      id: results.probe.id,
      created: expect.stringMatching(RFC2822),
      updated: expect.stringMatching(RFC2822),
      name: 'probe',
      status: 2,
      status_name: 'Passed',
      exit_status: 0,
      started: 'Tue, 01 Dec 2026 10:00:00 -0000',
      ended: 'Tue, 01 Dec 2026 10:00:05 -0000',
      runtime: '0:00:05',
      starttime: Date.parse('2026-12-01T10:00:00Z') / 1000,
      endtime: Date.parse('2026-12-01T10:00:05Z') / 1000,
      estimated_runtime: '0:00:05',
      parameters: {},
      script_id: scripts.probe,
      script_revision_id: null,
      suppressed: false,
    });
    const t = sets[1];
    // Every result has ended (the CPU test at 10:02:10): the run ended with its last one.
    expect(t).toMatchObject({ type: 2, type_name: 'Testing', status: 3, status_name: 'Failed', started: 'Tue, 01 Dec 2026 10:01:40 -0000', ended: 'Tue, 01 Dec 2026 10:02:40 -0000', runtime: '0:01:00' });
    const disk = t.results.find((x) => x.name === 'disk-check')!;
    expect(disk.parameters).toEqual({ storage: { type: 'storage', value: { name: 'sda' } }, secret: { type: 'password', value: 'REDACTED' } });
    const [{ parameters: stored }] = await h.ds.query(`SELECT parameters FROM script_results WHERE id = $1`, [results.disk.id]);
    expect(stored.secret.value).toBe('s3cret');
    expect(t.results[0]).not.toHaveProperty('output');

    const withOutput = (await h.call(alice, 'GET', `${API}/nodes/${machine.systemId}/results/?include_output=1&type=commissioning`)).json() as SetJson[];
    expect(withOutput.map((s) => s.id)).toEqual([commissioning.id]);
    expect(withOutput[0].results[1]).toMatchObject({
      output: Buffer.from('probe combined\n').toString('base64'),
      stdout: Buffer.from('probe out\n').toString('base64'),
      stderr: '',
      result: '',
    });

    const byHardware = (await h.call(alice, 'GET', `${API}/nodes/${machine.systemId}/results/?hardware_type=memory`)).json() as SetJson[];
    expect(byHardware.map((s) => s.results.map((x) => x.name))).toEqual([[], ['mem-check']]);
    const filtered = (await h.call(alice, 'GET', `${API}/nodes/${machine.systemId}/results/?filters=burn,probe,${results.disk.id}`)).json() as SetJson[];
    expect(filtered.map((s) => s.results.map((x) => x.name))).toEqual([['probe'], ['cpu-burn', 'disk-check']]);
    expect((await h.call(alice, 'GET', `${API}/nodes/${machine.systemId}/results/?type=nonsense`)).status).toBe(400);
  });

  it('estimates runtimes from earlier passed runs, else from the timeout', async () => {
    const later = await addSet(machine.id, 2);
    await addResult(later, 'mem-check', { status: 0 });
    await addResult(later, 'cpu-burn', { status: 0 });
    const set = (await h.call(admin, 'GET', `${API}/nodes/${machine.systemId}/results/${later.id}/`)).json() as SetJson;
    // mem-check never passed: its timeout (300 s). cpu-burn passed once in 30 s.
    expect(set.results.map((x) => [x.name, x.estimated_runtime, x.runtime, x.starttime])).toEqual([
      ['cpu-burn', '0:00:30', '', ''],
      ['mem-check', '0:05:00', '', ''],
    ]);
    expect(set).toMatchObject({ status: 0, status_name: 'Pending', last_ping: 'Tue, 01 Dec 2026 10:00:00 -0000' });
    await h.ds.query(`DELETE FROM script_sets WHERE id = $1`, [later.id]);
  });

  it('finds runs by id and as current-*, and answers MAAS errors', async () => {
    const base = `${API}/nodes/${machine.systemId}/results`;
    expect(((await h.call(alice, 'GET', `${base}/current-commissioning/`)).json() as SetJson).id).toBe(commissioning.id);
    expect(((await h.call(alice, 'GET', `${base}/${testing.id}/`)).json() as SetJson).id).toBe(testing.id);
    const none = await h.call(alice, 'GET', `${base}/current-installation/`);
    expect(none.status).toBe(400);
    expect(none.text).toBe('Unknown id "current-installation" must be current-commissioning, current-testing, current-installation, or the id number of a specific result.');
    const word = await h.call(alice, 'GET', `${base}/latest/`);
    expect(word.status).toBe(400);
    expect((await h.call(alice, 'GET', `${base}/999999/`)).status).toBe(404);
    // Another machine's run is not this machine's.
    const other = await newMachine();
    const foreign = await addSet(other.id, 2);
    expect((await h.call(admin, 'GET', `${base}/${foreign.id}/`)).status).toBe(404);
    const unknown = await h.call(admin, 'GET', `${API}/nodes/nosuch/results/`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('No Node matches the given query.');
    // Bob may not see alice's machine, nor its results.
    expect((await h.call(bob, 'GET', `${base}/`)).status).toBe(403);
    expect((await h.call(bob, 'GET', `${base}/current-testing/?op=download`)).status).toBe(403);
    expect((await h.call(alice, 'PUT', `${base}/current-testing/`, { suppressed: 'true' })).status).toBe(403);
    expect((await h.call(admin, 'PUT', `${base}/current-testing/`, { suppressed: 'maybe' })).status).toBe(400);
  });

  it('downloads outputs as text and as a tar.xz the system tar reads', async () => {
    const base = `${API}/nodes/${machine.systemId}/results/current-commissioning/?op=download`;
    const one = await h.call(alice, 'GET', `${base}&filters=probe`);
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toBe('application/binary');
    expect(one.text).toBe('probe combined\n');
    expect((await h.call(alice, 'GET', `${base}&filters=probe&output=stdout`)).text).toBe('probe out\n');

    const text = (await h.call(alice, 'GET', base)).text;
    const header = (title: string) => {
      const dashes = '-'.repeat(Math.trunc((80 - (2 + title.length)) / 2));
      return `${dashes} ${title} ${dashes}\n`;
    };
    expect(text).toBe(`${header('50-maas-01-commissioning')}{"resources": {}}\n\n${header('probe')}probe combined\n\n`);

    const res = await fetch(`${h.baseUrl}${base}&filetype=tar.xz&output=all`, { headers: { authorization: RegionHarness.oauthHeader(alice) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    const dir = mkdtempSync(join(tmpdir(), 'kiln-results-'));
    try {
      const archive = join(dir, 'results.tar.xz');
      writeFileSync(archive, Buffer.from(await res.arrayBuffer()));
      const root = `${machine.hostname}-commissioning-${commissioning.id}`;
      const names = execFileSync('tar', ['-tJf', archive], { encoding: 'utf8' }).trim().split('\n');
      expect(names).toEqual(
        ['50-maas-01-commissioning', '50-maas-01-commissioning.out', '50-maas-01-commissioning.err', '50-maas-01-commissioning.yaml', 'probe', 'probe.out', 'probe.err', 'probe.yaml'].map(
          (n) => `${root}/${n}`,
        ),
      );
      execFileSync('tar', ['-xJf', archive, '-C', dir]);
      expect(readFileSync(join(dir, root, 'probe'), 'utf8')).toBe('probe combined\n');
      expect(readFileSync(join(dir, root, 'probe.out'), 'utf8')).toBe('probe out\n');
      expect(readFileSync(join(dir, root, '50-maas-01-commissioning'), 'utf8')).toBe('{"resources": {}}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const bad = await h.call(alice, 'GET', `${base}&filetype=zip`);
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('Unknown filetype "zip" must be txt or tar.xz');
  });

  it("aggregates statuses in the database exactly as MAAS's get_status_from_qs does", async () => {
    // MAAS's precedence, written out: running (running, applying netconf, installing), pending,
    // aborted, failed (failed, failed applying netconf, failed installing, timed out), degraded.
    const maas = (statuses: number[]) => {
      for (const s of [1, 10, 7, 0, 5, 3, 11, 8, 4, 6]) {
        if (statuses.includes(s)) return [1, 7, 10].includes(s) ? 1 : [3, 4, 8, 11].includes(s) ? 3 : s;
      }
      return 2;
    };
    const cases: number[][] = [[]];
    for (let a = 0; a <= 11; a++) for (let b = a; b <= 11; b++) cases.push([a], [a, b]);
    const rows: { got: number }[] = await h.ds.query(
      `SELECT kiln_script_status(c.statuses, true) AS got FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY e(v, n)
         CROSS JOIN LATERAL (SELECT ARRAY(SELECT jsonb_array_elements_text(e.v)::smallint) AS statuses) c ORDER BY e.n`,
      [JSON.stringify(cases)],
    );
    expect(rows.map((r) => r.got)).toEqual(cases.map(maas));
    const [{ none }] = await h.ds.query(`SELECT kiln_script_status('{}', false) AS none`);
    expect(none).toBe(-1);
  });

  it('describes both handlers with MAAS names and paths', async () => {
    const d = (await h.call(null, 'GET', `${API}/describe/`)).json() as { resources: { name: string; auth: { path: string; actions: { name: string }[] } | null }[] };
    expect(d.resources.find((r) => r.name === 'NodeScriptResultsHandler')!.auth!.path).toBe(`${API}/nodes/{system_id}/results/`);
    const item = d.resources.find((r) => r.name === 'NodeScriptResultHandler')!.auth!;
    expect(item.path).toBe(`${API}/nodes/{system_id}/results/{id}/`);
    expect(item.actions.map((a) => a.name)).toEqual(['delete', 'download', 'read', 'update']);
  });
});
