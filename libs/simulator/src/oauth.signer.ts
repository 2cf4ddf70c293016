import { randomBytes } from 'node:crypto';

/** A node's OAuth credentials for the metadata API (cloud-init's datasource.MAAS keys). */
export interface NodeCredentials {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
  consumerSecret?: string;
}

/** RFC 3986 percent-encoding, as Python's `urllib.parse.quote(s, safe="~")` does it. */
export function oauthQuote(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The OAuth 1.0 PLAINTEXT Authorization header, with the same parameters in the same order as
 * Kiln's runner (and MAAS's maas_api_helper) send: nonce, timestamp, version, signature method,
 * consumer key, token, signature `<consumer secret>&<token secret>`.
 */
export function oauthHeader(c: NodeCredentials, opts: { nowSeconds?: number; nonce?: string } = {}): string {
  const signature = `${oauthQuote(c.consumerSecret ?? '')}&${oauthQuote(c.tokenSecret)}`;
  const params: [string, string][] = [
    ['oauth_nonce', opts.nonce ?? BigInt(`0x${randomBytes(8).toString('hex')}`).toString()],
    ['oauth_timestamp', String(Math.floor(opts.nowSeconds ?? Date.now() / 1000))],
    ['oauth_version', '1.0'],
    ['oauth_signature_method', 'PLAINTEXT'],
    ['oauth_consumer_key', c.consumerKey],
    ['oauth_token', c.tokenKey],
    ['oauth_signature', signature],
  ];
  return `OAuth ${params.map(([k, v]) => `${k}="${oauthQuote(v)}"`).join(', ')}`;
}
