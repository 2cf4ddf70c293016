import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REGION_CONFIG, RegionConfig } from '../../config/region.config';
import { REDIS } from '../../database/redis.module';
import { log } from '../../logging/logger';
import { UsersRepository } from '../../users/users.repository';
import { UsersService } from '../../users/users.service';
import { parseBody } from '../http/body.parser';
import { BadRequestError, UnauthorizedError } from '../http/http.errors';

/**
 * Failed logins allowed per window before the region answers 429 without checking the password.
 * Counted in Redis, so every region of a deployment holds to the same limits.
 */
export const LOGIN_LIMITS = {
  windowSeconds: 15 * 60,
  /** Failures for one username, from anywhere (password guessing against one account). */
  perUsername: 10,
  /** Failures from one client address, for any usernames (guessing across accounts). */
  perAddress: 50,
} as const;

export interface LoginResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * POST /MAAS/accounts/authenticate/: username + password -> a new API key, as python-libmaas's
 * login() expects (form fields username, password, consumer). The answer takes as long for a user
 * that does not exist as for a wrong password, and repeated failures are slowed down to a 429
 * with Retry-After, per username and per client address.
 */
@Injectable()
export class AccountsLogin {
  constructor(
    private readonly users: UsersService,
    private readonly repo: UsersRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  async authenticate(contentType: string | undefined, body: Buffer, clientAddress = ''): Promise<LoginResponse> {
    const p = parseBody(contentType, body);
    const username = p.get('username');
    const password = p.get('password');
    if (!username || !password) throw new BadRequestError('username and password are required.');
    const keys = this.counterKeys(username, clientAddress);
    const retryAfter = await this.blockedFor(keys);
    if (retryAfter > 0) {
      log().warn({ clientAddress, retryAfter }, 'login refused: too many failures');
      return {
        status: 429,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': String(retryAfter) },
        body: `Too many failed logins. Try again in ${retryAfter} seconds.`,
      };
    }
    const user = await this.users.checkPassword(username, password);
    if (!user) {
      await this.countFailure(keys);
      log().warn({ clientAddress }, 'failed login');
      throw new UnauthorizedError('Username or password is incorrect.', {});
    }
    await this.redis.del(keys.username);
    const t = await this.repo.createToken(user.id, p.get('consumer') ?? 'API token');
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ consumer_key: t.consumerKey, token_key: t.tokenKey, token_secret: t.tokenSecret, name: t.name }),
    };
  }

  private counterKeys(username: string, clientAddress: string) {
    // Hashed: usernames of any length or content make keys of one shape.
    const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 32);
    const base = `${this.config.redis.prefix}:login-failures`;
    return { username: `${base}:user:${digest(username)}`, address: `${base}:addr:${digest(clientAddress)}` };
  }

  /** Seconds until the client may try again (0: not blocked). */
  private async blockedFor(keys: { username: string; address: string }): Promise<number> {
    const [[, u], [, uTtl], [, a], [, aTtl]] = (await this.redis
      .multi()
      .get(keys.username)
      .ttl(keys.username)
      .get(keys.address)
      .ttl(keys.address)
      .exec()) as [Error | null, unknown][];
    let wait = 0;
    if (Number(u ?? 0) >= LOGIN_LIMITS.perUsername) wait = Math.max(wait, Number(uTtl));
    if (Number(a ?? 0) >= LOGIN_LIMITS.perAddress) wait = Math.max(wait, Number(aTtl));
    return wait > 0 ? wait : 0;
  }

  private async countFailure(keys: { username: string; address: string }): Promise<void> {
    const window = LOGIN_LIMITS.windowSeconds;
    await this.redis
      .multi()
      .set(keys.username, '0', 'EX', window, 'NX')
      .incr(keys.username)
      .set(keys.address, '0', 'EX', window, 'NX')
      .incr(keys.address)
      .exec();
  }
}
