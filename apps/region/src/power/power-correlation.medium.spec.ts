import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pollUntil } from '@kiln/testing';
import { configureRootLogger } from '../logging/logger';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Line = Record<string, unknown> & { msg?: string };

/** Collects JSON log lines written to it (pino destination, or a child process's stdout). */
class Lines {
  readonly raw: string[] = [];
  private rest = '';

  write(chunk: string | Buffer): void {
    const text = this.rest + chunk.toString();
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) if (p.startsWith('{')) this.raw.push(p);
  }

  find(pred: (l: Line) => boolean): Line[] {
    return this.raw.map((r) => JSON.parse(r) as Line).filter(pred);
  }
}

/**
 * One correlation id from the API request to the rack's BMC call: the region (real Postgres, Redis
 * and NATS) and a real rack process (its own nkey, power served on the contract bus) driving a
 * webhook BMC on loopback. The rack's log lines for a power command carry the correlationId of
 * the region's lines that sent it: the API request's id for a command sent while answering the
 * request, and, for an effect run by a lifecycle job, the id of the request that queued the job.
 */
describe('correlation ids across region and rack', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let rackProc: ChildProcess;
  let stateDir: string;
  let bmc: Server;
  let bmcUrl: string;
  let power: 'running' | 'stopped' = 'running';
  const region = new Lines();
  const rack = new Lines();

  beforeAll(async () => {
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000', KILN_POWER_POLL_INTERVAL_MS: '3600000', KILN_POWER_POLL_SPREAD_MS: '0' });
    configureRootLogger('info', 'kiln-region', region);
    admin = await h.createUser('admin', true);
    // A webhook BMC: POST /on and /off change the state, GET /query tells it.
    bmc = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/on') power = 'running';
      if (req.method === 'POST' && req.url === '/off') power = 'stopped';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: power }));
    });
    await new Promise<void>((r) => bmc.listen(0, '127.0.0.1', r));
    bmcUrl = `http://127.0.0.1:${(bmc.address() as AddressInfo).port}`;
    stateDir = mkdtempSync(join(tmpdir(), 'kiln-rack-correlation-'));
    const enrolled = await h.provisionRack({ hostname: 'rack-correlation', stateDir });
    rackProc = spawn(process.execPath, ['-r', './tools/register.js', 'apps/rack/src/main.ts'], {
      cwd: resolve(__dirname, '../../../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH, ...enrolled.env, KILN_RACK_HOSTNAME: 'rack-correlation', KILN_RACK_SERVICES: 'power', KILN_LOG_LEVEL: 'info' },
    });
    rackProc.stdout?.on('data', (d: Buffer) => rack.write(d));
    await pollUntil(
      (): Promise<unknown[]> => h.ds.query(`SELECT 1 FROM rack_controllers WHERE hostname = 'rack-correlation' AND status = 'running'`),
      (rows) => rows.length === 1,
      { timeoutMs: 30_000, what: 'the rack process to register' },
    );
    await pollUntil(() => Promise.resolve(rack.find((l) => l.msg === 'serving power commands')), (l) => l.length === 1, { what: 'the rack to serve power' });
  }, 120_000);

  afterAll(async () => {
    if (rackProc && rackProc.exitCode === null) {
      rackProc.kill('SIGTERM');
      await new Promise((r) => rackProc.once('exit', r));
    }
    rmSync(stateDir, { recursive: true, force: true });
    await new Promise((r) => bmc?.close(r));
    configureRootLogger('silent');
    await h?.stop();
  });

  it("carries the API request's id, and a lifecycle job's, to the rack's log lines for the same power command", async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: '52:54:00:7c:00:01',
      deployed: 'true',
      power_type: 'webhook',
      power_parameters_power_on_uri: `${bmcUrl}/on`,
      power_parameters_power_off_uri: `${bmcUrl}/off`,
      power_parameters_power_query_uri: `${bmcUrl}/query`,
    });
    expect(created.status).toBe(200);
    const sid = (created.json() as { system_id: string }).system_id;

    // A command sent while answering an API request: the request's id.
    const q = await h.call(admin, 'GET', `${API}/machines/${sid}/?op=query_power_state`);
    expect(q.json()).toMatchObject({ state: 'on' });
    const [asked] = region.find((l) => l.msg === 'power command answered by rack' && l.systemId === sid && l.action === 'query');
    expect(asked).toMatchObject({ requestId: expect.any(String) });
    const [queried] = rack.find((l) => l.msg === 'power command done' && l.systemId === sid && l.action === 'query');
    expect(queried).toMatchObject({ correlationId: asked.requestId, outcome: 'done' });

    // An effect of a transition, run by a lifecycle job: the id of the request that made the transition.
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
    await pollUntil(() => h.call(admin, 'GET', `${API}/machines/${sid}/`), (r) => (r.json() as { status_name: string }).status_name === 'Ready', {
      timeoutMs: 30_000,
      what: 'the release to power the machine off',
    });
    const [transition] = region.find((l) => l.systemId === sid && l.event === 'release');
    expect(transition).toMatchObject({ requestId: expect.any(String) });
    expect(transition.requestId).not.toBe(asked.requestId);
    const [sent] = region.find((l) => l.msg === 'power command answered by rack' && l.systemId === sid && l.action === 'off');
    expect(sent).toMatchObject({ job: 'machine.effect', jobId: expect.any(String), correlationId: transition.requestId });
    expect(sent).not.toHaveProperty('requestId');
    const offLines = rack.raw.filter((r) => r.includes(`"systemId":"${sid}"`) && r.includes('"action":"off"'));
    expect(offLines.length).toBeGreaterThan(0);
    for (const raw of offLines) {
      expect(JSON.parse(raw)).toMatchObject({ correlationId: transition.requestId });
      // Each key once (a child logger used to add the rack id a second time).
      expect(raw.match(/"rackId":/g)).toHaveLength(1);
      expect(raw.match(/"correlationId":/g)).toHaveLength(1);
    }
    // The job's own transition (Releasing -> Ready) is told under the same id.
    expect(region.find((l) => l.systemId === sid && l.event === 'releaseCompleted')).toEqual([expect.objectContaining({ correlationId: transition.requestId })]);
    expect(power).toBe('stopped');
  }, 90_000);
});
