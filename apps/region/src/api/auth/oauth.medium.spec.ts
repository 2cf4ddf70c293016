/**
 * OAuth through HTTP against a real region: HMAC-SHA1 signatures made by a real OAuth 1.0a client
 * library (oauth-1.0a), the clock window both ways, and nonces kept only as long as they matter.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import OAuth from 'oauth-1.0a';
import { REDIS } from '../../database/redis.module';
import { ApiKey, RegionHarness } from '../../testing/region.harness';

const API = '/MAAS/api/2.0';

describe('OAuth signatures and clock window', () => {
  let h: RegionHarness;
  let alice: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    alice = await h.createUser('alice', false);
  });
  afterAll(() => h.stop());

  /** An Authorization header signed HMAC-SHA1 by the oauth-1.0a library (MAAS: empty consumer secret). */
  function hmacHeader(key: ApiKey, method: string, url: string, data: Record<string, string> = {}, timestamp?: number): string {
    const client = new OAuth({
      consumer: { key: key.consumerKey, secret: '' },
      signature_method: 'HMAC-SHA1',
      hash_function: (base, signingKey) => createHmac('sha1', signingKey).update(base).digest('base64'),
    });
    if (timestamp !== undefined) client.getTimeStamp = () => timestamp;
    // The library merges the query into the object it is given: hand it a copy.
    const signed = client.authorize({ url, method, data: { ...data } }, { key: key.tokenKey, secret: key.tokenSecret });
    return client.toHeader(signed).Authorization;
  }

  it('accepts HMAC-SHA1 signed by a real OAuth client, over the query and a form-encoded body', async () => {
    const getUrl = `${h.baseUrl}${API}/users/?op=whoami`;
    const who = await h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: hmacHeader(alice, 'GET', getUrl) });
    expect(who.status).toBe(200);
    expect(who.json()).toMatchObject({ username: 'alice' });

    const postUrl = `${h.baseUrl}${API}/account/?op=create_authorisation_token`;
    const data = { name: 'signed-by-hmac' };
    const made = await h.call(null, 'POST', `${API}/account/?op=create_authorisation_token`, data, {
      authorization: hmacHeader(alice, 'POST', postUrl, data),
    });
    expect(made.status).toBe(200);
    expect(made.json()).toMatchObject({ name: 'signed-by-hmac' });
  });

  it('refuses an HMAC-SHA1 signature over another request: changed body, query, method or path', async () => {
    const url = `${h.baseUrl}${API}/account/?op=create_authorisation_token`;
    const signedFor = { name: 'signed' };
    const changedBody = await h.call(null, 'POST', `${API}/account/?op=create_authorisation_token`, { name: 'changed' }, {
      authorization: hmacHeader(alice, 'POST', url, signedFor),
    });
    expect(changedBody.status).toBe(401);
    expect(changedBody.text).toBe('Authorization Error: Invalid signature.');
    expect(changedBody.headers.get('www-authenticate')).toBe('OAuth realm="OAuth"');

    const whoUrl = `${h.baseUrl}${API}/users/?op=whoami`;
    for (const [method, path] of [
      ['GET', `${API}/users/?op=whoami&x=1`],
      ['GET', `${API}/users/`],
      ['DELETE', `${API}/users/?op=whoami`],
    ]) {
      const r = await h.call(null, method, path, undefined, { authorization: hmacHeader(alice, 'GET', whoUrl) });
      expect(r.status).toBe(401);
    }
  });

  it('refuses a PLAINTEXT signature presented as HMAC-SHA1', async () => {
    const header = RegionHarness.oauthHeader(alice).replace('oauth_signature_method="PLAINTEXT"', 'oauth_signature_method="HMAC-SHA1"');
    const r = await h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: header });
    expect(r.status).toBe(401);
    expect(r.text).toBe('Authorization Error: Invalid signature.');
    // The same header, honestly PLAINTEXT, is fine.
    const plain = await h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: RegionHarness.oauthHeader(alice) });
    expect(plain.status).toBe(200);
  });

  it('bounds the clock difference both ways (300 s) and says the server time in Date', async () => {
    const now = Math.floor(Date.now() / 1000);
    const call = (timestamp: number) =>
      h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: RegionHarness.oauthHeader(alice, { timestamp }) });
    const tenYears = await call(now + 10 * 365 * 86400);
    expect(tenYears.status).toBe(401);
    expect(tenYears.text).toContain('Timestamp in the future');
    expect(tenYears.headers.get('date')).toBeTruthy();
    expect((await call(now + 400)).status).toBe(401);
    expect((await call(now - 400)).status).toBe(401);
    expect((await call(now + 200)).status).toBe(200);
    expect((await call(now - 200)).status).toBe(200);
    // HMAC-SHA1 is held to the same window.
    const url = `${h.baseUrl}${API}/users/?op=whoami`;
    const future = await h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: hmacHeader(alice, 'GET', url, {}, now + 3600) });
    expect(future.status).toBe(401);
  });

  it('keeps a nonce only as long as its timestamp can be accepted', async () => {
    const redis = h.app.get<Redis>(REDIS);
    const now = Math.floor(Date.now() / 1000);
    const nonce = randomBytes(8).toString('hex');
    const header = RegionHarness.oauthHeader(alice, { nonce, timestamp: now + 250 });
    expect((await h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: header })).status).toBe(200);
    const replay = await h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: header });
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('Nonce already used');
    const keys = await redis.keys(`${h.config.redis.prefix}:oauth-nonce:*${nonce}`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.ttl(keys[0]);
    // Acceptable until now + 250 + 300; never longer than twice the window.
    expect(ttl).toBeGreaterThan(500);
    expect(ttl).toBeLessThanOrEqual(551);

    // A timestamp ten years ahead is refused before its nonce is stored: nothing is kept for it.
    const farNonce = randomBytes(8).toString('hex');
    const far = RegionHarness.oauthHeader(alice, { nonce: farNonce, timestamp: now + 10 * 365 * 86400 });
    expect((await h.call(null, 'GET', `${API}/users/?op=whoami`, undefined, { authorization: far })).status).toBe(401);
    expect(await redis.keys(`${h.config.redis.prefix}:oauth-nonce:*${farNonce}`)).toEqual([]);
  });
});
