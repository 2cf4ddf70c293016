/**
 * OAuth 1.0a as MAAS clients use it: Authorization header parsing, the
 * request-independent checks of MAAS/piston (section 3.3 of maas-api.md),
 * PLAINTEXT and HMAC-SHA1 (RFC 5849) signature checks and API key generation.
 *
 * Consumer/token lookup and nonce replay protection need storage and are
 * left to the caller; run them after `checkOAuthParams` succeeds.
 */
import { createHash, createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { BadRequestError, HttpError, UnauthorizedError } from './http.errors';

/** The six parameters MAAS requires (section 3.3 step 2). */
export const REQUIRED_OAUTH_PARAMS = [
  'oauth_consumer_key',
  'oauth_token',
  'oauth_signature',
  'oauth_signature_method',
  'oauth_timestamp',
  'oauth_nonce',
] as const;

/**
 * Accepted clock difference in seconds, both ways. MAAS/piston (python-oauth) refuses timestamps
 * more than 300 s old and accepts any future one; oauthlib allows 600 s either way. Kiln takes
 * piston's 300 s and applies it to the future too, so a nonce never has to be kept for longer than
 * ten minutes. Clients with a wrong clock correct it from the `Date` header of the 401.
 */
export const OAUTH_TIMESTAMP_THRESHOLD = 300;

export const SUPPORTED_SIGNATURE_METHODS = ['PLAINTEXT', 'HMAC-SHA1'] as const;
export type OAuthSignatureMethod = (typeof SUPPORTED_SIGNATURE_METHODS)[number];

const SCHEME = /^\s*oauth(?:\s+|$)/i;

function percentDecodeOnce(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    // Malformed escape or invalid UTF-8: keep the value as sent (it then fails the checks).
    return value;
  }
}

/**
 * Parse `Authorization: OAuth k="v", k2="v2"`. Returns null unless the header
 * uses the `OAuth` scheme (case-insensitive). Pairs may be separated by `,`
 * with or without spaces and come in any order; values may be quoted or not
 * and are percent-decoded once (`+` is kept, so `realm="MAAS+API"` stays
 * `MAAS+API`). The first occurrence of a repeated key wins. The result has
 * no prototype, so keys like `__proto__` are harmless.
 */
export function parseOAuthHeader(header: string | undefined): Record<string, string> | null {
  if (header === undefined) return null;
  const scheme = SCHEME.exec(header);
  if (scheme === null) return null;
  const result = Object.create(null) as Record<string, string>;
  const length = header.length;
  let i = scheme[0].length;
  while (i < length) {
    while (i < length && (header[i] === ',' || header[i] === ' ' || header[i] === '\t')) i++;
    if (i >= length) break;
    let keyEnd = i;
    while (keyEnd < length && header[keyEnd] !== '=' && header[keyEnd] !== ',') keyEnd++;
    const key = header.slice(i, keyEnd).trim();
    let value = '';
    i = keyEnd;
    if (header[i] === '=') {
      i++;
      while (i < length && (header[i] === ' ' || header[i] === '\t')) i++;
      if (header[i] === '"') {
        i++;
        let out = '';
        let runStart = i;
        while (i < length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < length) {
            out += header.slice(runStart, i);
            runStart = i + 1;
            i += 2;
          } else {
            i++;
          }
        }
        value = out + header.slice(runStart, Math.min(i, length));
        i++; // closing quote
        while (i < length && header[i] !== ',') i++;
      } else {
        let end = header.indexOf(',', i);
        if (end === -1) end = length;
        value = header.slice(i, end).trim();
        i = end;
      }
    }
    if (key !== '' && !(key in result)) result[key] = percentDecodeOnce(value);
  }
  return result;
}

export interface OAuthCheckSuccess {
  ok: true;
  consumerKey: string;
  tokenKey: string;
  signature: string;
  signatureMethod: OAuthSignatureMethod;
  nonce: string;
  timestamp: number;
}

/** No OAuth parameters at all: treat the request as anonymous. */
export interface OAuthAnonymous {
  ok: false;
  kind: 'anonymous';
}

/** OAuth was attempted but is unacceptable; `message` is the OAuth error text. */
export interface OAuthRejected {
  ok: false;
  kind: 'rejected';
  status: 400 | 401;
  message: string;
}

export type OAuthCheckResult = OAuthCheckSuccess | OAuthAnonymous | OAuthRejected;

const INTEGER = /^[+-]?\d+$/;

/**
 * The request-independent OAuth checks, in MAAS order: required parameters,
 * `oauth_version`, timestamp (integer; at most 300 s from now, either way),
 * signature method. `nowSeconds` may be fractional (it is floored).
 */
export function checkOAuthParams(params: Readonly<Record<string, string>> | null | undefined, nowSeconds: number): OAuthCheckResult {
  if (params === null || params === undefined) return { ok: false, kind: 'anonymous' };
  const has = (name: string): boolean => Object.prototype.hasOwnProperty.call(params, name);
  const missing = REQUIRED_OAUTH_PARAMS.filter((name) => !has(name));
  if (missing.length === REQUIRED_OAUTH_PARAMS.length) return { ok: false, kind: 'anonymous' };
  if (missing.length > 0) return reject(401, `Missing OAuth parameters: ${missing.join(', ')}`);

  if (has('oauth_version') && params.oauth_version !== '1.0') {
    return reject(401, `OAuth version ${params.oauth_version} not supported.`);
  }

  const rawTimestamp = params.oauth_timestamp.trim();
  const timestamp = INTEGER.test(rawTimestamp) ? Number(rawTimestamp) : NaN;
  if (!Number.isSafeInteger(timestamp)) {
    return reject(400, `Invalid timestamp: oauth_timestamp=${JSON.stringify(params.oauth_timestamp)} is not an integer.`);
  }
  const now = Math.floor(nowSeconds);
  if (now - timestamp > OAUTH_TIMESTAMP_THRESHOLD) {
    return reject(
      401,
      `Expired timestamp: given ${timestamp} and now ${now} has a greater difference than threshold ${OAUTH_TIMESTAMP_THRESHOLD}`,
    );
  }
  if (timestamp - now > OAUTH_TIMESTAMP_THRESHOLD) {
    return reject(
      401,
      `Timestamp in the future: given ${timestamp} and now ${now} has a greater difference than threshold ${OAUTH_TIMESTAMP_THRESHOLD}`,
    );
  }

  const method = params.oauth_signature_method;
  if (!(SUPPORTED_SIGNATURE_METHODS as readonly string[]).includes(method)) {
    return reject(
      401,
      `Signature method ${method} not supported try one of the following: ${SUPPORTED_SIGNATURE_METHODS.join(', ')}`,
    );
  }

  return {
    ok: true,
    consumerKey: params.oauth_consumer_key,
    tokenKey: params.oauth_token,
    signature: params.oauth_signature,
    signatureMethod: method as OAuthSignatureMethod,
    nonce: params.oauth_nonce,
    timestamp,
  };
}

function reject(status: 400 | 401, message: string): OAuthRejected {
  return { ok: false, kind: 'rejected', status, message };
}

/**
 * The HttpError for a rejected check: 400 with the message, or 401 (with
 * `WWW-Authenticate: OAuth realm="OAuth"`) with MAAS' `Authorization Error: '<message>'` body.
 */
export function oauthRejectionError(rejection: OAuthRejected): HttpError {
  if (rejection.status === 400) return new BadRequestError(rejection.message);
  return new UnauthorizedError(`Authorization Error: '${rejection.message}'`);
}

/** RFC 5849 3.6 percent-encoding (RFC 3986 unreserved characters kept). */
export function oauthPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Whether a PLAINTEXT `oauth_signature` (as returned by parseOAuthHeader,
 * i.e. already percent-decoded once) equals
 * `encode(consumerSecret)&encode(tokenSecret)`. A signature still
 * percent-encoded once more (`%26secret`, from clients that escape twice) is
 * accepted too. Compared in constant time: both sides are hashed to
 * equal-length digests and compared with timingSafeEqual.
 */
export function plaintextSignatureMatches(signature: string, consumerSecret: string, tokenSecret: string): boolean {
  const expected = sha256(`${oauthPercentEncode(consumerSecret)}&${oauthPercentEncode(tokenSecret)}`);
  const candidates = [signature];
  if (signature.includes('%')) candidates.push(percentDecodeOnce(signature));
  let matches = false;
  for (const candidate of candidates) {
    // Evaluate every candidate (no short-circuit) so timing does not depend on which one matched.
    matches = timingSafeEqual(sha256(candidate), expected) || matches;
  }
  return matches;
}

/** What an HMAC-SHA1 signature covers besides the OAuth parameters (RFC 5849 3.4.1). */
export interface OAuthSignedRequest {
  method: string;
  /** `scheme://host[:port]` as the client addressed the server. */
  origin: string;
  /** The path as sent, without the query string. */
  path: string;
  /** The query string without `?`. */
  query: string;
  contentType: string | undefined;
  body: Buffer;
}

function formPairs(encoded: string): [string, string][] {
  return [...new URLSearchParams(encoded)];
}

/** RFC 5849 3.4.1.2: lowercase scheme and host, default port dropped, path as sent. */
export function baseStringUri(origin: string, path: string): string {
  let scheme = 'http';
  let authority = origin;
  const sep = origin.indexOf('://');
  if (sep >= 0) {
    scheme = origin.slice(0, sep).toLowerCase();
    authority = origin.slice(sep + 3);
  }
  authority = authority.toLowerCase();
  if ((scheme === 'http' && authority.endsWith(':80')) || (scheme === 'https' && authority.endsWith(':443'))) {
    authority = authority.slice(0, authority.lastIndexOf(':'));
  }
  return `${scheme}://${authority}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * RFC 5849 3.4.1 signature base string: method, base string URI and the normalized parameters
 * (query, OAuth header parameters but `realm` and `oauth_signature`, and the body's parameters
 * when it is form-encoded), each percent-encoded and sorted by name, then value.
 */
export function signatureBaseString(req: OAuthSignedRequest, oauthParams: Readonly<Record<string, string>>): string {
  const pairs: [string, string][] = formPairs(req.query);
  for (const [k, v] of Object.entries(oauthParams)) if (k !== 'realm' && k !== 'oauth_signature') pairs.push([k, v]);
  const mediaType = (req.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded' && req.body.length) pairs.push(...formPairs(req.body.toString('utf8')));
  const normalized = pairs
    .map(([k, v]) => [oauthPercentEncode(k), oauthPercentEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return [req.method.toUpperCase(), oauthPercentEncode(baseStringUri(req.origin, req.path)), oauthPercentEncode(normalized)].join('&');
}

/**
 * Whether an HMAC-SHA1 `oauth_signature` (percent-decoded once, as parseOAuthHeader returns it)
 * is base64(HMAC-SHA1(encode(consumerSecret)&encode(tokenSecret), base string)) for this
 * request. Compared in constant time, like plaintextSignatureMatches.
 */
export function hmacSha1SignatureMatches(
  signature: string,
  consumerSecret: string,
  tokenSecret: string,
  req: OAuthSignedRequest,
  oauthParams: Readonly<Record<string, string>>,
): boolean {
  const key = `${oauthPercentEncode(consumerSecret)}&${oauthPercentEncode(tokenSecret)}`;
  const expected = sha256(createHmac('sha1', key).update(signatureBaseString(req, oauthParams), 'utf8').digest('base64'));
  const candidates = [signature];
  if (signature.includes('%')) candidates.push(percentDecodeOnce(signature));
  let matches = false;
  for (const candidate of candidates) matches = timingSafeEqual(sha256(candidate), expected) || matches;
  return matches;
}

/** piston's key alphabet: letters and digits without look-alikes (no i, l, o, I, O, 0, 1). */
export const API_KEY_ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const CONSUMER_KEY_LENGTH = 18;
export const TOKEN_KEY_LENGTH = 18;
export const TOKEN_SECRET_LENGTH = 32;

/** A random string of `length` characters from API_KEY_ALPHABET (crypto.randomInt). */
export function generateApiKeyPart(length: number): string {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`Invalid API key part length: ${length}`);
  let out = '';
  for (let i = 0; i < length; i++) out += API_KEY_ALPHABET[randomInt(API_KEY_ALPHABET.length)];
  return out;
}

export interface ApiCredentials {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
}

/** Fresh consumer key (18), token key (18) and token secret (32); the consumer secret is always ''. */
export function generateApiCredentials(): ApiCredentials {
  return {
    consumerKey: generateApiKeyPart(CONSUMER_KEY_LENGTH),
    tokenKey: generateApiKeyPart(TOKEN_KEY_LENGTH),
    tokenSecret: generateApiKeyPart(TOKEN_SECRET_LENGTH),
  };
}

/** The API key string clients use: `consumer_key:token_key:token_secret`. */
export function formatApiKey(credentials: ApiCredentials): string {
  return `${credentials.consumerKey}:${credentials.tokenKey}:${credentials.tokenSecret}`;
}
