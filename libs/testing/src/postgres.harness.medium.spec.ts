import { Client } from 'pg';
import { createTestDatabase } from './postgres.harness';

describe('createTestDatabase', () => {
  it('gives each caller its own migrated database with the defaults seeded', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      expect(a.name).not.toEqual(b.name);
      const c = new Client({ connectionString: a.url });
      await c.connect();
      const zones = await c.query('SELECT name FROM zones');
      await c.query("INSERT INTO zones (name) VALUES ('only-in-a')");
      await c.end();
      expect(zones.rows.map((r) => r.name)).toEqual(['default']);
      const d = new Client({ connectionString: b.url });
      await d.connect();
      const other = await d.query("SELECT name FROM zones WHERE name = 'only-in-a'");
      await d.end();
      expect(other.rowCount).toBe(0);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});
