import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real IPMI BMCs for tests and benchmarks: OpenIPMI's `ipmi_sim`, one process per BMC, each on
 * its own loopback address (127.a.b.c:623) so that every tool talks to it as to a real BMC.
 * With `chassis: true` a chassis-control program (ipmi-sim-chassis.sh) makes the power state
 * real: a dummy host process that power on starts and power off kills. Everything a sim starts
 * is stopped by `stop()`, and by a process-exit hook if a test forgets.
 */
export interface IpmiSimOptions {
  name?: string;
  /** Loopback address to listen on; default: a free random 127.x.y.z. */
  address?: string;
  port?: number;
  user?: string;
  password?: string;
  /** Max privilege of the user (ipmi_sim words: user, operator, admin). */
  privilege?: 'user' | 'operator' | 'admin';
  /** Drive a dummy host process through the chassis-control program (default true). */
  chassis?: boolean;
}

const SCRIPT = join(__dirname, 'ipmi-sim-chassis.sh');
const live = new Set<IpmiSim>();
let exitHook = false;

export class IpmiSim {
  private child: ChildProcess | null = null;
  private paused = false;
  readonly dir: string;
  readonly stateDir: string;

  private constructor(
    readonly name: string,
    readonly address: string,
    readonly port: number,
    readonly user: string,
    readonly password: string,
    private readonly opts: IpmiSimOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `kiln-ipmisim-${name}-`));
    this.stateDir = join(this.dir, 'chassis');
  }

  /** Starts a simulator and waits until it answers an RMCP presence ping. */
  static async start(opts: IpmiSimOptions = {}): Promise<IpmiSim> {
    const address = opts.address ?? (await freeLoopbackAddress(opts.port ?? 623));
    const sim = new IpmiSim(
      opts.name ?? `bmc${randomBytes(3).toString('hex')}`,
      address,
      opts.port ?? 623,
      opts.user ?? 'admin',
      opts.password ?? 'password',
      opts,
    );
    live.add(sim);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const s of live) s.stopSync();
      });
    }
    try {
      await sim.launch();
    } catch (e) {
      sim.stopSync();
      throw e;
    }
    return sim;
  }

  /** The power parameters Kiln would store for this BMC (MAAS names). */
  powerParameters(extra: Record<string, string> = {}): Record<string, string> {
    return {
      power_address: this.port === 623 ? this.address : `${this.address}:${this.port}`,
      power_user: this.user,
      power_pass: this.password,
      power_driver: 'LAN_2_0',
      cipher_suite_id: '3',
      privilege_level: 'ADMIN',
      ...extra,
    };
  }

  private async launch(): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    mkdirSync(join(this.dir, 'state'), { recursive: true });
    const priv = this.opts.privilege ?? 'admin';
    const lan = [
      `name "${this.name}"`,
      'set_working_mc 0x20',
      'startlan 1',
      `  addr ${this.address} ${this.port}`,
      '  priv_limit admin',
      '  allowed_auths_callback none md2 md5 straight',
      '  allowed_auths_user none md2 md5 straight',
      '  allowed_auths_operator none md2 md5 straight',
      '  allowed_auths_admin none md2 md5 straight',
      `  guid ${randomBytes(16).toString('hex')}`,
      'endlan',
      ...(this.opts.chassis === false ? [] : [`chassis_control "/bin/sh ${SCRIPT} ${this.stateDir}"`]),
      `user 2 true "${this.user}" "${this.password}" ${priv} 10 none md2 md5 straight`,
      '',
    ].join('\n');
    writeFileSync(join(this.dir, 'lan.conf'), lan);
    writeFileSync(
      join(this.dir, 'sim.emu'),
      ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr', 'sel_enable 0x20 1000 0x0a', 'mc_enable 0x20', ''].join('\n'),
    );
    const child = spawn('ipmi_sim', ['-n', '-c', join(this.dir, 'lan.conf'), '-f', join(this.dir, 'sim.emu'), '-s', join(this.dir, 'state')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`ipmi_sim ${this.name} exited (${code}) at start: ${stderr.trim()}`)));
      child.once('error', (e) => reject(new Error(`cannot start ipmi_sim: ${e.message}`)));
    });
    exited.catch(() => undefined);
    await Promise.race([rmcpPingUntilAnswered(this.address, this.port, 5000), exited]);
  }

  /** Freezes the BMC (SIGSTOP): it stops answering, as a hung BMC does. */
  pause(): void {
    if (this.child?.pid && !this.paused) {
      process.kill(this.child.pid, 'SIGSTOP');
      this.paused = true;
    }
  }

  resume(): void {
    if (this.child?.pid && this.paused) {
      process.kill(this.child.pid, 'SIGCONT');
      this.paused = false;
    }
  }

  /** While lying, the BMC answers every power change with success and changes nothing. */
  setLying(on: boolean): void {
    this.flag('lie', on);
  }

  /** While set, the "OS" ignores soft power off (ACPI). */
  setIgnoreSoftOff(on: boolean): void {
    this.flag('ignore-soft', on);
  }

  /** PID of the dummy host process while the chassis is on (null when off). */
  hostPid(): number | null {
    const f = join(this.stateDir, 'host.pid');
    if (!existsSync(f)) return null;
    const pid = Number(readFileSync(f, 'utf8').trim());
    if (!pid) return null;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state === 'Z' || state === 'X' ? null : pid;
    } catch {
      return null;
    }
  }

  /** The chassis changes the BMC passed to the chassis program, oldest first ("power 1", "boot pxe"...). */
  changes(): string[] {
    const f = join(this.stateDir, 'changes.log');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(l.indexOf(' ') + 1));
  }

  /** The same password in a 0600 file, for cross-checks with `ipmitool -f`. */
  passwordFile(): string {
    const f = join(this.dir, 'ipmitool.pass');
    if (!existsSync(f)) writeFileSync(f, `${this.password}\n`, { mode: 0o600 });
    return f;
  }

  /** Cross-check from outside Kiln: `ipmitool -I lanplus -C 3 ... chassis power status`. */
  ipmitool(...command: string[]): Promise<string> {
    const args = ['-I', 'lanplus', '-C', '3', '-H', this.address, '-p', String(this.port), '-U', this.user, '-f', this.passwordFile(), ...command];
    return new Promise((resolve, reject) =>
      execFile('ipmitool', args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`ipmitool ${command.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
    );
  }

  async crossCheckPower(): Promise<'on' | 'off'> {
    const out = await this.ipmitool('chassis', 'power', 'status');
    const m = /Chassis Power is (on|off)/.exec(out);
    if (!m) throw new Error(`unexpected ipmitool output: ${out}`);
    return m[1] as 'on' | 'off';
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.resume();
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await gone;
    }
    this.cleanup();
  }

  /** For exit hooks: no waiting. */
  stopSync(): void {
    try {
      if (this.child?.pid && this.child.exitCode === null) process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.cleanup();
  }

  private cleanup(): void {
    const host = this.hostPid();
    if (host) {
      try {
        process.kill(host, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  private flag(name: string, on: boolean): void {
    const f = join(this.stateDir, name);
    if (on) writeFileSync(f, '1');
    else if (existsSync(f)) unlinkSync(f);
  }
}

/** Starts `n` simulators, a few at a time; stops them all if one fails. */
export async function startIpmiSims(n: number, opts: Omit<IpmiSimOptions, 'address' | 'name'> = {}, parallel = 16): Promise<IpmiSim[]> {
  const sims: IpmiSim[] = [];
  const addresses = await freeLoopbackAddresses(n, opts.port ?? 623);
  try {
    for (let i = 0; i < n; i += parallel) {
      const batch = await Promise.all(
        addresses.slice(i, i + parallel).map((address, j) => IpmiSim.start({ ...opts, address, name: `bmc${i + j}` })),
      );
      sims.push(...batch);
    }
  } catch (e) {
    await Promise.all(sims.map((s) => s.stop()));
    throw e;
  }
  return sims;
}

/** A loopback address in 127.0.0.0/8 whose UDP port is free (random, so parallel tests do not collide). */
export async function freeLoopbackAddress(port: number): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const a = `127.${randomInt(100, 250)}.${randomInt(0, 250)}.${randomInt(2, 250)}`;
    if (await udpFree(a, port)) return a;
  }
  throw new Error('no free loopback address found');
}

/** `n` consecutive free loopback addresses 127.b.c.(d..), in one random /16. */
export async function freeLoopbackAddresses(n: number, port: number): Promise<string[]> {
  for (let tries = 0; tries < 20; tries++) {
    const b = randomInt(100, 250);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(`127.${b}.${Math.floor(i / 250)}.${(i % 250) + 2}`);
    const free = await Promise.all(out.map((a) => udpFree(a, port)));
    if (free.every(Boolean)) return out;
  }
  throw new Error(`no block of ${n} free loopback addresses found`);
}

function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, address, () => s.close(() => resolve(true)));
  });
}

/** Sends ASF presence pings (RMCP class 6) until the BMC answers with a pong. */
export async function rmcpPingUntilAnswered(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const sock = dgram.createSocket('udp4');
  try {
    const answered = new Promise<void>((resolve) => sock.on('message', () => resolve()));
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    // RMCP header (v6, seq 0xff, class ASF), ASF IANA 4542, type 0x80 presence ping, tag, reserved, length 0.
    const ping = Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x01, 0x00, 0x00]);
    for (;;) {
      sock.send(ping, port, address);
      const got = await Promise.race([answered.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
      if (got) return;
      if (Date.now() > deadline) throw new Error(`ipmi_sim at ${address}:${port} did not answer an RMCP ping within ${timeoutMs} ms`);
    }
  } finally {
    sock.close();
  }
}
