import { DataSource } from 'typeorm';
import { createDataSource } from '@kiln/db';
import { builtinScripts } from '@kiln/scripts';
import { createTestDatabase, TestDatabase } from '@kiln/testing';
import { BuiltinScriptsSeeder } from './builtin-scripts.seeder';
import { ScriptsRepository } from './scripts.repository';

describe('BuiltinScriptsSeeder against a real Postgres', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let seeder: BuiltinScriptsSeeder;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await createDataSource({ url: db.url, poolSize: 4 }).initialize();
    seeder = new BuiltinScriptsSeeder(new ScriptsRepository(ds));
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('adds every built-in with its metadata and one revision, then leaves them alone', async () => {
    const catalogue = builtinScripts();
    const first = await seeder.seed();
    expect(first.added.sort()).toEqual(catalogue.map((s) => s.name).sort());
    const again = await seeder.seed();
    expect(again).toEqual({ added: [], updated: [], shadowed: [] });

    const [row] = await ds.query(
      `SELECT s.script_type, s.hardware_type, s.parallel, s.tags, s.is_default, convert_from(v.data, 'UTF8') AS text,
              (SELECT count(*)::int FROM script_versions WHERE script_id = s.id) AS revisions
         FROM scripts s JOIN script_versions v ON v.id = s.current_version_id WHERE s.name = '30-maas-01-bmc-config'`,
    );
    const bmc = catalogue.find((s) => s.name === '30-maas-01-bmc-config')!;
    expect(row).toEqual({ script_type: 0, hardware_type: 0, parallel: 0, tags: bmc.metadata.tags, is_default: true, text: bmc.text, revisions: 1 });
    expect(row.tags).toContain('bmc-config');
  });

  it('gives a changed built-in a new revision and keeps the tags and timeout an operator set', async () => {
    await ds.query(`UPDATE scripts SET tags = '{mine}', timeout_seconds = 42 WHERE name = 'maas-lshw'`);
    const changed = builtinScripts().map((s) => (s.name === 'maas-lshw' ? { ...s, text: `${s.text}\n# a newer release\n` } : s));
    expect((await seeder.seed(changed)).updated).toEqual(['maas-lshw']);
    const [row] = await ds.query(
      `SELECT s.tags, s.timeout_seconds, (SELECT count(*)::int FROM script_versions WHERE script_id = s.id) AS revisions FROM scripts s WHERE name = 'maas-lshw'`,
    );
    expect(row).toEqual({ tags: ['mine'], timeout_seconds: 42, revisions: 2 });
  });

  it('never replaces an operator script that holds a built-in name', async () => {
    await ds.query(`UPDATE scripts SET is_default = false WHERE name = 'memtester'`);
    const changed = builtinScripts().map((s) => (s.name === 'memtester' ? { ...s, text: `${s.text}\n# changed\n` } : s));
    expect((await seeder.seed(changed)).shadowed).toEqual(['memtester']);
  });

  it('seeds once when two regions start at the same moment', async () => {
    await ds.query(`DELETE FROM scripts`);
    const other = new BuiltinScriptsSeeder(new ScriptsRepository(ds));
    const [a, b] = await Promise.all([seeder.seed(), other.seed()]);
    expect(a.added.length + b.added.length).toBe(builtinScripts().length);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM scripts`);
    expect(n).toBe(builtinScripts().length);
  });
});
