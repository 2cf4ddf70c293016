/**
 * `kiln simulate`'s engine against a real region and a real rack process: a handful of simulated
 * machines enlist themselves anonymously through the rack's proxy (they end New, with their MACs
 * and their webhook BMC), then the operator commissions them: the region powers each on through
 * the rack's webhook driver, the simulated BMC boots its agent, the agent runs the commissioning
 * conversation and the machine ends Ready with every script result and its inventory stored. A
 * machine added with its BMC whose commissioning script fails ends Failed commissioning. In the
 * deploy mode the operator then allocates and deploys them: the region powers each on, the agent
 * plays the installer (curtin user-data, status events, netboot_off) and, after its reboot, the
 * installed system whose user-data fetch makes it Deployed; a release powers it off and it ends Ready.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeTcpPort, pollUntil } from '@kiln/testing';
import { machineResources, Simulation } from '@kiln/simulator';
import { ApiKey, RegionHarness } from './region.harness';

const ROOT = resolve(__dirname, '../../../..');
const API = '/MAAS/api/2.0';

interface MachineJson {
  system_id: string;
  status_name: string;
  status_message: string | null;
  power_type: string;
  interface_set: { mac_address: string }[];
}

describe('simulated machines against a region and a rack', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let rackProc: ChildProcess | null = null;
  let stateDir: string;
  let rackUrl: string;

  beforeAll(async () => {
    h = await RegionHarness.start({ KILN_POWER_POLL_INTERVAL_MS: '3600000', KILN_POWER_POLL_SPREAD_MS: '0' });
    admin = await h.createUser('admin', true);
    stateDir = mkdtempSync(join(tmpdir(), 'kiln-sim-rack-'));
    const enrolled = await h.provisionRack({ hostname: 'rack-sim', stateDir });
    const port = await freeTcpPort();
    rackUrl = `http://127.0.0.1:${port}`;
    rackProc = spawn(process.execPath, ['-r', './tools/register.js', 'apps/rack/src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        ...enrolled.env,
        KILN_REGION_URL: h.baseUrl,
        KILN_RACK_HOSTNAME: 'rack-sim',
        KILN_RACK_SERVICES: 'http,power',
        KILN_RACK_HTTP_PORT: String(port),
        KILN_LOG_LEVEL: 'warn',
      },
    });
    await pollUntil(
      () => h.ds.query(`SELECT status FROM rack_controllers WHERE hostname = 'rack-sim'`) as Promise<{ status: string }[]>,
      (rows) => rows[0]?.status === 'running',
      { timeoutMs: 60_000, what: 'the rack process to register' },
    );
    await pollUntil(() => fetch(`${rackUrl}/MAAS/api/2.0/version/`).then((r) => r.status, () => 0), (s) => s === 200, { timeoutMs: 30_000, what: "the rack's proxy" });
  }, 120_000);

  afterAll(async () => {
    if (rackProc && rackProc.exitCode === null) {
      rackProc.kill('SIGTERM');
      await new Promise((r) => rackProc!.once('exit', r));
    }
    rmSync(stateDir, { recursive: true, force: true });
    await h?.stop();
  }, 60_000);

  const sim = (over: Partial<ConstructorParameters<typeof Simulation>[0]> = {}) =>
    new Simulation({
      machines: 3,
      mode: 'enlist-commission',
      regionUrl: h.baseUrl,
      metadataUrl: `${rackUrl}/MAAS/metadata/`,
      apiKey: admin,
      heartbeatMs: 500,
      scriptMs: [5, 30],
      bootMs: [1500, 2500],
      timeoutMs: 90_000,
      pollMs: 250,
      retryDelaysS: [0.2, 0.5],
      ...over,
    });

  const machine = async (sid: string) => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as MachineJson;

  it('enlist then commission: New, then Ready, through the rack, with every result stored', async () => {
    const s = sim();
    const report = await s.run();
    expect(report.agentErrors).toEqual([]);
    expect(report.phases.map((p) => [p.phase, p.target, p.reached])).toEqual([
      ['enlist', 'New', 3],
      ['commission', 'Ready', 3],
    ]);
    const ids = report.systemIds as string[];
    expect(ids.every((x) => typeof x === 'string')).toBe(true);
    for (const [i, sid] of ids.entries()) {
      const m = await machine(sid);
      expect(m.status_name).toBe('Ready');
      expect(m.power_type).toBe('webhook');
      expect(m.interface_set.map((x) => x.mac_address).sort()).toEqual(s.machines[i].nics.map((n) => n.mac).sort());
      // The region powered the machine on through the rack's webhook driver, with its system_id.
      expect(s.bmc.calls.some((c) => c.index === i && c.action === 'on' && c.systemId === sid)).toBe(true);
      // Its inventory, as the built-in printed it, stored with the result.
      const [row] = (await h.ds.query(
        `SELECT r.output, r.stdout, r.status, r.exit_status FROM script_results r JOIN script_sets s ON s.id = r.script_set_id JOIN machines m ON m.id = s.machine_id
          WHERE m.system_id = $1 AND r.script_name = '50-maas-01-commissioning' AND r.exit_status IS NOT NULL ORDER BY r.id DESC LIMIT 1`,
        [sid],
      )) as { stdout: Buffer; status: number; exit_status: number }[];
      expect(row).toMatchObject({ status: 2, exit_status: 0 });
      expect(JSON.parse(row.stdout.toString('utf8'))).toEqual(machineResources(s.machines[i]));
    }
    // No lost result: one stored row per result the agents sent.
    const [{ n }] = (await h.ds.query(
      `SELECT count(*)::int AS n FROM script_results r JOIN script_sets s ON s.id = r.script_set_id JOIN machines m ON m.id = s.machine_id
        WHERE m.system_id = ANY($1) AND (r.output IS NOT NULL OR r.exit_status IS NOT NULL)`,
      [ids],
    )) as { n: number }[];
    expect(n).toBe(report.resultsSent);
    expect(report.signals.OK).toBe(6);
    expect(report.signal.count).toBeGreaterThan(6);
  }, 180_000);

  it('enlist, commission, deploy and release: Deployed through the installer conversation, then Ready, powered off by the region', async () => {
    const N = 6;
    const s = sim({ machines: N, mode: 'enlist-commission-deploy', hostnamePrefix: 'simdeploy', heartbeatMs: 100, installMs: [200, 400], bootMs: [300, 600], commissionParams: [['testing_scripts', 'none']] });
    const report = await s.run();
    expect(report.agentErrors).toEqual([]);
    expect(report.phases.map((p) => [p.phase, p.target, p.of, p.reached])).toEqual([
      ['enlist', 'New', N, N],
      ['commission', 'Ready', N, N],
      ['deploy', 'Deployed', N, N],
      ['release', 'Ready', N, N],
    ]);
    // No heartbeat outlives its run: none is refused for a token the run's end revoked.
    expect(Object.keys(report.retryReasons).filter((r) => r.startsWith('401') || r.startsWith('403'))).toEqual([]);
    // The conversation the region expects from a deploying machine, once per machine.
    for (const what of ['GET GET curtin/user-data', 'POST netboot_off', 'GET installed user-data']) expect(report.requests[what]).toBe(N);
    expect(report.requests['POST status']).toBeGreaterThanOrEqual(N * 12);
    for (const [i, sid] of (report.systemIds as string[]).entries()) {
      const m = await machine(sid);
      expect(m.status_name).toBe('Ready');
      const [row] = (await h.ds.query('SELECT netboot, owner_id, osystem FROM machines WHERE system_id = $1', [sid])) as { netboot: boolean; owner_id: number | null }[];
      expect(row.owner_id).toBeNull();
      // The region powered it on to deploy and off to release, through the rack's webhook driver.
      const actions = s.bmc.calls.filter((c) => c.index === i && c.systemId === sid).map((c) => c.action);
      expect(actions.filter((a) => a === 'on').length).toBe(2);
      expect(actions).toContain('off');
      // The machine's own event log, in order: installer start, image written (configuring), the
      // installed system's cloud-init, Deployed, then the release.
      const events = (await h.ds.query('SELECT type, description FROM events WHERE system_id = $1 ORDER BY id', [sid])) as { type: string; description: string }[];
      const at = (pred: (e: { type: string; description: string }) => boolean, after = -1) => events.findIndex((e, k) => k > after && pred(e));
      const deployed = at((e) => e.type === 'Deployed');
      const order = [
        at((e) => e.description === 'Installing: curtin command install'),
        at((e) => e.description === 'Installing: configuring the installed system'),
        at((e) => e.description.startsWith('Installed system: init-local')),
        deployed,
        at((e) => e.type === 'Releasing' || e.type === 'Ready', deployed),
      ];
      expect(order.every((x) => x >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    }
  }, 240_000);

  it('a machine added with its BMC whose commissioning script fails ends Failed commissioning, naming the script', async () => {
    const s = sim({ machines: 1, mode: 'commission', hostnamePrefix: 'simfail', failScripts: new Map([[0, new Set(['maas-lshw'])]]) });
    const report = await s.run();
    expect(report.phases[0]).toMatchObject({ phase: 'commission', target: 'Ready', reached: 0 });
    const m = await machine(report.systemIds[0]!);
    expect(m.status_name).toBe('Failed commissioning');
    expect(m.status_message).toContain('maas-lshw');
    expect(report.signals.FAILED).toBe(1);
  }, 120_000);
});
