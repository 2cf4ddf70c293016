import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '@kiln/testing';
import { sqlState } from './sql-state';
import { retryOnConflict } from './transaction.retry';

/** Two transactions that lock the same rows in opposite orders: Postgres aborts one with 40P01. */
describe('retryOnConflict against a real Postgres deadlock', () => {
  let db: TestDatabase;
  const clients: Client[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const c = await connect();
    await c.query('CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int NOT NULL)');
    await c.query('INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()));
    await db.drop();
  });

  async function connect(): Promise<Client> {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    clients.push(c);
    return c;
  }

  /** One transaction: lock `first`, wait until the other side holds its first row, then lock `second`. */
  async function crossed(c: Client, first: number, second: number, bothHoldFirst: Promise<void>, holding: () => void) {
    await c.query('BEGIN');
    try {
      await c.query('UPDATE deadlock_probe SET n = n + 1 WHERE id = $1', [first]);
      holding();
      await bothHoldFirst;
      await c.query('UPDATE deadlock_probe SET n = n + 1 WHERE id = $1', [second]);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    }
  }

  /** Runs the crossed pair; on its retries a transaction no longer waits for the other one. */
  async function race(attempts: number) {
    const [a, b] = [await connect(), await connect()];
    let held = 0;
    let release!: () => void;
    const bothHoldFirst = new Promise<void>((r) => (release = r));
    const holding = () => {
      if (++held === 2) release();
    };
    return Promise.allSettled([
      retryOnConflict(() => crossed(a, 1, 2, bothHoldFirst, holding), { attempts }),
      retryOnConflict(() => crossed(b, 2, 1, bothHoldFirst, holding), { attempts }),
    ]);
  }

  it('without retries one side fails with 40P01', async () => {
    const results = await race(1);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(sqlState((failed[0] as PromiseRejectedResult).reason)).toBe('40P01');
  });

  it('with retries both transactions commit', async () => {
    const results = await race(6);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw Object.assign(new Error('unique'), { code: '23505' });
      }),
    ).rejects.toThrow('unique');
    expect(calls).toBe(1);
  });
});
