import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runProcess } from './process.runner';
import { withSecretFiles } from './secret-files';

describe('runProcess', () => {
  it('runs a program with a C locale and extra environment', async () => {
    const r = await runProcess({ command: 'sh', args: ['-c', 'echo "$LC_ALL $EXTRA"; echo oops >&2; exit 3'], env: { EXTRA: 'x' }, timeoutMs: 5000 });
    expect(r).toEqual({ code: 3, stdout: 'C x\n', stderr: 'oops\n', timedOut: false, aborted: false });
  });

  it('kills a program that outlives its time', async () => {
    const started = Date.now();
    const r = await runProcess({ command: 'sleep', args: ['5'], timeoutMs: 100 });
    expect(r).toMatchObject({ code: null, timedOut: true });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('kills a program when its signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect(await runProcess({ command: 'sleep', args: ['5'], timeoutMs: 5000, signal: ac.signal })).toMatchObject({ aborted: true });
  });

  it('reports a missing program as MISSING_TOOL (fatal)', async () => {
    await expect(runProcess({ command: 'no-such-tool-kiln', args: [], timeoutMs: 1000 })).rejects.toMatchObject({ code: 'MISSING_TOOL', fatal: true });
  });
});

describe('withSecretFiles', () => {
  let base: string;
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'kiln-secrets-test-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('writes 0600 files in a 0700 directory and removes them afterwards', async () => {
    let seen = '';
    await withSecretFiles(
      { password: 'hunter2\n' },
      async (p) => {
        seen = p.password;
        expect(readFileSync(p.password, 'utf8')).toBe('hunter2\n');
        expect(statSync(p.password).mode & 0o777).toBe(0o600);
        expect(statSync(dirname(p.password)).mode & 0o777).toBe(0o700);
      },
      base,
    );
    expect(existsSync(seen)).toBe(false);
    expect(existsSync(dirname(seen))).toBe(false);
  });

  it('removes them when the work fails too', async () => {
    let seen = '';
    await expect(
      withSecretFiles(
        { a: 'x' },
        async (p) => {
          seen = p.a;
          throw new Error('boom');
        },
        base,
      ),
    ).rejects.toThrow('boom');
    expect(existsSync(dirname(seen))).toBe(false);
  });
});
