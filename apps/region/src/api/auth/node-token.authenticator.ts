import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REGION_CONFIG, RegionConfig } from '../../config/region.config';
import { REDIS } from '../../database/redis.module';
import { ScriptRunsRepository } from '../../scripts/script-runs.repository';
import { UnauthorizedError } from '../http/http.errors';
import {
  OAUTH_TIMESTAMP_THRESHOLD,
  checkOAuthParams,
  hmacSha1SignatureMatches,
  oauthRejectionError,
  parseOAuthHeader,
  plaintextSignatureMatches,
} from '../http/oauth.header';
import type { OAuthRequestSource } from './oauth.authenticator';
import type { NodeCaller } from '../../metadata/node-caller';

export type { NodeCaller };


/**
 * Node tokens on the metadata API: OAuth 1.0a as cloud-init and the runner sign it (PLAINTEXT, or
 * HMAC-SHA1), checked against `node_tokens`, never against users' API keys. A revoked token is
 * refused with a 401 that says so. Returns null for an anonymous request.
 */
@Injectable()
export class NodeTokenAuthenticator {
  constructor(
    private readonly tokens: ScriptRunsRepository,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  async authenticate(authorization: string | undefined, request?: OAuthRequestSource): Promise<NodeCaller | null> {
    const header = parseOAuthHeader(authorization);
    if (!header) return null;
    const now = Math.floor(Date.now() / 1000);
    const checked = checkOAuthParams(header, now);
    if (!checked.ok) {
      if (checked.kind === 'anonymous') return null;
      throw oauthRejectionError(checked);
    }
    const found = await this.tokens.tokenByKey(checked.tokenKey);
    if (!found) throw new UnauthorizedError(`Authorization Error: 'Invalid access token: ${checked.tokenKey}'`);
    if (found.consumer_key !== checked.consumerKey) throw new UnauthorizedError('Authorization Error: Invalid consumer key.');
    const signed =
      checked.signatureMethod === 'PLAINTEXT'
        ? plaintextSignatureMatches(checked.signature, '', found.token_secret)
        : request !== undefined &&
          hmacSha1SignatureMatches(
            checked.signature,
            '',
            found.token_secret,
            { ...request, body: typeof request.body === 'function' ? await request.body() : request.body },
            header,
          );
    if (!signed) throw new UnauthorizedError('Authorization Error: Invalid signature.');
    if (found.revoked) {
      throw new UnauthorizedError(`Authorization Error: node token ${checked.tokenKey} was revoked when its ${found.purpose} ended.`);
    }
    const ttl = Math.max(1, checked.timestamp + OAUTH_TIMESTAMP_THRESHOLD - now + 1);
    const key = `${this.config.redis.prefix}:oauth-nonce:node:${checked.consumerKey}:${checked.tokenKey}:${checked.timestamp}:${checked.nonce}`;
    const fresh = await this.redis.set(key, '1', 'EX', ttl, 'NX');
    if (fresh !== 'OK') throw new UnauthorizedError(`Authorization Error: Nonce already used: ${checked.nonce}`);
    return {
      machineId: found.machine_id,
      systemId: found.system_id,
      tokenKey: found.token_key,
      consumerKey: found.consumer_key,
      tokenSecret: found.token_secret,
      purpose: found.purpose,
    };
  }
}
