/**
 * The metadata API against its real clients: Kiln's runner (libs/scripts/runner, python3) for a
 * commissioning run and for the enlistment of an unknown machine, and cloud-init's MAAS datasource
 * (Debian's cloud-init package) reading the machine's meta-data.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNNER_SCRIPT_PATH } from '@kiln/scripts';
import { CommissioningInventoryService } from '../commissioning/commissioning-inventory.service';
import { addScript, nodeKey, scriptText } from '../testing/metadata.testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
/** cloud-init's interpreter: Debian's python3 (the PATH one may be another install without cloud-init). */
const SYSTEM_PYTHON = '/usr/bin/python3';

function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface ResultRow {
  script_name: string;
  status: number;
  exit_status: number | null;
  stdout: Buffer | null;
}

describe('metadata API with its real clients', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let dir: string;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    // The built-in scripts would inspect (and, for the BMC one, reconfigure) the test host: each
    // is replaced by a stand-in that prints its name. Their metadata (parallelism, parameters) stays.
    await h.ds.query(
      `UPDATE script_versions v SET data = convert_to('#!/bin/sh' || chr(10) || 'echo ' || s.name || chr(10), 'UTF8')
         FROM scripts s WHERE s.current_version_id = v.id AND s.is_default`,
    );
    await addScript(h, scriptText('kiln-pass', 'commissioning', 'echo all good; printf "status: passed\\n" > "$RESULT_PATH"'));
    await addScript(h, scriptText('kiln-fail', 'commissioning', 'echo something broke >&2; exit 3'));
    // The stand-ins print no hardware description: the inventory (tested on its own) is not fed.
    jest.spyOn(h.app.get(CommissioningInventoryService), 'apply').mockResolvedValue();
    dir = mkdtempSync(join(tmpdir(), 'kiln-metadata-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.stop();
  });

  async function results(sid: string): Promise<ResultRow[]> {
    return h.ds.query(
      `SELECT r.script_name, r.status, r.exit_status, r.stdout FROM script_results r JOIN machines m ON m.current_commissioning_script_set_id = r.script_set_id
        WHERE m.system_id = $1 ORDER BY r.script_name, r.id`,
      [sid],
    );
  }

  async function machine(sid: string) {
    return (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { status_name: string; status_message: string };
  }

  it('runs a commissioning run with the runner: results stored, the failing script fails commissioning', async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: '52:54:00:cc:00:01', power_type: 'manual', commission: 'false' });
    const sid = (created.json() as { system_id: string }).system_id;
    const c = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`, { commissioning_scripts: 'kiln-pass,kiln-fail', testing_scripts: 'none' });
    expect(c.status).toBe(200);
    // The runner reads its credentials from the preseed, as it does from cloud-init's copy of it.
    const preseed = await h.call(null, 'GET', `/MAAS/metadata/latest/by-id/${sid}/?op=get_preseed`);
    const config = join(dir, 'commissioning.cfg');
    writeFileSync(config, preseed.text);

    const r = await run('python3', [RUNNER_SCRIPT_PATH, `--config=${config}`, '--heartbeat-interval=1', join(dir, 'work-commissioning')]);
    expect(r.stderr).toContain('kiln-fail');
    expect(r.code).toBe(1);

    const rows = await results(sid);
    expect(rows.find((x) => x.script_name === 'kiln-pass')).toMatchObject({ status: 2, exit_status: 0 });
    expect(rows.find((x) => x.script_name === 'kiln-pass')!.stdout!.toString()).toBe('all good\n');
    expect(rows.find((x) => x.script_name === 'kiln-fail')).toMatchObject({ status: 3, exit_status: 3 });
    expect(rows.find((x) => x.script_name === '50-maas-01-commissioning')).toMatchObject({ status: 2, exit_status: 0 });
    const m = await machine(sid);
    expect(m.status_name).toBe('Failed commissioning');
    expect(m.status_message).toContain('kiln-fail');
  });

  it('enlists an unknown machine with the runner: created commissioning, its results sent by name, New at the end', async () => {
    // An unknown machine has only the enlistment preseed: the metadata URL, no credentials.
    const config = join(dir, 'enlist.cfg');
    writeFileSync(config, (await h.call(null, 'GET', '/MAAS/metadata/latest/enlist-preseed/?op=get_enlist_preseed')).text);
    const r = await run('python3', [RUNNER_SCRIPT_PATH, `--config=${config}`, '--heartbeat-interval=1', join(dir, 'work-enlist')]);
    expect(r.stderr).toMatch(/enlisted as \w+/);
    expect(r.code).toBe(0);
    const sid = /enlisted as (\w+)/.exec(r.stderr)![1];
    const m = await machine(sid);
    expect(m.status_name).toBe('New');
    const rows = await results(sid);
    // The BMC script ran before the machine existed; its result came by name.
    expect(rows.find((x) => x.script_name === '30-maas-01-bmc-config')).toMatchObject({ status: 2, exit_status: 0 });
    expect(rows.find((x) => x.script_name === '30-maas-01-bmc-config')!.stdout!.toString()).toBe('30-maas-01-bmc-config\n');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.filter((x) => x.status !== 2)).toEqual([]);
    expect(rows.map((x) => x.script_name)).not.toContain('kiln-pass');
    // The run is over: the machine's token is revoked.
    const [live] = await h.ds.query(`SELECT count(*)::int AS n FROM node_tokens t JOIN machines m ON m.id = t.machine_id WHERE m.system_id = $1 AND t.revoked IS NULL`, [sid]);
    expect(live.n).toBe(0);
    // The runner asks with every MAC it has, comma-joined in one value.
    const macs = (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { interface_set: { mac_address: string }[] };
    const asked = ['02:00:00:00:00:09', ...macs.interface_set.map((i) => i.mac_address)].join(',');
    expect((await h.call(admin, 'GET', `${API}/machines/?op=is_registered&mac_address=${encodeURIComponent(asked)}`)).json()).toBe(true);
  });

  it("serves cloud-init's MAAS datasource its instance-id and local-hostname", async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: '52:54:00:cc:00:02', hostname: 'cirrus', power_type: 'manual', commission: 'false' });
    const sid = (created.json() as { system_id: string }).system_id;
    await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`, { testing_scripts: 'none' });
    const key = await nodeKey(h, sid);
    const work = join(dir, 'cloudinit');
    const program = `
import json, sys
from cloudinit import helpers, distros
from cloudinit.sources import DataSourceMAAS as MAAS
W = ${JSON.stringify(work)}
sys_cfg = {"datasource": {"MAAS": {"metadata_url": ${JSON.stringify(`${h.baseUrl}/MAAS/metadata/`)},
    "consumer_key": ${JSON.stringify(key.consumerKey)}, "token_key": ${JSON.stringify(key.tokenKey)},
    "token_secret": ${JSON.stringify(key.tokenSecret)}, "max_wait": 10, "timeout": 5}}}
paths = helpers.Paths({"cloud_dir": W + "/cloud", "run_dir": W + "/run", "templates_dir": W})
distro = distros.fetch("debian")("debian", {}, paths)
ds = MAAS.DataSourceMAAS(sys_cfg, distro, paths)
ok = ds.get_data()
print(json.dumps({"ok": ok, "instance_id": ds.get_instance_id(), "hostname": ds.metadata.get("local-hostname"),
                  "vendor": ds.vendordata_pure is not None, "userdata": len(ds.userdata_raw or b"")}))
`;
    const r = await run(SYSTEM_PYTHON, ['-c', program]);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; instance_id: string; hostname: string; vendor: boolean; userdata: number };
    expect(out).toMatchObject({ ok: true, instance_id: sid, hostname: 'cirrus.maas', vendor: true });
    expect(out.userdata).toBeGreaterThan(0);
  });
});
