// The built output, run the way deploy/ runs it: `nx build` for the region, the rack and the CLI,
// then plain `node dist/apps/<app>/main.js` processes against the real PostgreSQL and Redis and a
// private nats-server with auth on. The CLI migrates an empty database and writes the region's
// nkey and the NATS server config (as deploy/up.sh does), the region answers the MAAS API, the
// rack enrolls with a one-time token, registers over NATS and serves a file to tftp-hpa through
// its TFTP worker threads. Every process (and each of its worker threads) runs with a preload
// that refuses to load a TypeScript compiler: the build needs none at run time.
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { MIGRATIONS } from '@kiln/db';
import { freeTcpPort, pollUntil, PrivateNatsServer, startPrivateNatsServer, testServices, uniquePrefix } from '@kiln/testing';

const ROOT = resolve(__dirname, '..', '..');
const ADMIN_URL = process.env.KILN_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const built = (app: string) => join(ROOT, 'dist', 'apps', app, 'main.js');

/** Refuses, in the main thread and in every worker thread (they inherit execArgv), to load a compiler. */
const NO_COMPILER = `
const Module = require('node:module');
const load = Module._load;
Module._load = function (request) {
  if (/^(@swc\\/|@swc-node\\/|typescript$|ts-node)/.test(request)) throw new Error('a compiler was loaded at run time: ' + request);
  return load.apply(this, arguments);
};
`;

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd: ROOT, env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else res(stdout);
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** A built app started with plain node (and the no-compiler preload); its output kept for the assertions. */
class BuiltProcess {
  output = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((r) => child.once('exit', () => r()));
  }

  static start(name: string, guard: string, env: Record<string, string>): BuiltProcess {
    // As deploy/systemd runs them.
    const child = spawn(process.execPath, ['--enable-source-maps', '-r', guard, built(name)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BuiltProcess(name, child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The JSON log lines (pino) it printed. */
  logs(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

describe('the built region, rack and CLI (node dist/apps/*/main.js)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-built-'));
  const guard = join(dir, 'no-compiler.js');
  const dbName = `kiln_built_${process.pid}_${randomBytes(4).toString('hex')}`;
  const dbUrl = (() => {
    const u = new URL(ADMIN_URL);
    u.pathname = `/${dbName}`;
    return u.toString();
  })();
  let nats: PrivateNatsServer | undefined;
  let region: BuiltProcess | undefined;
  let rack: BuiltProcess | undefined;
  let regionUrl = '';
  let regionEnv: Record<string, string> = {};
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['-r', guard, built('cli'), ...args], { env: { PATH: process.env.PATH ?? '', ...regionEnv, ...env } });

  beforeAll(async () => {
    writeFileSync(guard, NO_COMPILER);
    // What deploy/up.sh runs (cached by Nx when tools/test.sh has just built).
    await run('npx', ['nx', 'run-many', '-t', 'build', '-p', 'region,rack,cli', '--outputStyle=static'], {
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      timeoutMs: 600_000,
    });
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    regionEnv = {
      KILN_DATABASE_URL: dbUrl,
      KILN_REDIS_URL: testServices.redisUrl,
      KILN_REDIS_PREFIX: uniquePrefix('kiln-built'),
      KILN_SECRET_KEY: randomBytes(24).toString('hex'),
      KILN_NATS_NKEY_FILE: join(dir, 'region.nk'),
    };
  }, 600_000);

  afterAll(async () => {
    await rack?.stop();
    await region?.stop();
    await nats?.stop();
    // The region's queues (its repeatable jobs stay in Redis after it stops).
    const redis = new Redis(testServices.redisUrl);
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${regionEnv.KILN_REDIS_PREFIX}:*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the CLI migrates an empty database with the migrations compiled into it', async () => {
    await cli(['migrate']);
    const c = new Client({ connectionString: dbUrl });
    await c.connect();
    try {
      const { rows } = await c.query<{ name: string }>('SELECT name FROM kiln_migrations ORDER BY id');
      expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await c.end();
    }
  }, 60_000);

  it('the region starts on the config the CLI writes and answers the MAAS API', async () => {
    await cli(['nats-nkey', '--out', regionEnv.KILN_NATS_NKEY_FILE]);
    // The server's config comes from `kiln nats-config`, as deploy/up.sh writes it.
    const rendered = join(dir, 'rendered-nats.conf');
    let settings: Record<string, string> = {};
    nats = await startPrivateNatsServer((s) => {
      settings = { KILN_NATS_SERVER_LISTEN: s.listen, KILN_NATS_JETSTREAM_DIR: s.storeDir, KILN_NATS_SERVER_PID_FILE: s.pidFile };
      execFileSync(process.execPath, ['-r', guard, built('cli'), 'nats-config', '--out', rendered], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...regionEnv, ...settings },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return readFileSync(rendered, 'utf8');
    });
    const port = await freeTcpPort();
    regionUrl = `http://127.0.0.1:${port}`;
    region = BuiltProcess.start('region', guard, {
      ...regionEnv,
      ...settings,
      KILN_NATS_URL: nats.url,
      KILN_NATS_SERVER_CONFIG: nats.configFile,
      KILN_HTTP_HOST: '127.0.0.1',
      KILN_HTTP_PORT: String(port),
    });
    const version = await pollUntil(
      async () => {
        if (!region?.running) throw new Error(`the built region exited:\n${region?.output}`);
        return fetch(`${regionUrl}/MAAS/api/2.0/version/`).then(
          async (r) => ({ status: r.status, body: await r.text() }),
          () => null,
        );
      },
      (r) => r !== null,
      { timeoutMs: 90_000, intervalMs: 200, what: 'the built region to listen' },
    );
    expect(version?.status).toBe(200);
    expect(JSON.parse(version!.body)).toMatchObject({ subversion: 'kiln', capabilities: expect.arrayContaining(['networks-management']) });
  }, 120_000);

  it('the rack enrolls, registers over NATS and serves a file to tftp-hpa through its TFTP worker', async () => {
    expect(region?.running).toBe(true);
    const token = (await cli(['rack-token', '--hours', '1'])).trim();
    const stateDir = join(dir, 'rack-state');
    const bootRoot = join(dir, 'boot');
    mkdirSync(bootRoot, { recursive: true });
    const payload = randomBytes(300_000);
    writeFileSync(join(bootRoot, 'payload.bin'), payload);
    const tftpPort = await freeUdpPort();
    const hostname = `built-rack-${randomBytes(3).toString('hex')}`;
    rack = BuiltProcess.start('rack', guard, {
      KILN_NATS_URL: nats!.url,
      KILN_REGION_URL: regionUrl,
      KILN_RACK_ENROLL_TOKEN: token,
      KILN_RACK_STATE_DIR: stateDir,
      KILN_RACK_BOOT_ROOT: bootRoot,
      KILN_RACK_HOSTNAME: hostname,
      KILN_RACK_SERVICES: 'tftp',
      KILN_RACK_TFTP_ADDRESSES: '127.0.0.1',
      KILN_TFTP_PORT: String(tftpPort),
    });

    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    try {
      const row = await pollUntil(
        async () => {
          if (!rack?.running) throw new Error(`the built rack exited:\n${rack?.output}`);
          const { rows } = await db.query<{ system_id: string; status: string }>('SELECT system_id, status FROM rack_controllers WHERE hostname = $1', [hostname]);
          return rows[0];
        },
        (r) => r?.status === 'running',
        { timeoutMs: 90_000, intervalMs: 200, what: 'the built rack to register' },
      );
      expect(readFileSync(join(stateDir, 'rack-id'), 'utf8').trim()).toBe(row.system_id);
    } finally {
      await db.end();
    }

    const listening = await pollUntil(
      () => rack!.logs().find((l) => l.msg === 'tftp server listening'),
      Boolean,
      { timeoutMs: 30_000, what: 'the rack to serve TFTP' },
    );
    // Worker threads started from the compiled tftp.worker.js (the machine has more than one CPU).
    expect(listening).toMatchObject({ address: '127.0.0.1', port: tftpPort });
    expect(listening!.workers).toBeGreaterThan(0);
    await run('tftp', ['-m', 'binary', '127.0.0.1', String(tftpPort), '-c', 'get', 'payload.bin', join(dir, 'got.bin')], { timeoutMs: 30_000 });
    expect(readFileSync(join(dir, 'got.bin')).equals(payload)).toBe(true);
    expect(rack.output).not.toMatch(/a compiler was loaded at run time|tftp worker (failed|exited)/);
    expect(region!.output).not.toMatch(/a compiler was loaded at run time/);
  }, 180_000);

  it("the rack's native addon (kiln_net) loads from the build, through the rack's own loader", async () => {
    const loader = join(ROOT, 'dist', 'apps', 'rack', 'apps', 'rack', 'src', 'dhcp', 'native.addon.js');
    const script = `
      const { loadKilnNet, NATIVE_DIR } = require(${JSON.stringify(loader)});
      const net = loadKilnNet();
      const fd = net.openUdp4({ address: '127.0.0.1', port: 0 });
      net.closeFd(fd);
      process.stdout.write(JSON.stringify({ dir: NATIVE_DIR, fd }));
    `;
    const r = JSON.parse(await run(process.execPath, ['-r', guard, '-e', script], { env: { PATH: process.env.PATH ?? '' } })) as { dir: string; fd: number };
    expect(r.dir).toBe(join(ROOT, 'dist', 'apps', 'rack', 'apps', 'rack', 'native'));
    expect(r.fd).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
