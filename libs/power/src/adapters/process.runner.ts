import { spawn } from 'node:child_process';
import { PowerError } from '../power.errors';

/**
 * The one place power drivers start programs. A driver builds the command with pure functions
 * (so tests check the arguments without running anything) and hands it to a ProcessRunner.
 * Secrets never go in `args` (`ps` shows them to every user): drivers pass them in files or
 * in `env` (readable only by the same user and root, through /proc/PID/environ).
 */
export interface ProcessSpec {
  command: string;
  args: readonly string[];
  /** Added to a minimal environment (PATH, LC_ALL=C so tools print in a parseable language). */
  env?: Readonly<Record<string, string>>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ProcessResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Killed by us because `timeoutMs` passed. */
  timedOut: boolean;
  /** Killed by us because the signal aborted. */
  aborted: boolean;
}

export type ProcessRunner = (spec: ProcessSpec) => Promise<ProcessResult>;

const MAX_OUTPUT = 256 * 1024;

/** Runs a program to completion. A missing program is MISSING_TOOL (fatal). */
export const runProcess: ProcessRunner = (spec) =>
  new Promise((resolve, reject) => {
    if (spec.signal?.aborted) {
      resolve({ code: null, stdout: '', stderr: '', timedOut: false, aborted: true });
      return;
    }
    const child = spawn(spec.command, spec.args, {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', LANG: 'C', ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, spec.timeoutMs);
    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      done();
      if (e.code === 'ENOENT') {
        reject(new PowerError('MISSING_TOOL', `${spec.command} is not installed on this rack`, e.message));
      } else if (e.code === 'EACCES') {
        reject(new PowerError('MISSING_TOOL', `${spec.command} cannot be run on this rack`, e.message));
      } else {
        reject(new PowerError('BMC_ERROR', `could not run ${spec.command}`, e.message));
      }
    });
    child.on('close', (code) => {
      done();
      resolve({ code, stdout, stderr, timedOut, aborted });
    });
  });
