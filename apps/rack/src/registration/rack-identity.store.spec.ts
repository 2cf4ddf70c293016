import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rackId } from '@kiln/contracts';
import { loadOrCreateRackId, newRackId } from './rack-identity.store';

describe('rack identity', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'kiln-rack-id-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates an id once and returns the same one on every later start', async () => {
    const first = await loadOrCreateRackId(join(dir, 'state'));
    expect(rackId.safeParse(first).success).toBe(true);
    expect(await loadOrCreateRackId(join(dir, 'state'))).toBe(first);
    expect((await readFile(join(dir, 'state', 'rack-id'), 'utf8')).trim()).toBe(first);
  });

  it('refuses a corrupt id file instead of silently becoming another rack', async () => {
    await writeFile(join(dir, 'rack-id'), 'Not An Id!\n');
    await expect(loadOrCreateRackId(dir)).rejects.toThrow(/not a rack id/);
  });

  it('makes ids that are valid subject tokens and distinct', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newRackId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{8}$/);
  });
});
