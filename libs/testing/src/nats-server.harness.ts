import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from 'nats';
import { freeTcpPort } from './ports';

/** An nkey user: the seed stays with its holder, the public key goes into the server config. */
export interface TestNkey {
  seed: Uint8Array;
  publicKey: string;
}

export function newNkey(): TestNkey {
  const kp = nkeys.createUser();
  return { seed: kp.getSeed(), publicKey: kp.getPublicKey() };
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
    sock.connect(port, '127.0.0.1');
  });
}

/** What a test gets: the server's URL and ways to change its config as Kiln would. */
export interface PrivateNatsServer {
  url: string;
  port: number;
  /** The server's JetStream directory and pid file, for the config renderer. */
  storeDir: string;
  pidFile: string;
  listen: string;
  /** The config file the server reads (a region may own it: KILN_NATS_SERVER_CONFIG). */
  configFile: string;
  /** A scratch directory removed with the server (for seed files and the like). */
  dir: string;
  /** Writes a new config and signals the server to reload it (what the region does on enrollment/revocation). */
  reload(config: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a private nats-server for one test file, on a free loopback port, with its own temp dir,
 * from a config the test renders (the Kiln-generated config, with auth on). The machine's own NATS
 * is never touched.
 */
export async function startPrivateNatsServer(
  render: (s: { listen: string; storeDir: string; pidFile: string }) => string,
): Promise<PrivateNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-nats-'));
  const port = await freeTcpPort();
  const listen = `127.0.0.1:${port}`;
  const storeDir = join(dir, 'jetstream');
  const pidFile = join(dir, 'nats.pid');
  const confFile = join(dir, 'nats-server.conf');
  writeFileSync(confFile, render({ listen, storeDir, pidFile }), { mode: 0o600 });
  const bin = process.env.KILN_TEST_NATS_SERVER ?? 'nats-server';
  const child: ChildProcess = spawn(bin, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  // Reloads are counted line by line: the kept stderr is only its tail, where a count would stall.
  let reloads = 0;
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    stderr = (stderr + text).slice(-8192);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.includes('Reloaded server configuration')) reloads++;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`private nats-server did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://${listen}`,
    port,
    storeDir,
    pidFile,
    listen,
    configFile: confFile,
    dir,
    async reload(config: string) {
      const before = reloads;
      writeFileSync(confFile, config, { mode: 0o600 });
      child.kill('SIGHUP');
      const until = Date.now() + 10_000;
      while (reloads === before) {
        if (Date.now() > until) throw new Error(`nats-server did not reload: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
