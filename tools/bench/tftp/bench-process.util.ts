// Process helpers shared by the TFTP and HTTP benchmarks: start a server process and stop it by
// its pid, run a client and time it, read a process's CPU time, take medians.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';

export interface Started {
  name: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `cmd` with stdout/stderr appended to `logFile`; `ready` polls until the server answers. */
export async function startServer(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  ready: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<Started> {
  const fd = openSync(logFile, 'a');
  const proc = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  let exited = false;
  proc.on('exit', () => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (exited) throw new Error(`${name} exited at start; see ${logFile}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} did not become ready; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3_000).unref();
      }),
  };
}

/** A free TCP port and a free UDP port (the kernel's choice, released at once). */
export { freeTcpPort } from '@kiln/testing';

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), seconds });
    });
  });
}

/** User + system CPU seconds of a process (its own threads; not forked children). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fmt(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);
}

/** Prints rows as an aligned text table. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}
