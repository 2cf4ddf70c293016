import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REGION_CONFIG, RegionConfig } from '../../config/region.config';
import { REDIS } from '../../database/redis.module';
import { UsersRepository } from '../../users/users.repository';
import { AuthUser } from '../api.types';
import { ForbiddenError, UnauthorizedError } from '../http/http.errors';
import {
  OAUTH_TIMESTAMP_THRESHOLD,
  OAuthSignedRequest,
  checkOAuthParams,
  hmacSha1SignatureMatches,
  oauthRejectionError,
  parseOAuthHeader,
  plaintextSignatureMatches,
} from '../http/oauth.header';

/**
 * MAAS API keys: OAuth 1.0a in the Authorization header, signed PLAINTEXT (every MAAS client) or
 * HMAC-SHA1 (RFC 5849, over the method, URL, query, OAuth parameters and a form-encoded body).
 * Returns null for an anonymous request; throws 401/403/400 the way MAAS answers bad credentials.
 */
/** The request an HMAC-SHA1 signature covers, with its body read on demand. */
export type OAuthRequestSource = Omit<OAuthSignedRequest, 'body'> & { body: Buffer | (() => Promise<Buffer>) };

@Injectable()
export class OAuthAuthenticator {
  constructor(
    private readonly users: UsersRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  /**
   * `request` is what an HMAC-SHA1 signature covers; without it such a signature is refused. Its
   * body may be a reader: it is then read only for an HMAC-SHA1 request naming a real token.
   */
  async authenticate(authorization: string | undefined, request?: OAuthRequestSource): Promise<AuthUser | null> {
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
    // MAAS consumers have an empty secret.
    const signed =
      checked.signatureMethod === 'PLAINTEXT'
        ? plaintextSignatureMatches(checked.signature, '', found.token.tokenSecret)
        : request !== undefined &&
          hmacSha1SignatureMatches(
            checked.signature,
            '',
            found.token.tokenSecret,
            { ...request, body: typeof request.body === 'function' ? await request.body() : request.body },
            header,
          );
    if (!signed) throw new UnauthorizedError('Authorization Error: Invalid signature.');
    // A nonce is kept exactly as long as its timestamp can be accepted (at most twice the window).
    const ttl = Math.max(1, checked.timestamp + OAUTH_TIMESTAMP_THRESHOLD - now + 1);
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
