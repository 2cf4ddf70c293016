// Runs a real client (tftp-hpa, curl, atftp) with a time limit and returns what it printed.
import { execFile } from 'node:child_process';

export interface ProcessResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function runProcess(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 20_000, encoding: 'buffer', maxBuffer: 256 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: stderr.toString('utf8') });
      },
    );
  });
}
