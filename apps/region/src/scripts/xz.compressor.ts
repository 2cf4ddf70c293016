import { spawn } from 'node:child_process';

/** Compresses with the system's `xz` (Node has no xz codec), as MAAS's tarfile "w:xz" does. */
export function xzCompress(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const xz = spawn('xz', ['--compress', '--stdout', '-6'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    xz.stdout.on('data', (b: Buffer) => out.push(b));
    xz.stderr.on('data', (b: Buffer) => err.push(b));
    xz.on('error', reject);
    xz.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`xz exited with ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
    xz.stdin.on('error', reject);
    xz.stdin.end(data);
  });
}
