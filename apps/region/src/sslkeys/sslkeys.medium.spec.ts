import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const CERT = readFileSync(join(__dirname, 'fixtures/test-cert.pem'), 'utf8').trim();

describe('account/prefs/sslkeys/: SSL keys per user', () => {
  let h: RegionHarness;
  let alice: ApiKey;
  let admin: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    alice = await h.createUser('alice', false);
    admin = await h.createUser('admin', true);
  });
  afterAll(() => h.stop());

  it('adds, lists, reads and deletes the caller\'s own keys', async () => {
    const created = await h.call(alice, 'POST', `${API}/account/prefs/sslkeys/`, { key: CERT });
    expect(created.status).toBe(200);
    const k = created.json() as { id: number };
    expect(k).toEqual({ id: k.id, key: CERT, resource_uri: `${API}/account/prefs/sslkeys/${k.id}/` });
    expect((await h.call(alice, 'GET', `${API}/account/prefs/sslkeys/`)).json()).toEqual([k]);
    expect((await h.call(admin, 'GET', `${API}/account/prefs/sslkeys/`)).json()).toEqual([]);
    expect((await h.call(alice, 'GET', `${API}/account/prefs/sslkeys/${k.id}/`)).json()).toEqual(k);
    expect((await h.call(alice, 'DELETE', `${API}/account/prefs/sslkeys/${k.id}/`)).status).toBe(204);
    expect((await h.call(alice, 'GET', `${API}/account/prefs/sslkeys/${k.id}/`)).status).toBe(404);
  });

  it('refuses keys that are not PEM certificates, duplicates, and other users\' keys', async () => {
    const bad = await h.call(alice, 'POST', `${API}/account/prefs/sslkeys/`, { key: 'not a certificate' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ key: ['Invalid SSL key.'] });
    expect((await h.call(alice, 'POST', `${API}/account/prefs/sslkeys/`, {})).json()).toEqual({ key: ['This field is required.'] });
    const k = (await h.call(alice, 'POST', `${API}/account/prefs/sslkeys/`, { key: CERT })).json() as { id: number };
    expect((await h.call(alice, 'POST', `${API}/account/prefs/sslkeys/`, { key: CERT })).status).toBe(400);
    expect((await h.call(admin, 'GET', `${API}/account/prefs/sslkeys/${k.id}/`)).status).toBe(403);
    expect((await h.call(admin, 'DELETE', `${API}/account/prefs/sslkeys/${k.id}/`)).status).toBe(403);
    expect((await h.call(alice, 'GET', `${API}/account/prefs/sslkeys/999999/`)).status).toBe(404);
    expect((await h.call(null, 'GET', `${API}/account/prefs/sslkeys/`)).status).toBe(401);
  });
});
