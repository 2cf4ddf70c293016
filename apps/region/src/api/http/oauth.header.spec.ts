import { createHmac } from 'node:crypto';
import * as fc from 'fast-check';
import { BadRequestError, UnauthorizedError } from './http.errors';
import {
  API_KEY_ALPHABET,
  checkOAuthParams,
  formatApiKey,
  generateApiCredentials,
  generateApiKeyPart,
  hmacSha1SignatureMatches,
  OAuthRejected,
  oauthPercentEncode,
  oauthRejectionError,
  parseOAuthHeader,
  plaintextSignatureMatches,
  REQUIRED_OAUTH_PARAMS,
  signatureBaseString,
} from './oauth.header';

const CK = 'Xb7qbXfEpVbNqsXMaN';
const TK = 'Ut2bGXc6Pr8nkA3t2N';
const TS = 'WsNm6gtyHLFREuvmwbF7VhrTUJeRjWB2';

/** Go's url.QueryEscape. */
function queryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

describe('parseOAuthHeader', () => {
  it('parses the maas CLI / cloud-init / maas-run-remote-scripts header (oauthlib)', () => {
    const header =
      'OAuth oauth_nonce="107945610987665277111795610376", oauth_timestamp="1795610376", ' +
      `oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="${CK}", ` +
      `oauth_token="${TK}", oauth_signature="%26${TS}"`;
    expect({ ...parseOAuthHeader(header) }).toEqual({
      oauth_nonce: '107945610987665277111795610376',
      oauth_timestamp: '1795610376',
      oauth_version: '1.0',
      oauth_signature_method: 'PLAINTEXT',
      oauth_consumer_key: CK,
      oauth_token: TK,
      oauth_signature: `&${TS}`,
    });
  });

  it('parses python-libmaas (realm="OAuth" first)', () => {
    const header =
      `OAuth realm="OAuth", oauth_nonce="54869287349871264781", oauth_timestamp="1700000000", ` +
      `oauth_consumer_key="${CK}", oauth_signature_method="PLAINTEXT", oauth_version="1.0", ` +
      `oauth_token="${TK}", oauth_signature="%26${TS}"`;
    const parsed = parseOAuthHeader(header)!;
    expect(parsed.realm).toBe('OAuth');
    expect(parsed.oauth_signature).toBe(`&${TS}`);
    expect(checkOAuthParams(parsed, 1700000000)).toMatchObject({ ok: true, consumerKey: CK, tokenKey: TK });
  });

  it('parses Go clients (realm "MAAS+API", query-escaped values, random order, no spaces)', () => {
    const fields: Array<[string, string]> = [
      ['oauth_signature', `&${TS}`],
      ['oauth_token', TK],
      ['oauth_nonce', '84213567'],
      ['realm', 'MAAS API'],
      ['oauth_timestamp', '1700000100'],
      ['oauth_consumer_key', CK],
      ['oauth_version', '1.0'],
      ['oauth_signature_method', 'PLAINTEXT'],
    ];
    const header = `OAuth ${fields.map(([k, v]) => `${k}="${queryEscape(v)}"`).join(',')}`;
    expect(header).toContain('realm="MAAS+API"');
    expect(header).toContain(`oauth_signature="%26${TS}"`);
    const parsed = parseOAuthHeader(header)!;
    expect(parsed.realm).toBe('MAAS+API');
    expect(parsed.oauth_signature).toBe(`&${TS}`);
    expect(parsed.oauth_nonce).toBe('84213567');
    const check = checkOAuthParams(parsed, 1700000100);
    expect(check.ok).toBe(true);
    if (check.ok) expect(plaintextSignatureMatches(check.signature, '', TS)).toBe(true);
  });

  it('accepts any order of random permutations of the pairs', () => {
    const base: Array<[string, string]> = [
      ['oauth_consumer_key', CK],
      ['oauth_token', TK],
      ['oauth_signature', `%26${TS}`],
      ['oauth_signature_method', 'PLAINTEXT'],
      ['oauth_timestamp', '1'],
      ['oauth_nonce', '2'],
      ['realm', 'MAAS+API'],
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(base, { minLength: base.length }), fc.constantFrom(',', ', ', ' ,  ', ',\t'), (pairs, sep) => {
        const parsed = parseOAuthHeader(`OAuth ${pairs.map(([k, v]) => `${k}="${v}"`).join(sep)}`)!;
        expect(parsed.oauth_signature).toBe(`&${TS}`);
        expect(parsed.oauth_token).toBe(TK);
        expect(parsed.realm).toBe('MAAS+API');
        expect(Object.keys(parsed)).toHaveLength(base.length);
      }),
    );
  });

  it('accepts unquoted values, spaces around "=", and the scheme in any case', () => {
    const parsed = parseOAuthHeader(`oauth oauth_token=${TK} , oauth_signature = "%26x",oauth_nonce=abc`)!;
    expect({ ...parsed }).toEqual({ oauth_token: TK, oauth_signature: '&x', oauth_nonce: 'abc' });
    expect(parseOAuthHeader('OAUTH oauth_token="a"')).toEqual(expect.objectContaining({ oauth_token: 'a' }));
  });

  it('returns null for other schemes and missing headers', () => {
    expect(parseOAuthHeader(undefined)).toBeNull();
    expect(parseOAuthHeader('')).toBeNull();
    expect(parseOAuthHeader('Bearer abc')).toBeNull();
    expect(parseOAuthHeader('Basic dXNlcjpwYXNz')).toBeNull();
    expect(parseOAuthHeader('OAuthoauth_token="a"')).toBeNull();
  });

  it('returns an empty object for a bare scheme', () => {
    expect({ ...parseOAuthHeader('OAuth') }).toEqual({});
    expect({ ...parseOAuthHeader('OAuth   ') }).toEqual({});
  });

  it('decodes values exactly once and keeps malformed escapes as sent', () => {
    const parsed = parseOAuthHeader('OAuth a="%2526x", b="%zz", c="%E2%82%AC", d="a+b", e="%FF"')!;
    expect(parsed.a).toBe('%26x');
    expect(parsed.b).toBe('%zz');
    expect(parsed.c).toBe('€');
    expect(parsed.d).toBe('a+b');
    expect(parsed.e).toBe('%FF');
  });

  it('keeps the first of repeated keys and ignores junk', () => {
    const parsed = parseOAuthHeader('OAuth oauth_token="first", oauth_token="second", ,, novalue, ="x", q="unterminated')!;
    expect(parsed.oauth_token).toBe('first');
    expect(parsed.novalue).toBe('');
    expect(parsed.q).toBe('unterminated');
    expect(Object.keys(parsed)).toEqual(['oauth_token', 'novalue', 'q']);
  });

  it('is safe against prototype keys', () => {
    const parsed = parseOAuthHeader('OAuth __proto__="x", constructor="y", toString="z"')!;
    expect(parsed.__proto__).toBe('x');
    expect(parsed.constructor).toBe('y');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.getPrototypeOf(parsed)).toBeNull();
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const parsed = parseOAuthHeader(`OAuth ${text}`);
        expect(parsed).not.toBeNull();
        parseOAuthHeader(text);
      }),
    );
  });
});

function validParams(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const params: Record<string, string | undefined> = {
    oauth_consumer_key: CK,
    oauth_token: TK,
    oauth_signature: `&${TS}`,
    oauth_signature_method: 'PLAINTEXT',
    oauth_timestamp: '1000',
    oauth_nonce: '12345',
    oauth_version: '1.0',
    ...overrides,
  };
  const result: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) result[k] = v;
  return result;
}

function rejected(result: ReturnType<typeof checkOAuthParams>): OAuthRejected {
  if (result.ok || result.kind !== 'rejected') throw new Error(`expected rejection, got ${JSON.stringify(result)}`);
  return result;
}

describe('checkOAuthParams', () => {
  it('accepts valid parameters', () => {
    expect(checkOAuthParams(validParams(), 1000)).toEqual({
      ok: true,
      consumerKey: CK,
      tokenKey: TK,
      signature: `&${TS}`,
      signatureMethod: 'PLAINTEXT',
      nonce: '12345',
      timestamp: 1000,
    });
  });

  it('treats no parameters as anonymous', () => {
    expect(checkOAuthParams(null, 1000)).toEqual({ ok: false, kind: 'anonymous' });
    expect(checkOAuthParams(undefined, 1000)).toEqual({ ok: false, kind: 'anonymous' });
    expect(checkOAuthParams({}, 1000)).toEqual({ ok: false, kind: 'anonymous' });
    expect(checkOAuthParams({ realm: 'OAuth', oauth_version: '1.0' }, 1000)).toEqual({ ok: false, kind: 'anonymous' });
  });

  it.each(REQUIRED_OAUTH_PARAMS.map((name) => [name]))('rejects a request missing only %s with 401', (name) => {
    const result = rejected(checkOAuthParams(validParams({ [name]: undefined }), 1000));
    expect(result.status).toBe(401);
    expect(result.message).toContain(name);
  });

  it('does not take parameters from the prototype', () => {
    const params = Object.create({ oauth_nonce: 'inherited' }) as Record<string, string>;
    Object.assign(params, validParams({ oauth_nonce: undefined }));
    expect(rejected(checkOAuthParams(params, 1000)).message).toBe('Missing OAuth parameters: oauth_nonce');
  });

  it('accepts a missing oauth_version but rejects other versions', () => {
    expect(checkOAuthParams(validParams({ oauth_version: undefined }), 1000).ok).toBe(true);
    const result = rejected(checkOAuthParams(validParams({ oauth_version: '2.0' }), 1000));
    expect(result).toEqual({ ok: false, kind: 'rejected', status: 401, message: 'OAuth version 2.0 not supported.' });
  });

  it.each(['abc', '', '12.5', '1e9', '0x10', '99999999999999999999'])('rejects timestamp %p with 400', (ts) => {
    const result = rejected(checkOAuthParams(validParams({ oauth_timestamp: ts }), 1000));
    expect(result.status).toBe(400);
    expect(result.message).toMatch(/^Invalid timestamp/);
  });

  it('enforces the 300 s window both ways', () => {
    expect(checkOAuthParams(validParams({ oauth_timestamp: '700' }), 1000).ok).toBe(true);
    expect(checkOAuthParams(validParams({ oauth_timestamp: '700' }), 1000.9).ok).toBe(true);
    expect(checkOAuthParams(validParams({ oauth_timestamp: '1300' }), 1000).ok).toBe(true);
    expect(rejected(checkOAuthParams(validParams({ oauth_timestamp: '1301' }), 1000))).toEqual({
      ok: false,
      kind: 'rejected',
      status: 401,
      message: 'Timestamp in the future: given 1301 and now 1000 has a greater difference than threshold 300',
    });
    expect(rejected(checkOAuthParams(validParams({ oauth_timestamp: String(1000 + 10 * 365 * 86400) }), 1000)).status).toBe(401);
    const result = rejected(checkOAuthParams(validParams({ oauth_timestamp: '699' }), 1000));
    expect(result).toEqual({
      ok: false,
      kind: 'rejected',
      status: 401,
      message: 'Expired timestamp: given 699 and now 1000 has a greater difference than threshold 300',
    });
  });

  it('accepts PLAINTEXT and HMAC-SHA1 only', () => {
    expect(checkOAuthParams(validParams({ oauth_signature_method: 'HMAC-SHA1' }), 1000)).toMatchObject({
      ok: true,
      signatureMethod: 'HMAC-SHA1',
    });
    const result = rejected(checkOAuthParams(validParams({ oauth_signature_method: 'RSA-SHA1' }), 1000));
    expect(result.status).toBe(401);
    expect(result.message).toBe('Signature method RSA-SHA1 not supported try one of the following: PLAINTEXT, HMAC-SHA1');
    expect(rejected(checkOAuthParams(validParams({ oauth_signature_method: 'plaintext' }), 1000)).status).toBe(401);
  });

  it('maps rejections to HttpErrors', () => {
    const unauthorized = oauthRejectionError(rejected(checkOAuthParams(validParams({ oauth_timestamp: '1' }), 1000)));
    expect(unauthorized).toBeInstanceOf(UnauthorizedError);
    expect(unauthorized.body).toBe("Authorization Error: 'Expired timestamp: given 1 and now 1000 has a greater difference than threshold 300'");
    expect(unauthorized.headers).toEqual({ 'WWW-Authenticate': 'OAuth realm="OAuth"' });
    const bad = oauthRejectionError(rejected(checkOAuthParams(validParams({ oauth_timestamp: 'x' }), 1000)));
    expect(bad).toBeInstanceOf(BadRequestError);
  });
});

describe('plaintextSignatureMatches', () => {
  it('matches "&" + token secret with an empty consumer secret', () => {
    expect(plaintextSignatureMatches(`&${TS}`, '', TS)).toBe(true);
  });

  it('tolerates a signature percent-encoded once more (double-escaping clients)', () => {
    expect(plaintextSignatureMatches(`%26${TS}`, '', TS)).toBe(true);
    const header = parseOAuthHeader(`OAuth oauth_signature="%2526${TS}"`)!;
    expect(plaintextSignatureMatches(header.oauth_signature, '', TS)).toBe(true);
  });

  it('rejects wrong signatures', () => {
    expect(plaintextSignatureMatches(TS, '', TS)).toBe(false);
    expect(plaintextSignatureMatches(`&${TS}x`, '', TS)).toBe(false);
    expect(plaintextSignatureMatches(`&${TS.slice(1)}`, '', TS)).toBe(false);
    expect(plaintextSignatureMatches('', '', TS)).toBe(false);
    expect(plaintextSignatureMatches(`&${TS}`, 'cs', TS)).toBe(false);
    expect(plaintextSignatureMatches('%zz', '', TS)).toBe(false);
    // Only one extra level of encoding is tolerated.
    expect(plaintextSignatureMatches(`%2526${TS}`, '', TS)).toBe(false);
  });

  it('percent-encodes both secrets', () => {
    expect(plaintextSignatureMatches('a%26b&c%20d', 'a&b', 'c d')).toBe(true);
    expect(plaintextSignatureMatches('cs&ts', 'cs', 'ts')).toBe(true);
    expect(oauthPercentEncode("a b!*'()~-._")).toBe('a%20b%21%2A%27%28%29~-._');
  });

  it('matches exactly the expected signature (property)', () => {
    const secret = fc.string({ unit: fc.constantFrom(...API_KEY_ALPHABET), minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(secret, secret, (a, b) => {
        expect(plaintextSignatureMatches(`&${a}`, '', a)).toBe(true);
        expect(plaintextSignatureMatches(`&${a}`, '', b)).toBe(a === b);
      }),
    );
  });
});

describe('API key generation', () => {
  it('draws from the piston alphabet', () => {
    const part = generateApiKeyPart(2000);
    expect(part).toHaveLength(2000);
    expect(part).toMatch(/^[abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789]+$/);
    // With 2000 draws from 55 symbols, every symbol shows up (probability of a miss ~ 1e-14).
    expect(new Set(part).size).toBe(API_KEY_ALPHABET.length);
    expect(generateApiKeyPart(0)).toBe('');
  });

  it('rejects invalid lengths', () => {
    expect(() => generateApiKeyPart(-1)).toThrow(RangeError);
    expect(() => generateApiKeyPart(1.5)).toThrow(RangeError);
  });

  it('generates MAAS-sized credentials', () => {
    const credentials = generateApiCredentials();
    expect(credentials.consumerKey).toHaveLength(18);
    expect(credentials.tokenKey).toHaveLength(18);
    expect(credentials.tokenSecret).toHaveLength(32);
    expect(formatApiKey(credentials).split(':')).toEqual([credentials.consumerKey, credentials.tokenKey, credentials.tokenSecret]);
    expect(generateApiCredentials().tokenSecret).not.toBe(credentials.tokenSecret);
  });

  describe('HMAC-SHA1 (RFC 5849)', () => {
    // The example request of RFC 5849 section 3.4.1.1.
    const rfcRequest = {
      method: 'POST',
      origin: 'http://EXAMPLE.com:80',
      path: '/request',
      query: 'b5=%3D%253D&a3=a&c%40=&a2=r%20b',
      contentType: 'application/x-www-form-urlencoded',
      body: Buffer.from('c2&a3=2+q'),
    };
    const rfcHeader = parseOAuthHeader(
      'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", ' +
        'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", ' +
        'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"',
    )!;

    it('builds the signature base string of the RFC example', () => {
      expect(signatureBaseString(rfcRequest, rfcHeader)).toBe(
        'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
      );
    });

    it('accepts only the signature over this exact request, never a PLAINTEXT one', () => {
      const header = { ...rfcHeader };
      const good = createHmac('sha1', `&${TS}`).update(signatureBaseString(rfcRequest, header)).digest('base64');
      expect(hmacSha1SignatureMatches(good, '', TS, rfcRequest, header)).toBe(true);
      expect(hmacSha1SignatureMatches(encodeURIComponent(good), '', TS, rfcRequest, header)).toBe(true);
      expect(hmacSha1SignatureMatches(`&${TS}`, '', TS, rfcRequest, header)).toBe(false);
      expect(hmacSha1SignatureMatches(good, '', TS, { ...rfcRequest, body: Buffer.from('c2&a3=3') }, header)).toBe(false);
      expect(hmacSha1SignatureMatches(good, '', TS, { ...rfcRequest, method: 'PUT' }, header)).toBe(false);
      expect(hmacSha1SignatureMatches(good, '', TS, { ...rfcRequest, path: '/other' }, header)).toBe(false);
      expect(hmacSha1SignatureMatches(good, '', TS, { ...rfcRequest, query: 'a3=a' }, header)).toBe(false);
      expect(hmacSha1SignatureMatches(good, '', TS, rfcRequest, { ...header, oauth_nonce: 'other' })).toBe(false);
      expect(hmacSha1SignatureMatches(good, '', 'other-secret', rfcRequest, header)).toBe(false);
    });
  });
});
