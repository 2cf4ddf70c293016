/**
 * Username/password login through HTTP against a real region and Redis: no user enumeration by
 * timing, and failed attempts limited per username and per client address.
 */
import type { Redis } from 'ioredis';
import { REDIS } from '../../database/redis.module';
import { RegionHarness } from '../../testing/region.harness';
import { LOGIN_LIMITS } from './accounts.login';

const LOGIN = '/MAAS/accounts/authenticate/';

describe('login: constant time and rate limits', () => {
  let h: RegionHarness;
  let redis: Redis;

  beforeAll(async () => {
    h = await RegionHarness.start();
    redis = h.app.get<Redis>(REDIS);
    await h.createUser('alice', false, 'alice-pw');
    await h.createUser('bob', false, 'bob-pw');
  });
  afterAll(() => h.stop());

  /** Forget every failure counted so far (this region's own Redis prefix only). */
  async function forgetFailures(): Promise<void> {
    const keys = await redis.keys(`${h.config.redis.prefix}:login-failures:*`);
    if (keys.length) await redis.del(...keys);
  }
  beforeEach(forgetFailures);

  const login = (username: string, password: string) => h.call(null, 'POST', LOGIN, { username, password });

  it('answers 429 with Retry-After once one username has failed too often, fast, and lets other users in', async () => {
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await login('alice', `guess-${i}`)).status);
    const elapsed = Date.now() - started;
    expect(statuses.slice(0, LOGIN_LIMITS.perUsername)).toEqual(Array(LOGIN_LIMITS.perUsername).fill(401));
    expect(new Set(statuses.slice(LOGIN_LIMITS.perUsername))).toEqual(new Set([429]));

    const limited = await login('alice', 'alice-pw');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(LOGIN_LIMITS.windowSeconds);
    expect(limited.text).toMatch(/^Too many failed logins/);
    // Refusals do not run the password hash: 190 of them are quick.
    expect(elapsed).toBeLessThan(20_000);

    const other = await login('bob', 'bob-pw');
    expect(other.status).toBe(200);
    expect(other.json()).toHaveProperty('token_secret');
  });

  it('holds across regions: a second region on the same Redis refuses the same username', async () => {
    const second = await RegionHarness.start({ KILN_REDIS_PREFIX: h.config.redis.prefix });
    try {
      for (let i = 0; i < LOGIN_LIMITS.perUsername; i++) expect((await login('alice', `guess-${i}`)).status).toBe(401);
      const there = await second.call(null, 'POST', LOGIN, { username: 'alice', password: 'alice-pw' });
      expect(there.status).toBe(429);
    } finally {
      await second.stop();
    }
  });

  it('limits failures from one client address across usernames', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMITS.perAddress + 5; i++) statuses.push((await login(`nobody-${i}`, 'pw')).status);
    expect(statuses.slice(0, LOGIN_LIMITS.perAddress).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(LOGIN_LIMITS.perAddress)).toEqual(Array(5).fill(429));
  });

  it('takes as long for a user that does not exist as for a wrong password', async () => {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const time = async (username: string) => {
      const t0 = process.hrtime.bigint();
      const r = await login(username, 'wrong-password');
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(r.status).toBe(401);
      return ms;
    };
    const missing: number[] = [];
    const wrong: number[] = [];
    for (let round = 0; round < 3; round++) {
      await forgetFailures();
      // Interleaved, so load on the machine hits both alike; each round stays under the limits.
      for (let i = 0; i < 4; i++) {
        missing.push(await time(`ghost-${round}-${i}`));
        wrong.push(await time('bob'));
      }
    }
    const ratio = median(wrong) / median(missing);
    if (process.env.KILN_SHOW_TIMING) process.stdout.write(`login medians: wrong password ${median(wrong).toFixed(1)} ms, missing user ${median(missing).toFixed(1)} ms\n`);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
