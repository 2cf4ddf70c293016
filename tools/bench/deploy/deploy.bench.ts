/**
 * Deployment at scale: one region and one rack, as deploy/ runs them (built with their Nx build
 * commands, plain `node dist/apps/<app>/main.js`, a private nats-server with auth, a fresh
 * database), and `kiln simulate --mode enlist-commission-deploy` with N simulated machines: they
 * enlist, are commissioned (testing_scripts=none), then the operator allocates and deploys all of
 * them at once (the region powers each on through the rack's webhook driver; the agent plays the
 * installer and the installed system) and releases them (the region powers them off).
 *
 * Prints: wall time per phase, the region's peak RSS (VmHWM) and CPU, and the per-machine
 * breakdown of the deployment from the machines' own event logs (p50 / p90 / max): deploy
 * requested -> installer start -> image written -> installed system up -> Deployed. DHCP and the
 * boot loader are not simulated (a simulated boot is a pause); the installer's stages are the
 * simulator's.
 *
 *   node -r ./tools/register.js tools/bench/deploy/deploy.bench.ts [machines=1000] [install-ms=20000-40000] [phase-timeout-seconds=1800]
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import type { SimulationReport } from '@kiln/simulator';
import { createTestDatabase, freeTcpPort, pollUntil, startPrivateNatsServer, testServices, uniquePrefix } from '@kiln/testing';

const ROOT = resolve(__dirname, '..', '..', '..');
const N = Number(process.argv[2] ?? 1000);
const INSTALL_MS = process.argv[3] ?? '20000-40000';
/** Longest wait for each phase, in seconds. */
const PHASE_TIMEOUT_S = Number(process.argv[4] ?? 1800);
const HEARTBEAT_S = 30;
const built = (app: string) => join(ROOT, 'dist', 'apps', app, 'main.js');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else res(stdout);
    });
  });
}

class Proc {
  output = '';
  readonly exited: Promise<number | null>;
  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-2_000_000)));
    child.stderr?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-2_000_000)));
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }
  static start(name: string, env: Record<string, string>): Proc {
    return new Proc(name, spawn(process.execPath, [built(name)], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** VmHWM / VmRSS of a process, in MiB. */
function memory(pid: number): { hwm: number; rss: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) / 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-deploy-'));
  // Kept after the run (the rest of `dir` is not).
  const logs = mkdtempSync(join(tmpdir(), 'kiln-bench-deploy-logs-'));
  const procs: Proc[] = [];
  const db = await createTestDatabase();
  const redisPrefix = uniquePrefix('kiln-bench');
  let nats: Awaited<ReturnType<typeof startPrivateNatsServer>> | undefined;
  try {
    process.stderr.write('building region, rack and CLI (their Nx build commands)\n');
    for (const app of ['region', 'rack', 'cli']) {
      // Each app's Nx build target: `node tools/build/build.js apps/<app> ...`.
      const command = (JSON.parse(readFileSync(join(ROOT, 'apps', app, 'project.json'), 'utf8')) as { targets: { build: { options: { command: string } } } }).targets.build.options.command;
      const [node, ...args] = command.split(/\s+/);
      if (node !== 'node') throw new Error(`unexpected build command for ${app}: ${command}`);
      await run(process.execPath, args);
    }

    const regionEnv: Record<string, string> = {
      KILN_DATABASE_URL: db.url,
      KILN_REDIS_URL: testServices.redisUrl,
      KILN_REDIS_PREFIX: redisPrefix,
      KILN_SECRET_KEY: randomBytes(24).toString('hex'),
      KILN_NATS_NKEY_FILE: join(dir, 'region.nk'),
    };
    const cli = (args: string[]) => run(process.execPath, [built('cli'), ...args], { PATH: process.env.PATH ?? '', ...regionEnv });
    await cli(['nats-nkey', '--out', regionEnv.KILN_NATS_NKEY_FILE]);
    let settings: Record<string, string> = {};
    const rendered = join(dir, 'nats.conf');
    nats = await startPrivateNatsServer((s) => {
      settings = { KILN_NATS_SERVER_LISTEN: s.listen, KILN_NATS_JETSTREAM_DIR: s.storeDir, KILN_NATS_SERVER_PID_FILE: s.pidFile };
      execFileSync(process.execPath, [built('cli'), 'nats-config', '--out', rendered], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...regionEnv, ...settings },
      });
      return readFileSync(rendered, 'utf8');
    });
    const regionPort = await freeTcpPort();
    const regionUrl = `http://127.0.0.1:${regionPort}`;
    const region = Proc.start('region', {
      ...regionEnv,
      ...settings,
      KILN_NATS_URL: nats.url,
      KILN_NATS_SERVER_CONFIG: nats.configFile,
      KILN_HTTP_HOST: '127.0.0.1',
      KILN_HTTP_PORT: String(regionPort),
      KILN_LOG_LEVEL: 'warn',
      // The region polls every BMC's power; a real deployment's default, not a benchmark's load.
      KILN_POWER_POLL_INTERVAL_MS: '3600000',
      // The region's database pool (its default unless the bench is run with KILN_DATABASE_POOL set).
      ...(process.env.KILN_DATABASE_POOL ? { KILN_DATABASE_POOL: process.env.KILN_DATABASE_POOL } : {}),
    });
    procs.push(region);
    await pollUntil(
      async () => {
        if (!region.running) throw new Error(`the region exited:\n${region.output}`);
        return fetch(`${regionUrl}/MAAS/api/2.0/version/`).then((r) => r.status, () => 0);
      },
      (s) => s === 200,
      { timeoutMs: 120_000, intervalMs: 250, what: 'the region to listen' },
    );

    const rackPort = await freeTcpPort();
    const hostname = `bench-rack-${randomBytes(3).toString('hex')}`;
    const rack = Proc.start('rack', {
      KILN_NATS_URL: nats.url,
      KILN_REGION_URL: regionUrl,
      KILN_RACK_ENROLL_TOKEN: (await cli(['rack-token', '--hours', '1'])).trim(),
      KILN_RACK_STATE_DIR: join(dir, 'rack-state'),
      KILN_RACK_HOSTNAME: hostname,
      KILN_RACK_SERVICES: 'http,power',
      KILN_RACK_HTTP_PORT: String(rackPort),
      KILN_LOG_LEVEL: 'warn',
    });
    procs.push(rack);
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pollUntil(
      async () => {
        if (!rack.running) throw new Error(`the rack exited:\n${rack.output}`);
        return (await pg.query<{ status: string }>('SELECT status FROM rack_controllers WHERE hostname = $1', [hostname])).rows[0]?.status;
      },
      (s) => s === 'running',
      { timeoutMs: 120_000, intervalMs: 250, what: 'the rack to register' },
    );
    await cli(['createadmin', '--username', 'bench', '--password', randomBytes(8).toString('hex')]);
    const apiKey = (await cli(['apikey', '--username', 'bench'])).trim().split('\n')[0];

    const regionPid = region.child.pid!;
    const before = { mem: memory(regionPid), cpu: cpuSeconds(regionPid) };
    let maxRss = 0;
    const sampler = setInterval(() => {
      try {
        maxRss = Math.max(maxRss, memory(regionPid).rss);
      } catch {
        /* exited */
      }
    }, 500);
    process.stderr.write(`region pid ${regionPid} at ${regionUrl} (RSS ${before.mem.rss.toFixed(0)} MiB), rack proxy on :${rackPort}; simulating ${N} machines\n`);
    const t0 = performance.now();
    const simOut = await new Promise<string>((res, rej) => {
      const sim = spawn(
        process.execPath,
        [built('cli'), 'simulate', '--machines', String(N), '--mode', 'enlist-commission-deploy', '--testing-scripts', 'none', '--install-ms', INSTALL_MS, '--region', regionUrl, '--rack', `http://127.0.0.1:${rackPort}`, '--api-key', apiKey, '--heartbeat', String(HEARTBEAT_S), '--timeout', String(PHASE_TIMEOUT_S), '--json'],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      sim.stdout.on('data', (d: Buffer) => (out += d.toString()));
      sim.on('error', rej);
      sim.on('close', () => res(out));
    });
    const totalS = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const after = { mem: memory(regionPid), cpu: cpuSeconds(regionPid) };
    const line = simOut.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) throw new Error(`kiln simulate printed no report; region output:\n${region.output.slice(-4000)}`);
    const report = JSON.parse(line) as SimulationReport;
    const sids = report.systemIds.filter((x): x is string => !!x);
    // The machines' own event logs: when each step of its deployment happened, as the region logged it.
    const steps = await pg.query<{ system_id: string; deploying: Date | null; installer: Date | null; image: Date | null; rebooted: Date | null; deployed: Date | null; ready: Date | null }>(
      `SELECT system_id,
              min(created) FILTER (WHERE type = 'Deploying') AS deploying,
              min(created) FILTER (WHERE description LIKE 'curtin cmd-install: %') AS installer,
              min(created) FILTER (WHERE description LIKE 'curtin cmd-install/stage-curthooks%') AS image,
              min(created) FILTER (WHERE description LIKE 'cloudinit init-local%') AS rebooted,
              min(created) FILTER (WHERE type = 'Deployed') AS deployed,
              max(created) FILTER (WHERE type = 'Ready') AS ready
         FROM events WHERE system_id = ANY($1) GROUP BY system_id`,
      [sids],
    );
    const statuses = await pg.query<{ status: number; n: string }>('SELECT status, count(*) AS n FROM machines GROUP BY status ORDER BY status');
    await pg.end();

    const fmt = (p: SimulationReport['phases'][number] | undefined) =>
      p ? `${p.reached}/${p.of} ${p.target} in ${(p.wallMs / 1000).toFixed(1)} s` + (Object.keys(p.elsewhere).length ? ` (elsewhere: ${JSON.stringify(p.elsewhere)})` : '') : 'not run';
    const phase = (name: string) => report.phases.find((p) => p.phase === name);
    const pct = (xs: number[], q: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((q / 100) * xs.length) - 1))] : NaN);
    const interval = (name: string, from: keyof (typeof steps.rows)[number], to: keyof (typeof steps.rows)[number]) => {
      const xs = steps.rows
        .filter((r) => r[from] && r[to])
        .map((r) => ((r[to] as Date).getTime() - (r[from] as Date).getTime()) / 1000)
        .sort((a, b) => a - b);
      return `    ${name.padEnd(44)} p50 ${pct(xs, 50).toFixed(1).padStart(6)} s  p90 ${pct(xs, 90).toFixed(1).padStart(6)} s  max ${(xs.length ? xs[xs.length - 1] : NaN).toFixed(1).padStart(6)} s  (${xs.length} machines)`;
    };
    console.log(`kiln deployment benchmark: ${N} simulated machines, one region + one rack on this host (${cpus().length} CPUs, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}), installer ${INSTALL_MS} ms`);
    console.log(`  enlistment (all at once):              ${fmt(phase('enlist'))}`);
    console.log(`  commissioning (testing_scripts=none):  ${fmt(phase('commission'))}`);
    console.log(`  allocate + deploy (all at once):       ${fmt(phase('deploy'))}`);
    console.log(`  release (all at once):                 ${fmt(phase('release'))}`);
    console.log(`  whole run (simulator start to end):    ${totalS.toFixed(1)} s`);
    console.log(`  region RSS: peak ${after.mem.hwm.toFixed(0)} MiB (VmHWM; sampled max ${maxRss.toFixed(0)} MiB), at start ${before.mem.rss.toFixed(0)} MiB, at end ${after.mem.rss.toFixed(0)} MiB`);
    console.log(`  region CPU during the run: ${(after.cpu - before.cpu).toFixed(1)} s`);
    console.log('  per machine, from its event log (DHCP and the boot loader are not simulated: a simulated boot is a pause):');
    console.log(interval('deploy requested -> installer start', 'deploying', 'installer'));
    console.log(interval('installer start -> image written', 'installer', 'image'));
    console.log(interval('image written -> installed system up (reboot)', 'image', 'rebooted'));
    console.log(interval('installed system up -> Deployed', 'rebooted', 'deployed'));
    console.log(interval('deploy requested -> Deployed', 'deploying', 'deployed'));
    console.log(interval('Deployed -> Ready again (release)', 'deployed', 'ready'));
    console.log(`  requests retried by agents: ${report.retries}${report.retries ? ` (why: ${JSON.stringify(report.retryReasons)})` : ''}; agents that gave up: ${report.agentErrors.length}`);
    for (const e of report.agentErrors.slice(0, 5)) console.log(`    machine ${e.index}${e.systemId ? ` (${e.systemId})` : ''}: ${e.error.slice(0, 200)}`);
    console.log(`  machines by status at the end: ${statuses.rows.map((r) => `${r.status}=${r.n}`).join(' ')}`);
    // What the region and the rack logged at warn and above (KILN_LOG_LEVEL=warn), most frequent first.
    for (const p of [region, rack]) {
      const counts = new Map<string, number>();
      for (const l of p.output.split('\n')) {
        if (!l.startsWith('{')) continue;
        try {
          const j = JSON.parse(l) as { msg?: string; code?: string };
          const key = `${j.msg ?? ''}${j.code ? ` [${j.code}]` : ''}`.slice(0, 160);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        } catch {
          /* a partial line at the start of the kept output */
        }
      }
      const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5);
      console.log(`  ${p.name} warnings: ${top.length ? top.map(([k, v]) => `${v}x ${k}`).join('; ') : 'none'}`);
      writeFileSync(join(logs, `${p.name}.log`), p.output);
    }
    console.log(`  the region's and the rack's logs: ${logs}`);
    console.log('  reference peer: MAAS cannot be installed or run on this machine, so no MAAS figure is measured.');
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await nats?.stop();
    const redis = new Redis(testServices.redisUrl);
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${redisPrefix}:*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
