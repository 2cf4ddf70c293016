// DHCP benchmark: perfdhcp DORA with new clients on a 65k-address pool, against Kiln's rack DHCP
// server and against Kea 2.2 (memfile), side by side in one invocation, following
// ../shared/reference/perf-baselines.md section 3 (not a test). As root, from the repo root:
//
//   node -r ./tools/register.js tools/bench/dhcp/dhcp.bench.ts [--rates 4000,6000,8000,10000,12000]
//        [--runs 3] [--seconds 10] [--servers kea,kiln] [--kiln-fsync interval|always|never]
//        [--noise 30] [--attempts 3]
//
// Method (perf-baselines.md 2, 3.1, 3.7):
// - two namespaces joined by one veth (tools/lab/pair-lab-up.sh): the server in PREFIX-srv on
//   10.99.0.1/16, perfdhcp in PREFIX-cli on 10.99.0.2/16;
// - perfdhcp in relay mode (`-l 10.99.0.2`, giaddr set, replies to port 67) with `-g single`
//   (2.2.0's multi-thread mode receives nothing), `-R 1000000` (every DISCOVER a new client),
//   `-n rate x seconds` capped at 60,000 (the pool has 65,024 addresses);
// - every run starts its server afresh with an empty lease store; runs alternate which server
//   goes first, so neighbours' noise falls on both;
// - both servers log at INFO to a file (two lines per lease) and keep leases durably: Kea
//   memfile with persist (CSV append, no fsync), Kiln its journal (written before each ACK,
//   fdatasync every second by default);
// - loss = 1 - ACKs / DISCOVERs sent; sustained = the highest rate whose median loss over the
//   runs is under 1 % with every lower rate passing too; server CPU = the server process's
//   utime+stime over the perfdhcp run (100 = one core); box = the whole machine (200 = both);
//   gen = perfdhcp; other = box - server - gen, the neighbours' load. The machine is shared
//   (perf-baselines.md: "compare ratios measured in the same run"), so a run with other above
//   --noise points is retried (up to --attempts tries) and rates are judged on their quiet runs.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const LAB = path.join(ROOT, 'tools', 'lab');
const POOL = { start: '10.99.1.0', end: '10.99.255.254', size: 65024 };

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const RATES = flag('rates', '4000,6000,8000,10000,12000,14000').split(',').map(Number);
const RUNS = Number(flag('runs', '3'));
const SECONDS = Number(flag('seconds', '10'));
const SERVERS = flag('servers', 'kea,kiln').split(',') as ServerName[];
const KILN_FSYNC = flag('kiln-fsync', 'interval');
const MAX_LEASES = 60_000;
/** A run whose neighbours' load (box - server - perfdhcp) exceeds this many points is noisy. */
const NOISE = Number(flag('noise', '30'));
const ATTEMPTS = Number(flag('attempts', '3'));

type ServerName = 'kea' | 'kiln';

interface RunResult {
  server: ServerName;
  rate: number;
  sent: number;
  acks: number;
  loss: number;
  achieved: number;
  doAvg: number;
  raAvg: number;
  doMax: number;
  raMax: number;
  srvCpu: number;
  /** perfdhcp's CPU (100 = one core). */
  genCpu: number;
  boxBusy: number;
  /** box - server - perfdhcp: the neighbours' load (and unattributed softirq), in points. */
  other: number;
  seconds: number;
}

const prefix = `kb${randomBytes(2).toString('hex')}`;
const ns = (n: string) => `${prefix}-${n}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-dhcp-bench-${prefix}-`));

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}

function boxTicks(): { busy: number; total: number } {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + cpu[4];
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const HZ = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Started {
  proc: ChildProcess;
  pid: number;
}

async function startKea(dir: string): Promise<Started> {
  const log = path.join(dir, 'kea.log');
  const config = {
    Dhcp4: {
      'interfaces-config': { interfaces: ['pbs0'] },
      'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
      'valid-lifetime': 3600,
      subnet4: [
        {
          id: 1,
          subnet: '10.99.0.0/16',
          pools: [{ pool: `${POOL.start} - ${POOL.end}` }],
          'option-data': [{ name: 'routers', data: '10.99.0.1' }],
        },
      ],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: log }], severity: 'INFO' }],
    },
  };
  const file = path.join(dir, 'kea.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const proc = spawn('ip', ['netns', 'exec', ns('srv'), 'kea-dhcp4', '-c', file], {
    env: { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir },
    stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'kea.stderr'), 'w')],
  });
  await waitFor('kea to start', () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('DHCP4_STARTED'));
  return { proc, pid: proc.pid! };
}

async function startKiln(dir: string): Promise<Started> {
  const config = {
    // perfdhcp plays a relay agent: the subnet is served through relays (no interface), as
    // Kiln answers relayed requests only for subnets it does not serve directly.
    interfaces: [{ name: 'pbs0', address: '10.99.0.1' }],
    serverAddress: '10.99.0.1',
    leaseSeconds: 3600,
    subnets: [
      {
        id: 'bench',
        cidr: '10.99.0.0/16',
        ranges: [{ start: POOL.start, end: POOL.end }],
        routers: ['10.99.0.1'],
      },
    ],
  };
  const file = path.join(dir, 'kiln.json');
  fs.writeFileSync(file, JSON.stringify(config));
  let out = '';
  const proc = spawn(
    'ip',
    [
      'netns', 'exec', ns('srv'),
      process.execPath, '-r', path.join(ROOT, 'tools', 'register.js'), path.join(ROOT, 'apps', 'rack', 'src', 'dhcp', 'dhcp.cli.ts'),
      '--config', file, '--lease-file', path.join(dir, 'leases.journal'), '--log-file', path.join(dir, 'kiln.log'),
      '--log-level', 'info', '--fsync', KILN_FSYNC,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', fs.openSync(path.join(dir, 'kiln.stderr'), 'w')] },
  );
  proc.stdout!.on('data', (d) => (out += d));
  await waitFor('kiln to start', () => out.includes('ready') || proc.exitCode !== null);
  if (proc.exitCode !== null) throw new Error(`kiln exited: ${fs.readFileSync(path.join(dir, 'kiln.stderr'), 'utf8')}`);
  return { proc, pid: proc.pid! };
}

async function stop(s: Started): Promise<void> {
  if (s.proc.exitCode !== null) return;
  const exited = new Promise<void>((r) => s.proc.once('exit', () => r()));
  s.proc.kill('SIGTERM');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function perfdhcp(rate: number, n: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const cmd = `perfdhcp -4 -g single -l 10.99.0.2 -r ${rate} -R 1000000 -n ${n} -W 500000 10.99.0.1`;
    // bash's `time` reports perfdhcp's own CPU ("PERFDHCP_CPU user sys"), for the noise estimate.
    const script = `TIMEFORMAT='PERFDHCP_CPU %U %S'; time ${cmd}`;
    const p = spawn('ip', ['netns', 'exec', ns('cli'), 'bash', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), (n / rate + 30) * 1000);
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
    p.on('error', reject);
  });
}

function section(out: string, name: string): Record<string, number> {
  const i = out.indexOf(`***Statistics for: ${name}***`);
  const r: Record<string, number> = {};
  if (i < 0) return r;
  const body = out.indexOf('\n', i);
  const end = out.indexOf('***', body);
  for (const line of out.slice(body, end < 0 ? undefined : end).split('\n')) {
    const m = /^([a-z ]+): ([\d.]+)/.exec(line.trim());
    if (m) r[m[1]] = Number(m[2]);
  }
  return r;
}

async function oneRun(server: ServerName, rate: number): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(work, `${server}-${rate}-`));
  const s = server === 'kea' ? await startKea(dir) : await startKiln(dir);
  try {
    const n = Math.min(rate * SECONDS, MAX_LEASES);
    const c0 = cpuTicks(s.pid);
    const b0 = boxTicks();
    const t0 = process.hrtime.bigint();
    const out = await perfdhcp(rate, n);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c1 = cpuTicks(s.pid);
    const b1 = boxTicks();
    const d = section(out, 'DISCOVER-OFFER');
    const a = section(out, 'REQUEST-ACK');
    if (d['sent packets'] === undefined) throw new Error(`perfdhcp output not understood:\n${out}`);
    const acks = a['received packets'] ?? 0;
    const cores = os.cpus().length;
    const gen = /PERFDHCP_CPU ([\d.]+) ([\d.]+)/.exec(out);
    const genCpu = gen ? (100 * (Number(gen[1]) + Number(gen[2]))) / seconds : NaN;
    const srvCpu = (100 * (c1 - c0)) / HZ / seconds;
    const boxBusy = (100 * cores * (b1.busy - b0.busy)) / (b1.total - b0.total);
    return {
      server,
      rate,
      sent: d['sent packets'],
      acks,
      loss: 100 * (1 - acks / d['sent packets']),
      achieved: acks / seconds,
      doAvg: d['avg delay'],
      raAvg: a['avg delay'] ?? NaN,
      doMax: d['max delay'],
      raMax: a['max delay'] ?? NaN,
      srvCpu,
      genCpu,
      boxBusy,
      other: boxBusy - srvCpu - genCpu,
      seconds,
    };
  } finally {
    await stop(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const quiet = (r: RunResult) => r.other <= NOISE;

/** The runs a rate is judged on: the quiet ones when there are any, else all (marked noisy). */
function judged(results: RunResult[], server: ServerName, rate: number): { runs: RunResult[]; noisy: boolean } {
  const all = results.filter((r) => r.server === server && r.rate === rate);
  const q = all.filter(quiet);
  return q.length > 0 ? { runs: q, noisy: false } : { runs: all, noisy: true };
}

function printRun(r: RunResult, run: number, attempt: number): void {
  console.log(
    `${r.server.padEnd(6)} ${String(r.rate).padStart(5)} ${String(run + 1).padStart(3)}.${attempt}  ${f(r.loss).padStart(6)}  ${f(r.achieved, 0).padStart(8)}  ${f(r.doAvg, 3).padStart(7)}/${f(r.doMax, 1).padEnd(7)}  ${f(r.raAvg, 3).padStart(7)}/${f(r.raMax, 1).padEnd(7)}  ${f(r.srvCpu, 0).padStart(4)}  ${f(r.genCpu, 0).padStart(4)}  ${f(r.boxBusy, 0).padStart(4)}  ${f(r.other, 0).padStart(5)}${quiet(r) ? '' : '  noisy'}`,
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  for (const bin of ['perfdhcp', 'kea-dhcp4']) execFileSync('bash', ['-c', `command -v ${bin}`]);
  execFileSync(path.join(LAB, 'pair-lab-up.sh'), [prefix]);
  const results: RunResult[] = [];
  const failed = new Set<ServerName>();
  console.log(
    `# dhcp bench: ${SERVERS.join(' vs ')}, rates ${RATES.join(',')}, ${RUNS} runs x ${SECONDS}s (<= ${MAX_LEASES} leases), ` +
      `65,024-address pool, kiln fsync=${KILN_FSYNC}, node ${process.version}, ${os.cpus().length} cpus; ` +
      `a run with other > ${NOISE} points is noisy and retried up to ${ATTEMPTS - 1} times`,
  );
  console.log('server  rate run.try  loss%  leases/s  DO avg/max ms    RA avg/max ms    srv%  gen%  box%  other');
  try {
    for (const rate of RATES) {
      const active = SERVERS.filter((s) => !failed.has(s));
      if (active.length === 0) break;
      for (let run = 0; run < RUNS; run++) {
        const order = run % 2 === 0 ? active : [...active].reverse();
        for (const server of order) {
          for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
            const r = await oneRun(server, rate);
            results.push(r);
            printRun(r, run, attempt);
            if (quiet(r)) break;
          }
        }
      }
      // A server stops climbing after two failed rates in a row.
      for (const server of active) {
        const last = RATES.filter((x) => x <= rate).slice(-2);
        if (last.length === 2 && last.every((x) => median(judged(results, server, x).runs.map((r) => r.loss)) >= 1)) failed.add(server);
      }
    }
  } finally {
    execFileSync(path.join(LAB, 'lab-down.sh'), [prefix]);
    fs.rmSync(work, { recursive: true, force: true });
  }

  console.log('\n# summary: medians over the quiet runs of each rate (all runs where none was quiet: "noisy")');
  console.log('server  rate   loss%  leases/s  DO avg ms  RA avg ms  srv cpu%  cpu us/lease  other  runs');
  const sustained: Partial<Record<ServerName, number>> = {};
  for (const server of SERVERS) {
    let ok = true;
    for (const rate of RATES) {
      const { runs, noisy } = judged(results, server, rate);
      if (runs.length === 0) continue;
      const loss = median(runs.map((r) => r.loss));
      const cpu = median(runs.map((r) => r.srvCpu));
      const achieved = median(runs.map((r) => r.achieved));
      if (ok && loss < 1) sustained[server] = rate;
      else ok = false;
      console.log(
        `${server.padEnd(6)} ${String(rate).padStart(5)}  ${f(loss).padStart(6)}  ${f(achieved, 0).padStart(8)}  ${f(median(runs.map((r) => r.doAvg)), 3).padStart(9)}  ${f(median(runs.map((r) => r.raAvg)), 3).padStart(9)}  ${f(cpu, 0).padStart(8)}  ${f((cpu * 1e4) / achieved, 0).padStart(12)}  ${f(median(runs.map((r) => r.other)), 0).padStart(5)}  ${runs.length}${noisy ? ' noisy' : ''}`,
      );
    }
  }
  console.log('');
  for (const server of SERVERS) {
    const rate = sustained[server];
    if (rate === undefined) {
      console.log(`${server}: no rate sustained under 1 % loss`);
      continue;
    }
    const { runs } = judged(results, server, rate);
    const cpu = median(runs.map((r) => r.srvCpu));
    console.log(
      `${server}: sustained ${rate} leases/s (<1 % loss); DO ${f(median(runs.map((r) => r.doAvg)), 3)} ms, RA ${f(median(runs.map((r) => r.raAvg)), 3)} ms avg; ` +
        `server CPU ${f(cpu, 0)} % (${f((cpu * 1e4) / median(runs.map((r) => r.achieved)), 0)} us per lease)` +
        `${rate === RATES[RATES.length - 1] ? '; the highest rate tested, not a limit' : ''}`,
    );
  }
  if (sustained.kiln !== undefined && sustained.kea !== undefined) {
    console.log(`ratio kiln/kea (sustained rate): ${f(sustained.kiln / sustained.kea)}`);
  }
}

// Ctrl-C: take the lab (and every server and perfdhcp in it) down before leaving.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    try {
      execFileSync(path.join(LAB, 'lab-down.sh'), [prefix]);
      fs.rmSync(work, { recursive: true, force: true });
    } finally {
      process.exit(130);
    }
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  try {
    execFileSync(path.join(LAB, 'lab-down.sh'), [prefix]);
  } catch {
    // already down
  }
  process.exit(1);
});
