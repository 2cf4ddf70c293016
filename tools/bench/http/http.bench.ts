// HTTP boot benchmark: Kiln's HTTP boot server against nginx serving the same 32 MiB image from
// the same directory, in the same run, on 127.0.0.1 (perf-baselines section 5). nginx runs from a
// config generated into the temp dir (daemon off, sendfile on, 2 workers, access log on, as
// Debian's defaults), never touching /etc/nginx.
//
//   node -r ./tools/register.js tools/bench/http/http.bench.ts
//   RUNS=5 node -r ./tools/register.js tools/bench/http/http.bench.ts
//   KILN_HTTP_CHUNK=262144 ...   Kiln's read size while streaming (default 1 MiB)
//
// Load: curl (one, and 10 / 50 in parallel through xargs -P) and, when installed, wrk -c10 -t2.
// Each workload runs against both servers in turn (rotating order), and the medians are printed
// side by side with Kiln's throughput ratio to nginx (goal: at least 0.80x).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, freeTcpPort, median, run, startServer, Started, table, cpuSeconds } from '../tftp/bench-process.util';

const RUNS = Number(process.env.RUNS ?? 3);
const REPO = resolve(__dirname, '..', '..', '..');
const MiB = 1024 * 1024;
const SIZE = 32 * MiB;

type ServerName = 'kiln' | 'nginx';

function httpReady(port: number): () => Promise<boolean> {
  return () =>
    new Promise((ok) => {
      const req = request({ host: '127.0.0.1', port, path: '/ready-probe', method: 'HEAD', timeout: 500 }, (res) => {
        res.resume();
        ok(true);
      });
      req.on('error', () => ok(false));
      req.on('timeout', () => {
        req.destroy();
        ok(false);
      });
      req.end();
    });
}

async function startNginx(work: string, root: string, port: number): Promise<Started> {
  const prefix = join(work, 'nginx');
  for (const d of ['', 'tmp', 'logs']) mkdirSync(join(prefix, d), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
user root root;
worker_processes 2;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  access_log ${prefix}/logs/access.log;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  );
  return startServer('nginx', 'nginx', ['-p', prefix, '-e', join(prefix, 'logs', 'error.log'), '-c', conf], join(work, 'nginx.out'), httpReady(port));
}

interface Workload {
  id: string;
  /** Returns MiB moved and seconds taken. */
  run(url: string): Promise<{ mib: number; seconds: number }>;
}

function parallelCurl(n: number): Workload {
  return {
    id: n === 1 ? '1 curl x 32 MiB' : `${n} parallel curl x 32 MiB`,
    async run(url) {
      const r = await run('sh', ['-c', `seq ${n} | xargs -P ${n} -I{} curl -s -S -o /dev/null -w '%{size_download}\\n' ${url}`]);
      const sizes = r.stdout.trim().split('\n').map(Number);
      if (r.code !== 0 || sizes.length !== n || sizes.some((s) => s !== SIZE)) throw new Error(`curl: ${r.stderr.trim().slice(0, 300)}`);
      return { mib: (n * SIZE) / MiB, seconds: r.seconds };
    },
  };
}

function parseWrkBytes(out: string): number {
  // "  59 requests in 5.01s, 1.84GB read"
  const m = /requests in ([\d.]+)s, ([\d.]+)([KMGT]?B) read/.exec(out);
  if (!m) throw new Error(`cannot read wrk output: ${out}`);
  const unit = { B: 1, KB: 1024, MB: MiB, GB: 1024 * MiB, TB: 1024 * 1024 * MiB }[m[3]] ?? 1;
  return (Number(m[2]) * unit) / MiB;
}

const wrk: Workload = {
  id: 'wrk -c10 -t2 -d5s (32 MiB)',
  async run(url) {
    const r = await run('wrk', ['-c10', '-t2', '-d5s', url]);
    if (r.code !== 0) throw new Error(`wrk: ${r.stderr}`);
    const seconds = Number(/requests in ([\d.]+)s/.exec(r.stdout)?.[1] ?? NaN);
    return { mib: parseWrkBytes(r.stdout), seconds };
  },
};

async function main(): Promise<void> {
  const hasWrk = (await run('sh', ['-c', 'command -v wrk'])).code === 0;
  for (const tool of ['curl', 'nginx']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) throw new Error(`${tool} is not installed`);
  }
  const workloads = [parallelCurl(1), parallelCurl(10), parallelCurl(50), ...(hasWrk ? [wrk] : [])];
  const work = await mkdtemp(join(tmpdir(), 'kiln-http-bench-'));
  const root = join(work, 'root');
  mkdirSync(root);
  await writeFile(join(root, 'image32m.bin'), randomBytes(SIZE));

  const kilnPort = await freeTcpPort();
  const nginxPort = await freeTcpPort();
  const servers = new Map<ServerName, { s: Started; url: string }>();
  servers.set('kiln', {
    s: await startServer(
      'kiln',
      process.execPath,
      ['-r', join(REPO, 'tools', 'register.js'), join(__dirname, 'kiln-httpd.ts'), root, String(kilnPort), 'info', ...(process.env.KILN_HTTP_CHUNK ? [process.env.KILN_HTTP_CHUNK] : [])],
      join(work, 'kiln.log'),
      httpReady(kilnPort),
    ),
    url: `http://127.0.0.1:${kilnPort}/image32m.bin`,
  });
  servers.set('nginx', { s: await startNginx(work, root, nginxPort), url: `http://127.0.0.1:${nginxPort}/image32m.bin` });
  console.log(`# HTTP benchmark, ${RUNS} run(s), 127.0.0.1, 32 MiB image; wrk ${hasWrk ? 'yes' : 'not installed (apt-get install wrk)'}`);

  const samples = new Map<string, { mibs: number[]; cpu: number[]; errors: string[] }>();
  const names: ServerName[] = ['kiln', 'nginx'];
  try {
    for (let runNo = 1; runNo <= RUNS; runNo++) {
      for (const w of workloads) {
        for (let i = 0; i < names.length; i++) {
          const name = names[(i + runNo - 1) % names.length];
          const srv = servers.get(name)!;
          const k = `${w.id}|${name}`;
          const smp = samples.get(k) ?? { mibs: [], cpu: [], errors: [] };
          samples.set(k, smp);
          const cpu0 = cpuSeconds(srv.s.proc.pid);
          try {
            const r = await w.run(srv.url);
            smp.mibs.push(r.mib / r.seconds);
            const cpu1 = cpuSeconds(srv.s.proc.pid);
            if (name === 'kiln' && cpu0 !== undefined && cpu1 !== undefined) smp.cpu.push(cpu1 - cpu0);
            process.stderr.write(`run ${runNo} ${name.padEnd(6)} ${w.id.padEnd(28)} ${(r.mib / r.seconds).toFixed(0)} MiB/s\n`);
          } catch (e) {
            smp.errors.push(String(e));
            process.stderr.write(`run ${runNo} ${name.padEnd(6)} ${w.id.padEnd(28)} FAILED ${String(e)}\n`);
          }
        }
      }
    }
  } finally {
    for (const s of servers.values()) await s.s.stop();
  }

  const rows = [['workload', 'kiln MiB/s', 'nginx MiB/s', 'kiln/nginx', 'kiln cpu s']];
  for (const w of workloads) {
    const get = (n: ServerName) => samples.get(`${w.id}|${n}`);
    const k = get('kiln')?.mibs.length ? median(get('kiln')!.mibs) : undefined;
    const n = get('nginx')?.mibs.length ? median(get('nginx')!.mibs) : undefined;
    rows.push([w.id, fmt(k, 0), fmt(n, 0), k && n ? `${(k / n).toFixed(2)}x` : 'n/a', get('kiln')?.cpu.length ? fmt(median(get('kiln')!.cpu)) : 'n/a']);
    for (const name of names) for (const e of get(name)?.errors ?? []) console.log(`# ${name} ${w.id}: ${e}`);
  }
  console.log(table(rows));
  console.log('# throughput = bytes delivered / wall time (higher is better); goal kiln/nginx >= 0.80x. nginx worker CPU is not measured (forked workers).');
  await rm(work, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
