import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REGION_CONFIG, RegionConfig } from '../../config/region.config';
import { REDIS } from '../../database/redis.module';
import { UsersRepository } from '../../users/users.repository';
import { AuthUser } from '../api.types';
import { ForbiddenError, UnauthorizedError } from '../http/http.errors';
import { checkOAuthParams, oauthRejectionError, parseOAuthHeader, plaintextSignatureMatches } from '../http/oauth.header';

/** Nonces are remembered for the timestamp window (MAAS/piston: 300 s). */
const WINDOW_SECONDS = 300;

/**
 * MAAS API keys: OAuth 1.0a PLAINTEXT in the Authorization header. Returns null for an anonymous
 * request; throws 401/403/400 the way MAAS answers bad credentials.
 */
@Injectable()
export class OAuthAuthenticator {
  constructor(
    private readonly users: UsersRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  async authenticate(authorization: string | undefined): Promise<AuthUser | null> {
    const header = parseOAuthHeader(authorization);
    if (!header) return null;
    const now = Math.floor(Date.now() / 1000);
    const checked = checkOAuthParams(header, now);
    if (!checked.ok) {
      if (checked.kind === 'anonymous') return null;
      throw oauthRejectionError(checked);
    }
    const found = await this.users.findToken(checked.tokenKey);
    if (!found) throw new UnauthorizedError(`Authorization Error: 'Invalid access token: ${checked.tokenKey}'`);
    if (found.token.consumerKey !== checked.consumerKey) throw new UnauthorizedError('Authorization Error: Invalid API key.');
    if (!plaintextSignatureMatches(checked.signature, '', found.token.tokenSecret)) {
      throw new UnauthorizedError('Authorization Error: Invalid signature.');
    }
    // A nonce is kept until its timestamp leaves the window, so a replay is refused even when
    // the client's timestamp lies in the future.
    const ttl = Math.max(WINDOW_SECONDS, checked.timestamp - now + WINDOW_SECONDS);
    const key = `${this.config.redis.prefix}:oauth-nonce:${checked.consumerKey}:${checked.tokenKey}:${checked.timestamp}:${checked.nonce}`;
    const fresh = await this.redis.set(key, '1', 'EX', ttl, 'NX');
    if (fresh !== 'OK') throw new UnauthorizedError(`Authorization Error: Nonce already used: ${checked.nonce}`);
    if (!found.user.isActive) throw new ForbiddenError('User is not active.');
    return {
      id: found.user.id,
      username: found.user.username,
      email: found.user.email,
      isAdmin: found.user.isAdmin,
      tokenKey: found.token.tokenKey,
    };
  }
}
