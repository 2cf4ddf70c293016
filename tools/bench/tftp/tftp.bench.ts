// TFTP benchmark: Kiln's TFTP server against tftpd-hpa and atftpd, in the same run, on 127.0.0.1,
// with the method of the perf baselines (shared/reference/perf-baselines.md section 4):
//   - one 32 MiB transfer: tftp-hpa client (512), curl 512, curl 1468, atftp 1468 + windowsize 8
//   - storms: N curl clients at once (xargs -P N) fetching a 1 MiB file, N = 50, 200, at 512/1468
// Prints the medians side by side and Kiln's ratio to each peer.
//
//   node -r ./tools/register.js tools/bench/tftp/tftp.bench.ts
//   RUNS=5 ONLY=storm node -r ./tools/register.js tools/bench/tftp/tftp.bench.ts
//   WITH_INLINE=1 ...   also runs Kiln with every transfer on its main thread (workers: 0)
//   KILN_TFTP_WORKERS=4 ...   Kiln's transfer worker threads (default: CPUs, at most 4)
//
// All servers run side by side for the whole benchmark, and each workload is run against each of
// them in turn (in a rotating order), so noise from the rest of the machine hits them alike.
// Peers: atftpd and the atftp client (Debian atftpd, atftp), curl, tftp-hpa. tftpd-hpa conflicts
// with atftpd (both ship /usr/sbin/in.tftpd), so unless KILN_BENCH_TFTPD_HPA names its in.tftpd,
// or /usr/sbin/in.tftpd is tftpd-hpa, the package is fetched with `apt-get download` and unpacked
// into a cache folder under the temp dir.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeTftp, TftpOpcode } from '@kiln/protocol';
import { cpuSeconds, fmt, freeUdpPort, median, run, startServer, Started, table } from './bench-process.util';

const RUNS = Number(process.env.RUNS ?? 3);
const ONLY = process.env.ONLY; // substring filter on workload ids
const REPO = resolve(__dirname, '..', '..', '..');

type ServerName = 'kiln' | 'kiln-1thread' | 'tftpd-hpa' | 'atftpd';

interface Workload {
  id: string;
  kind: 'single' | 'storm';
  /** Returns seconds (wall) and the slowest client (storms), or throws on a failed transfer. */
  run(port: number, work: string): Promise<{ seconds: number; slowest?: number }>;
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(false);
    }, 200);
    s.on('message', () => {
      clearTimeout(t);
      s.close();
      resolve(true);
    });
    s.bind(0, '127.0.0.1', () =>
      s.send(encodeTftp({ opcode: TftpOpcode.RRQ, filename: 'kiln-bench-probe-none', mode: 'octet', options: {} }), port, '127.0.0.1'),
    );
  });
}

async function findTftpdHpa(cache: string): Promise<string | undefined> {
  const candidates = [process.env.KILN_BENCH_TFTPD_HPA, '/usr/sbin/in.tftpd', join(cache, 'usr', 'sbin', 'in.tftpd')];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const v = await run(c, ['-V'], { timeoutMs: 5_000 });
    if (`${v.stdout}${v.stderr}`.includes('tftp-hpa')) return c;
  }
  console.error('# tftpd-hpa not found: fetching it with apt-get download (it conflicts with atftpd, so it is not installed)');
  mkdirSync(cache, { recursive: true });
  const dl = await run('apt-get', ['download', 'tftpd-hpa'], { cwd: cache });
  const deb = readdirSync(cache).find((f) => f.startsWith('tftpd-hpa_') && f.endsWith('.deb'));
  if (dl.code !== 0 || !deb) {
    console.error(`# apt-get download tftpd-hpa failed: ${dl.stderr.trim()}`);
    return undefined;
  }
  await run('dpkg', ['-x', join(cache, deb), cache]);
  const bin = join(cache, 'usr', 'sbin', 'in.tftpd');
  return existsSync(bin) ? bin : undefined;
}

async function startPeer(name: ServerName, root: string, logDir: string, tftpdHpa: string | undefined): Promise<{ s: Started; port: number } | undefined> {
  const port = await freeUdpPort();
  const log = join(logDir, `${name}.log`);
  const ready = () => probe(port);
  switch (name) {
    case 'kiln':
    case 'kiln-1thread': {
      const args = ['-r', join(REPO, 'tools', 'register.js'), join(__dirname, 'kiln-tftpd.ts'), root, String(port), 'info'];
      if (name === 'kiln-1thread') args.push('0');
      else if (process.env.KILN_TFTP_WORKERS) args.push(process.env.KILN_TFTP_WORKERS);
      return { port, s: await startServer(name, process.execPath, args, log, ready) };
    }
    case 'tftpd-hpa':
      if (!tftpdHpa) return undefined;
      return { port, s: await startServer(name, tftpdHpa, ['-L', '-u', 'root', '-s', root, '-a', `127.0.0.1:${port}`], log, ready) };
    case 'atftpd':
      return {
        port,
        s: await startServer(
          name,
          'atftpd',
          ['--daemon', '--no-fork', '--port', String(port), '--bind-address', '127.0.0.1', '--user', 'root', '--group', 'root', '--maxthread', '1000', '--no-multicast', '--logfile', log, root],
          log,
          ready,
        ),
      };
  }
}

async function checkSize(path: string, size: number): Promise<void> {
  const st = await stat(path);
  if (st.size !== size) throw new Error(`${path}: ${st.size} bytes, expected ${size}`);
}

const MiB = 1024 * 1024;

function single(id: string, make: (port: number, out: string) => [string, string[]]): Workload {
  return {
    id,
    kind: 'single',
    async run(port, work) {
      const out = join(work, `out-${process.hrtime.bigint()}`);
      const [cmd, args] = make(port, out);
      const r = await run(cmd, args, { cwd: work });
      if (r.code !== 0) throw new Error(`${id}: ${cmd} exited ${r.code}: ${r.stderr.trim()}`);
      await checkSize(out, 32 * MiB);
      await rm(out);
      return { seconds: r.seconds };
    },
  };
}

function storm(n: number, blksize: number): Workload {
  return {
    id: `storm ${n} x 1 MiB, blksize ${blksize}`,
    kind: 'storm',
    async run(port) {
      const url = `tftp://127.0.0.1:${port}/boot1m.bin`;
      const curl = `curl -s -S --connect-timeout 5 --max-time 120 --tftp-blksize ${blksize} -o /dev/null -w '%{size_download} %{time_total}\\n' ${url}`;
      const r = await run('sh', ['-c', `seq ${n} | xargs -P ${n} -I{} ${curl}`]);
      const lines = r.stdout.trim().split('\n').filter(Boolean);
      const sizes = lines.map((l) => Number(l.split(' ')[0]));
      const bad = sizes.filter((s) => s !== MiB).length + (n - lines.length);
      if (r.code !== 0 || bad > 0) throw new Error(`${this.id}: ${bad} of ${n} transfers failed: ${r.stderr.trim().slice(0, 300)}`);
      return { seconds: r.seconds, slowest: Math.max(...lines.map((l) => Number(l.split(' ')[1]))) };
    },
  };
}

const WORKLOADS: Workload[] = [
  single('32 MiB, tftp-hpa client, 512', (p, out) => ['tftp', ['-m', 'binary', '127.0.0.1', String(p), '-c', 'get', 'boot32m.bin', out]]),
  single('32 MiB, curl, 512', (p, out) => ['curl', ['-s', '-S', '-o', out, `tftp://127.0.0.1:${p}/boot32m.bin`]]),
  single('32 MiB, curl, 1468', (p, out) => ['curl', ['-s', '-S', '--tftp-blksize', '1468', '-o', out, `tftp://127.0.0.1:${p}/boot32m.bin`]]),
  single('32 MiB, atftp, 1468 + windowsize 8', (p, out) => [
    'atftp',
    ['--option', 'blksize 1468', '--option', 'windowsize 8', '-g', '-r', 'boot32m.bin', '-l', out, '127.0.0.1', String(p)],
  ]),
  storm(50, 512),
  storm(50, 1468),
  storm(200, 512),
  storm(200, 1468),
].filter((w) => !ONLY || w.id.includes(ONLY));

interface Sample {
  seconds: number[];
  slowest: number[];
  cpu: number[];
  errors: string[];
}

async function main(): Promise<void> {
  for (const tool of ['curl', 'tftp', 'atftp', 'atftpd']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) throw new Error(`${tool} is not installed (apt-get install curl tftp-hpa atftp atftpd)`);
  }
  const work = await mkdtemp(join(tmpdir(), 'kiln-tftp-bench-'));
  const root = join(work, 'root');
  mkdirSync(root);
  await writeFile(join(root, 'boot32m.bin'), randomBytes(32 * MiB));
  await writeFile(join(root, 'boot1m.bin'), randomBytes(MiB));
  const tftpdHpa = await findTftpdHpa(join(tmpdir(), 'kiln-bench-peers', 'tftpd-hpa'));
  const servers: ServerName[] = ['kiln', ...(process.env.WITH_INLINE ? (['kiln-1thread'] as const) : []), 'tftpd-hpa', 'atftpd'];
  const samples = new Map<string, Sample>();
  const key = (w: Workload, s: ServerName) => `${w.id}|${s}`;

  console.log(`# TFTP benchmark, ${RUNS} run(s), 127.0.0.1, work dir ${work}`);
  console.log(`# tftpd-hpa: ${tftpdHpa ?? 'not available'}`);
  // Correctness first: Kiln's 32 MiB file must arrive bit for bit.
  {
    const k = await startPeer('kiln', root, work, tftpdHpa);
    const out = join(work, 'check.bin');
    await run('curl', ['-s', '-o', out, '--tftp-blksize', '1468', `tftp://127.0.0.1:${k!.port}/boot32m.bin`]);
    const digest = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
    if ((await digest(out)) !== (await digest(join(root, 'boot32m.bin')))) throw new Error('kiln: 32 MiB file corrupted');
    await rm(out);
    await k!.s.stop();
  }

  const peers = new Map<ServerName, { s: Started; port: number }>();
  for (const name of servers) {
    const p = await startPeer(name, root, work, tftpdHpa);
    if (p) peers.set(name, p);
  }
  const names = [...peers.keys()];
  try {
    for (let runNo = 1; runNo <= RUNS; runNo++) {
      for (const w of WORKLOADS) {
        for (let i = 0; i < names.length; i++) {
          const name = names[(i + runNo - 1) % names.length];
          const peer = peers.get(name)!;
          const smp = samples.get(key(w, name)) ?? { seconds: [], slowest: [], cpu: [], errors: [] };
          samples.set(key(w, name), smp);
          const cpu0 = cpuSeconds(peer.s.proc.pid);
          try {
            const r = await w.run(peer.port, work);
            smp.seconds.push(r.seconds);
            if (r.slowest !== undefined) smp.slowest.push(r.slowest);
            const cpu1 = cpuSeconds(peer.s.proc.pid);
            if (cpu0 !== undefined && cpu1 !== undefined && name !== 'tftpd-hpa') smp.cpu.push(cpu1 - cpu0);
            process.stderr.write(`run ${runNo} ${name.padEnd(12)} ${w.id.padEnd(40)} ${r.seconds.toFixed(3)} s\n`);
          } catch (e) {
            smp.errors.push(e instanceof Error ? e.message : String(e));
            process.stderr.write(`run ${runNo} ${name.padEnd(12)} ${w.id.padEnd(40)} FAILED ${String(e)}\n`);
          }
        }
      }
    }
  } finally {
    for (const p of peers.values()) await p.s.stop();
  }

  const inline = names.includes('kiln-1thread');
  const rows: string[][] = [
    ['workload', 'metric', 'kiln', ...(inline ? ['kiln-1thread'] : []), 'tftpd-hpa', 'atftpd', 'kiln/hpa', 'kiln/atftpd', 'kiln cpu s', 'atftpd cpu s'],
  ];
  for (const w of WORKLOADS) {
    const m = (s: ServerName) => samples.get(key(w, s));
    const val = (s: ServerName): number | undefined => {
      const x = m(s);
      if (!x || x.seconds.length === 0) return undefined;
      return w.kind === 'single' ? 32 / median(x.seconds) : median(x.seconds);
    };
    const k = val('kiln');
    const h = val('tftpd-hpa');
    const a = val('atftpd');
    const ratio = (peer: number | undefined) => (k === undefined || peer === undefined ? 'n/a' : `${(k / peer).toFixed(2)}x`);
    const cpu = (s: ServerName) => (m(s)?.cpu.length ? fmt(median(m(s)!.cpu)) : 'n/m');
    const k1 = inline ? [fmt(val('kiln-1thread'))] : [];
    rows.push([w.id, w.kind === 'single' ? 'MiB/s' : 'wall s', fmt(k), ...k1, fmt(h), fmt(a), ratio(h), ratio(a), cpu('kiln'), cpu('atftpd')]);
    if (w.kind === 'storm') {
      const slow = (s: ServerName) => (m(s)?.slowest.length ? fmt(median(m(s)!.slowest)) : 'n/a');
      const s1 = inline ? [slow('kiln-1thread')] : [];
      rows.push(['', 'slowest client s', slow('kiln'), ...s1, slow('tftpd-hpa'), slow('atftpd'), '', '', '', '']);
    }
    for (const s of servers) for (const e of m(s)?.errors ?? []) console.log(`# ${s} ${w.id}: ${e}`);
  }
  console.log(table(rows));
  console.log('# single: MiB/s, higher is better (ratio > 1: Kiln faster). storm: wall seconds, lower is better (ratio < 1: Kiln faster).');
  console.log('# goals: storms at or below tftpd-hpa (kiln/hpa <= 1.00x); windowsize transfer at or above atftpd (kiln/atftpd >= 1.00x).');
  await rm(work, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
