// The e2e lab from the tests' side: tools/lab scripts build network namespaces with a unique
// prefix per run, real DHCP clients run in them, and the real server runs in this process with
// its sockets created inside the rack namespace (kiln_net's `netns` option). Everything is torn
// down by prefix, also after a failure.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LAB = path.resolve(__dirname, '..', '..', '..', '..', '..', 'tools', 'lab');

export type ClientKind = 'dhclient' | 'udhcpc' | 'dhcpcd';

export interface ClientRun {
  code: number;
  output: string;
  /** One record per hook call, in order ("event" is the reason: BOUND, bound, REBOOT, ...). */
  events: Array<Record<string, string>>;
  /** The last event that carried an address. */
  bound?: Record<string, string>;
  /** The address the client got (dhclient/dhcpcd new_ip_address, udhcpc ip). */
  ip?: string;
}

export class DhcpLab {
  readonly prefix = `kd${randomBytes(3).toString('hex')}`;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), `kiln-lab-${this.prefix}-`));

  static assertRoot(): void {
    if (process.getuid?.() !== 0) throw new Error('the DHCP e2e tests need root (network namespaces); CI runs as root');
  }

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Path for the in-process server's sockets. */
  netnsPath(name: string): string {
    return `/run/netns/${this.ns(name)}`;
  }

  async up(): Promise<void> {
    await run(path.join(LAB, 'dhcp-lab-up.sh'), [this.prefix], { timeout: 30_000 });
  }

  /** A second rack on segment A (namespace `srv2`, 10.77.1.2). */
  async peer(): Promise<void> {
    await run(path.join(LAB, 'dhcp-lab-peer.sh'), [this.prefix], { timeout: 30_000 });
  }

  async host(name: string, segment: 'A' | 'B' | 'C', mac: string, dev = 'eth0'): Promise<void> {
    await run(path.join(LAB, 'dhcp-lab-host.sh'), [this.prefix, name, segment, mac, dev], { timeout: 30_000 });
  }

  /** Runs a shell command inside a lab namespace. */
  async exec(name: string, cmd: string[]): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns(name), ...cmd], { timeout: 10_000 });
    return stdout;
  }

  /**
   * Runs a real client until it is bound or gives up. `outDir` keeps its lease/pid files, so a
   * second run with the same `outDir` remembers the first (dhclient's INIT-REBOOT).
   */
  async client(kind: ClientKind, host: string, opts: { dev?: string; args?: string[]; outDir?: string; timeoutMs?: number } = {}): Promise<ClientRun> {
    const dev = opts.dev ?? 'eth0';
    const out = opts.outDir ?? path.join(this.dir, `${host}-${kind}-${dev}`);
    const envFile = path.join(out, `${kind}-${dev}.env`);
    fs.rmSync(envFile, { force: true });
    let code = 0;
    let output = '';
    try {
      const r = await run(path.join(LAB, 'dhcp-client.sh'), [kind, this.ns(host), dev, out, ...(opts.args ?? [])], {
        timeout: opts.timeoutMs ?? 30_000,
      });
      output = r.stdout + r.stderr;
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      code = typeof e.code === 'number' ? e.code : 1;
      output = `${e.stdout ?? ''}${e.stderr ?? ''}${String(err)}`;
    }
    const events = parseEnvBlocks(fs.existsSync(envFile) ? fs.readFileSync(envFile, 'utf8') : '');
    const withIp = events.filter((e) => e.new_ip_address || e.ip);
    const bound = withIp.at(-1);
    return { code, output, events, bound, ip: bound ? (bound.new_ip_address ?? bound.ip) : undefined };
  }

  /** Ends a daemonized dhclient of an earlier run (it keeps running once bound). */
  killDhclient(outDir: string, dev = 'eth0'): void {
    const pidFile = path.join(outDir, `dhclient-${dev}.pid`);
    if (!fs.existsSync(pidFile)) return;
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(pidFile, { force: true });
  }

  async down(): Promise<void> {
    await run(path.join(LAB, 'lab-down.sh'), [this.prefix], { timeout: 30_000 });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function parseEnvBlocks(text: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  let cur: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '--') {
      out.push(cur);
      cur = {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) cur[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
