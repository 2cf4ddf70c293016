import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const KEY = 'ABCDE-12345-FGHIJ-67890-KLMNO';

describe('license-keys/ and license-key/{osystem}/{distro_series}', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
  });
  afterAll(() => h.stop());

  it('creates, lists, reads, updates and deletes a key', async () => {
    const c = await h.call(admin, 'POST', `${API}/license-keys/`, { osystem: 'windows', distro_series: 'win2012r2', license_key: KEY });
    expect(c.status).toBe(200);
    const want = { osystem: 'windows', distro_series: 'win2012r2', license_key: KEY, resource_uri: `${API}/license-key/windows/win2012r2` };
    expect(c.json()).toEqual(want);
    expect((await h.call(admin, 'GET', `${API}/license-keys/`)).json()).toEqual([want]);
    expect((await h.call(admin, 'GET', `${API}/license-key/windows/win2012r2`)).json()).toEqual(want);
    const other = 'ZZZZZ-12345-FGHIJ-67890-KLMNO';
    expect((await h.call(admin, 'PUT', `${API}/license-key/windows/win2012r2`, { license_key: other })).json()).toEqual({ ...want, license_key: other });
    expect((await h.call(admin, 'DELETE', `${API}/license-key/windows/win2012r2`)).status).toBe(204);
    expect((await h.call(admin, 'GET', `${API}/license-key/windows/win2012r2`)).status).toBe(404);
  });

  it('refuses bad input, duplicates and non-administrators', async () => {
    const bad = await h.call(admin, 'POST', `${API}/license-keys/`, { osystem: 'ubuntu', distro_series: 'jammy', license_key: KEY });
    expect(bad.status).toBe(400);
    expect(bad.json()).toHaveProperty('osystem');
    const format = await h.call(admin, 'POST', `${API}/license-keys/`, { osystem: 'windows', distro_series: 'win2016', license_key: 'short' });
    expect(format.json()).toEqual({ license_key: ['Invalid license key.'] });
    expect((await h.call(admin, 'POST', `${API}/license-keys/`, { osystem: 'windows' })).json()).toEqual({
      distro_series: ['This field is required.'],
      license_key: ['This field is required.'],
    });
    expect((await h.call(admin, 'POST', `${API}/license-keys/`, { osystem: 'windows', distro_series: 'win2016', license_key: KEY })).status).toBe(200);
    const dup = await h.call(admin, 'POST', `${API}/license-keys/`, { osystem: 'windows', distro_series: 'win2016', license_key: KEY });
    expect(dup.status).toBe(400);
    expect((await h.call(admin, 'PUT', `${API}/license-key/windows/win2016`, { license_key: 'nope' })).status).toBe(400);
    expect((await h.call(user, 'GET', `${API}/license-keys/`)).status).toBe(403);
    expect((await h.call(user, 'GET', `${API}/license-key/windows/win2016`)).status).toBe(403);
    expect((await h.call(user, 'DELETE', `${API}/license-key/windows/win2016`)).status).toBe(403);
    expect((await h.call(admin, 'GET', `${API}/license-key/windows/win2016`)).status).toBe(200);
  });
});
