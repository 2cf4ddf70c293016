import { randomUUID } from 'node:crypto';
import { NodeStatus } from '@kiln/lifecycle';
import { MachineLifecycleService } from '../machines/machine-lifecycle.service';
import { addScript, nodeKey, scriptText, signal } from '../testing/metadata.testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { pollUntil } from '@kiln/testing';

const API = '/MAAS/api/2.0';
const MD = '/MAAS/metadata';
let macCounter = 0;
const nextMac = () => `52:54:00:cc:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

type Machine = { system_id: string; status_name: string; status_message: string | null };

/** Issue 11's bad input and races through HTTP, against the real region, Postgres and Redis. */
describe('metadata API: bad input and races', () => {
  let h: RegionHarness;
  let admin: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    await addScript(h, scriptText('kiln-bad-yaml', 'commissioning', 'echo hi'));
  });
  afterAll(() => h.stop());

  async function newMachine(): Promise<Machine> {
    const r = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'manual', commission: 'false' });
    expect(r.status).toBe(200);
    return r.json() as Machine;
  }
  const machine = async (sid: string): Promise<Machine> => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
  const events = async (sid: string): Promise<Array<{ type: string; description: string }>> =>
    ((await h.call(admin, 'GET', `${API}/events/?op=query&id=${sid}&level=DEBUG&limit=100`)).json() as { events: Array<{ type: string; description: string }> }).events;

  it('a result YAML that does not parse: the result is stored whole and failed with the reason, and commissioning fails naming the script', async () => {
    const m = await newMachine();
    expect((await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=commission`, { commissioning_scripts: 'kiln-bad-yaml', testing_scripts: 'none' })).status).toBe(200);
    const key = await nodeKey(h, m.system_id);
    const [row] = await h.ds.query(
      `SELECT r.id FROM script_results r JOIN machines m ON m.current_commissioning_script_set_id = r.script_set_id WHERE m.system_id = $1 AND r.script_name = 'kiln-bad-yaml'`,
      [m.system_id],
    );
    // The runner goes on: MAAS answers such a signal 200 too (it stores the result and logs an event).
    const r = await signal(
      h,
      key,
      { status: 'WORKING', script_result_id: String(row.id), exit_status: '0', runtime: '1.5' },
      { 'kiln-bad-yaml': 'hi\n', 'kiln-bad-yaml.out': 'hi\n', 'kiln-bad-yaml.yaml': 'status: [' },
    );
    expect(r).toEqual({ status: 200, text: 'OK' });
    const [stored] = await h.ds.query(`SELECT status, exit_status, runtime, stdout, result, ended IS NOT NULL AS ended FROM script_results WHERE id = $1`, [row.id]);
    expect(stored).toMatchObject({ status: 3, exit_status: 0, runtime: 1.5, ended: true }); // failed, though it exited 0
    expect(stored.stdout.toString()).toBe('hi\n');
    expect(stored.result.toString()).toBe('status: [');
    const why = (await events(m.system_id)).find((e) => e.type === 'Script result failed');
    expect(why?.description).toMatch(/^kiln-bad-yaml: result YAML 'kiln-bad-yaml.yaml' is not valid: /);

    expect((await signal(h, key, { status: 'OK', error: 'All scripts successfully ran' })).status).toBe(200);
    const after = await machine(m.system_id);
    expect(after.status_name).toBe('Failed commissioning');
    expect(after.status_message).toContain('kiln-bad-yaml');
  });

  it('concurrent anonymous enlistments of one machine end in one machine, every request answered 200', async () => {
    for (let round = 0; round < 8; round++) {
      const macs = `${nextMac()},${nextMac()}`;
      const replies = await Promise.all(
        Array.from({ length: 6 }, () => h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: macs, commission: 'True' })),
      );
      expect(replies.map((x) => (x.status === 200 ? 200 : `${x.status} ${x.text}`))).toEqual(Array(6).fill(200));
      const ids = new Set(replies.map((x) => (x.json() as Machine).system_id));
      expect(ids.size).toBe(1);
      const rows: unknown[] = await h.ds.query(`SELECT DISTINCT machine_id FROM interfaces WHERE mac_address = ANY($1)`, [macs.split(',')]);
      expect(rows).toHaveLength(1);
    }
  }, 120_000);

  it('a user adding a machine whose MAC another request takes at the same time gets a 400 naming the MACs, never a 500', async () => {
    for (let round = 0; round < 5; round++) {
      const mac = nextMac();
      const replies = await Promise.all(
        Array.from({ length: 4 }, () => h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: mac, power_type: 'manual', commission: 'false' })),
      );
      expect(replies.filter((x) => x.status === 200)).toHaveLength(1);
      for (const x of replies.filter((y) => y.status !== 200)) {
        expect(x.status).toBe(400);
        expect(Object.keys(x.json() as object)).toEqual(['mac_addresses']);
      }
    }
  }, 120_000);

  it('webhook power URLs a commissioning machine reports are not taken, and its signal is answered 200 so its runner goes on', async () => {
    const m = await newMachine();
    expect((await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=commission`, { testing_scripts: 'none' })).status).toBe(200);
    const key = await nodeKey(h, m.system_id);
    const params = JSON.stringify({ power_on_uri: 'http://attacker.invalid/on', power_off_uri: 'http://attacker.invalid/off', power_query_uri: 'http://attacker.invalid/q' });
    const r = await signal(h, key, { status: 'WORKING', power_type: 'webhook', power_parameters: params });
    expect(r).toEqual({ status: 200, text: 'OK' });
    expect((await h.call(admin, 'GET', `${API}/machines/${m.system_id}/`)).json()).toMatchObject({ power_type: 'manual' });
    expect((await events(m.system_id)).map((e) => e.description)).toContain('The machine reported webhook power URLs, which only an administrator sets: not taken');
  });

  it('a New machine that signals COMMISSIONING starts a run of the built-in scripts and is Commissioning, with the token it asked with', async () => {
    const m = await newMachine();
    // Its preseed gives it a token (as MAAS's does).
    expect((await h.call(null, 'GET', `${MD}/latest/by-id/${m.system_id}/?op=get_preseed`)).status).toBe(200);
    const key = await nodeKey(h, m.system_id);
    expect((await signal(h, key, { status: 'WORKING' })).status).toBe(200);
    expect((await machine(m.system_id)).status_name).toBe('New'); // anything else is ignored
    expect((await signal(h, key, { status: 'COMMISSIONING' })).status).toBe(200);
    const after = await machine(m.system_id);
    expect(after.status_name).toBe('Commissioning');
    const names: Array<{ script_name: string; status: number }> = await h.ds.query(
      `SELECT r.script_name, r.status FROM script_results r JOIN machines m ON m.current_commissioning_script_set_id = r.script_set_id WHERE m.system_id = $1`,
      [m.system_id],
    );
    expect(names.map((x) => x.script_name)).toContain('50-maas-01-commissioning');
    expect(names.map((x) => x.script_name)).not.toContain('kiln-bad-yaml'); // built-in scripts only
    const [row] = await h.ds.query(`SELECT status_expires FROM machines WHERE system_id = $1`, [m.system_id]);
    expect(row.status_expires).not.toBeNull();
    // The same token reports the run.
    expect((await signal(h, key, { status: 'WORKING' })).status).toBe(200);
    expect((await nodeKey(h, m.system_id)).tokenKey).toBe(key.tokenKey);
    // Asking again changes nothing: the run pending goes on.
    expect((await signal(h, key, { status: 'COMMISSIONING' })).status).toBe(200);
    const sets: unknown[] = await h.ds.query(`SELECT ss.id FROM script_sets ss JOIN machines m ON m.id = ss.machine_id WHERE m.system_id = $1 AND ss.result_type = 0`, [m.system_id]);
    expect(sets).toHaveLength(1);
  });

  it('"Waiting for boot" does not replace the message of a failure that overtook it', async () => {
    const m = await newMachine();
    expect((await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=commission`, { testing_scripts: 'none' })).status).toBe(200);
    const waits = async (): Promise<number> =>
      Number((await h.ds.query(`SELECT count(*) AS n FROM events WHERE system_id = $1 AND type = 'Waiting for boot'`, [m.system_id]))[0].n);
    await pollUntil(waits, (n) => n === 1, { timeoutMs: 20_000, what: 'the first Waiting for boot' });
    const [{ version }] = await h.ds.query(`SELECT version FROM machines WHERE system_id = $1`, [m.system_id]);

    // The machine fails (as a signal's transaction does) while the worker carries out an effect it
    // checked the machine for a moment before: the failure holds the machine's row until it commits.
    const qr = h.ds.createQueryRunner();
    await qr.connect();
    await qr.startTransaction();
    try {
      await qr.query(`UPDATE machines SET status = $2, status_message = 'Failed commissioning - boom failed' WHERE system_id = $1`, [m.system_id, NodeStatus.FAILED_COMMISSIONING]);
      await h.app.get(MachineLifecycleService).enqueue([
        { jobId: randomUUID(), systemId: m.system_id, version, status: NodeStatus.COMMISSIONING, effect: { kind: 'startCommissioning' }, actor: null },
      ]);
      // The worker has appended its event and now waits for the row.
      await pollUntil(waits, (n) => n === 2, { timeoutMs: 20_000, what: 'the second Waiting for boot' });
      await new Promise((r) => setTimeout(r, 300));
      await qr.commitTransaction();
    } finally {
      await qr.release();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect((await machine(m.system_id)).status_message).toBe('Failed commissioning - boom failed');
  });
});
