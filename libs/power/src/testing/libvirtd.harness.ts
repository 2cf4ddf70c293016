import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private libvirtd (QEMU driver, TCG) for the virsh power type's tests, started by
 * tools/lab/libvirtd-up.sh in its own mount namespace with all its state in a temporary
 * directory, and stopped (domains destroyed, QEMU and libvirtd killed, directory removed) by
 * `stop()`, or by a process-exit hook if a test forgets. Needs root and the Debian packages
 * libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients and qemu-system-x86.
 *
 * Two ways in: `tcpUri` (qemu+tcp://127.0.0.1:PORT/system, no parameters, so Kiln's virsh driver
 * accepts it as a power_address) for the code under test, and the unix socket (`unixUri`) for
 * the test's own cross-checks with virsh.
 */
const LAB = join(__dirname, '..', '..', '..', '..', 'tools', 'lab');
const live = new Set<PrivateLibvirtd>();
let exitHook = false;

export interface VirshResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class PrivateLibvirtd {
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly pid: number,
    readonly unixUri: string,
    readonly tcpUri: string,
  ) {}

  /** Starts libvirtd and waits until it answers on both sockets. */
  static async start(): Promise<PrivateLibvirtd> {
    if (process.getuid?.() !== 0) throw new Error('a private libvirtd needs root (mount namespace, overlayfs): run the tests as root');
    const dir = mkdtempSync(join(tmpdir(), 'kiln-libvirtd-'));
    let out: string;
    try {
      out = await run(join(LAB, 'libvirtd-up.sh'), [dir], 30_000);
    } catch (e) {
      down(dir);
      throw e;
    }
    const env = Object.fromEntries(
      out
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const d = new PrivateLibvirtd(dir, Number(env.LIBVIRTD_PID), env.LIBVIRTD_UNIX_URI ?? '', env.LIBVIRTD_TCP_URI ?? '');
    live.add(d);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const l of live) l.stopSync();
      });
    }
    if (!d.pid || !d.unixUri || !d.tcpUri) {
      d.stopSync();
      throw new Error(`libvirtd-up.sh printed no socket: ${out}`);
    }
    return d;
  }

  /** virsh against the unix socket, outside Kiln's code; never throws on a non-zero exit. */
  virsh(...args: string[]): Promise<VirshResult> {
    return new Promise((resolve, reject) =>
      execFile('virsh', ['--connect', this.unixUri, '--quiet', ...args], { timeout: 30_000, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } }, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(new Error(`virsh ${args.join(' ')}: ${err.message} ${stderr}`));
        else resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      }),
    );
  }

  /** virsh that must succeed; returns its output. */
  async virshOk(...args: string[]): Promise<string> {
    const r = await this.virsh(...args);
    if (r.code !== 0) throw new Error(`virsh ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** `virsh domstate`, trimmed ("running", "shut off"...). */
  async domstate(domain: string): Promise<string> {
    return (await this.virshOk('domstate', '--', domain)).trim();
  }

  /** Defines a persistent domain from XML. */
  async define(xml: string): Promise<void> {
    const f = join(this.dir, `define-${Date.now()}.xml`);
    writeFileSync(f, xml);
    await this.virshOk('define', f);
  }

  /** PID of the QEMU process running a domain (from libvirtd's pid file in its private /run), or null. */
  qemuPid(domain: string): number | null {
    try {
      // libvirtd's private /run, seen through procfs from outside its mount namespace.
      const privateRun = join('/proc', String(this.pid), 'root', 'run');
      const pid = Number(readFileSync(join(privateRun, 'libvirt', 'qemu', `${domain}.pid`), 'utf8').trim());
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /** libvirtd's own log (warnings and errors), for failure messages. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'libvirtd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    try {
      await run(join(LAB, 'libvirtd-down.sh'), [this.dir], 60_000);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** For exit hooks: no promises. */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    down(this.dir);
  }
}

function down(dir: string): void {
  try {
    execFileSync(join(LAB, 'libvirtd-down.sh'), [dir], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    // best effort: the directory goes anyway
  }
  rmSync(dir, { recursive: true, force: true });
}

function run(cmd: string, args: string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout))),
  );
}
