import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDataSource, MIGRATIONS } from '@kiln/db';

/**
 * Real Postgres for medium tests: migrations run once into a template database (named after the
 * migration list, so a new migration builds a new template), and each test file gets its own
 * database cloned from it with CREATE DATABASE ... TEMPLATE, which takes milliseconds.
 */
const ADMIN_URL = process.env.KILN_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function urlFor(db: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function templateName(): string {
  const h = createHash('sha1')
    .update(MIGRATIONS.map((m) => m.name).join(','))
    .digest('hex')
    .slice(0, 12);
  return `kiln_template_${h}`;
}

async function ensureTemplate(): Promise<string> {
  const name = templateName();
  return withAdmin(async (c) => {
    // Several Jest workers may race to build the template: one builds, the others wait.
    await c.query('SELECT pg_advisory_lock(774411)');
    try {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) {
        const building = `${name}_building`;
        await c.query(`DROP DATABASE IF EXISTS ${building}`);
        await c.query(`CREATE DATABASE ${building}`);
        const ds = createDataSource({ url: urlFor(building), poolSize: 1 });
        await ds.initialize();
        await ds.runMigrations();
        await ds.destroy();
        await c.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock(774411)');
    }
    return name;
  });
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `kiln_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(async (c) => {
    await c.query('SELECT pg_advisory_lock(774411)');
    try {
      await c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(774411)');
    }
  });
  return {
    name,
    url: urlFor(name),
    drop: () =>
      withAdmin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}
