import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes secrets to files only this user can read (a fresh 0700 directory, 0600 files), runs
 * `fn` with their paths, and deletes them afterwards, whatever happens. Tools read passwords
 * from such files (`ipmitool -f`, `ipmipower --config-file`) instead of their command line.
 */
export async function withSecretFiles<K extends string, T>(
  files: Readonly<Record<K, string>>,
  fn: (paths: Record<K, string>) => Promise<T>,
  dir: string = tmpdir(),
): Promise<T> {
  const keys = Object.keys(files) as K[];
  if (keys.length === 0) return fn({} as Record<K, string>);
  const folder = await mkdtemp(join(dir, 'kiln-power-'));
  try {
    const paths = {} as Record<K, string>;
    for (const k of keys) {
      const p = join(folder, k);
      await writeFile(p, files[k], { mode: 0o600, flag: 'wx' });
      paths[k] = p;
    }
    return await fn(paths);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
