import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

/** Values Postgres cannot take are 400s naming the field, and errors never quote huge values back. */
describe('API errors for values the database cannot take', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let systemId: string;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64/generic',
      mac_addresses: '52:54:00:e0:00:01',
      power_type: 'manual',
      deployed: 'true',
    });
    expect(created.status).toBe(200);
    systemId = (created.json() as { system_id: string }).system_id;
  });
  afterAll(() => h.stop());

  function expectFieldError(r: { status: number; text: string }, field: string) {
    expect(r.status).toBe(400);
    expect(Object.keys(JSON.parse(r.text) as object)).toEqual([field]);
  }

  describe('a NUL character is a 400 naming the field', () => {
    it.each([
      ['description', 'PUT', (): string => `${API}/machines/${systemId}/`, { description: 'a\0b' }],
      ['hostname', 'PUT', (): string => `${API}/machines/${systemId}/`, { hostname: 'host\0name' }],
      ['power_parameters_power_address', 'PUT', (): string => `${API}/machines/${systemId}/`, { power_parameters_power_address: '10.0.0.1\0' }],
      ['hostname', 'GET', (): string => `${API}/machines/?hostname=a%00b`, undefined],
      ['name', 'POST', (): string => `${API}/tags/`, { name: 'tag\0', comment: 'x' }],
    ] as const)('%s (%s)', async (field, method, path, body) => {
      const r = await h.call(admin, method, path(), body);
      expectFieldError(r, field);
      expect(r.json()).toEqual({ [field]: ['Null characters are not allowed.'] });
    });

    it('in a workload annotation', async () => {
      const r = await h.call(admin, 'POST', `${API}/machines/${systemId}/?op=set_workload_annotations`, { 'env\0': 'prod' });
      expect(r.status).toBe(400);
      expect(r.json()).toEqual({ 'env\0': ['Null characters are not allowed.'] });
      const v = await h.call(admin, 'POST', `${API}/machines/${systemId}/?op=set_workload_annotations`, { env: 'p\0rod' });
      expectFieldError(v, 'env');
    });

    it('in a system id in the URL', async () => {
      const r = await h.call(admin, 'GET', `${API}/machines/abc%00def/`);
      expectFieldError(r, 'system_id');
    });

    it('in a JSON body', async () => {
      const r = await h.call(admin, 'PUT', `${API}/machines/${systemId}/`, { raw: JSON.stringify({ description: 'x\u0000y' }), contentType: 'application/json' });
      expectFieldError(r, 'description');
    });
  });

  describe('an integer out of its column range is a 400 naming the field', () => {
    it.each([
      ['before', 'GET', `${API}/events/?op=query&before=99999999999999999999`, undefined],
      ['after', 'GET', `${API}/events/?op=query&after=99999999999999999999`, undefined],
      ['id', 'GET', `${API}/subnets/99999999999999999999/`, undefined],
      ['id', 'GET', `${API}/fabrics/99999999999999999999/`, undefined],
      ['id', 'GET', `${API}/ipranges/99999999999/`, undefined],
      ['id', 'GET', `${API}/reservedips/99999999999/`, undefined],
      ['id', 'GET', `${API}/account/prefs/sshkeys/99999999999/`, undefined],
      ['vlan_id', 'GET', `${API}/vlans/99999999999/`, undefined],
      ['fabric_id', 'GET', `${API}/fabrics/99999999999/vlans/`, undefined],
      ['cpu_count', 'GET', `${API}/machines/?cpu_count=99999999999`, undefined],
      ['mem', 'GET', `${API}/machines/?mem=1e20`, undefined],
      ['cpu_count', 'POST', `${API}/machines/?op=allocate`, { cpu_count: '99999999999' }],
      ['mtu', 'POST', `${API}/fabrics/`, { name: 'f-mtu', mtu: '99999999999' }],
      ['rdns_mode', 'POST', `${API}/subnets/`, { cidr: '10.9.0.0/24', rdns_mode: '99999' }],
    ] as const)('%s: %s %s', async (field, method, path, body) => {
      const r = await h.call(admin, method, path, body);
      expectFieldError(r, field);
    });

    it.each([
      ['cpu_count', '99999999999'],
      ['cpu_count', '2147483647'],
      ['cpu_speed', '99999999999'],
      ['memory', '9999999T'],
      ['swap_size', '1e23'],
      ['swap_size', '99999999999T'],
    ])('machine update %s=%s', async (field, value) => {
      const r = await h.call(admin, 'PUT', `${API}/machines/${systemId}/`, { [field]: value });
      expectFieldError(r, field);
    });

    it('keeps in-range values working', async () => {
      const r = await h.call(admin, 'PUT', `${API}/machines/${systemId}/`, { cpu_count: '65536', cpu_speed: '2147483647', memory: '2047T', swap_size: '1T' });
      expect(r.status).toBe(200);
      expect(r.json()).toMatchObject({ cpu_count: 65536, cpu_speed: 2147483647, memory: 2047 * 1024 * 1024, swap_size: 1024 ** 4 });
      expect((await h.call(admin, 'GET', `${API}/events/?op=query&before=9223372036854775807`)).status).toBe(200);
      expect((await h.call(admin, 'GET', `${API}/subnets/2147483647/`)).status).toBe(404);
    });
  });

  describe('errors quote at most a short piece of a huge value', () => {
    let huge = '';
    beforeAll(() => {
      huge = 'x'.repeat(10 * 1024 * 1024);
    });

    it('an invalid 10 MB hostname', async () => {
      const r = await h.call(admin, 'PUT', `${API}/machines/${systemId}/`, { hostname: huge });
      expect(r.status).toBe(400);
      expect(r.text.length).toBeLessThan(600);
      expect(r.json()).toEqual({ hostname: [`Invalid hostname: '${'x'.repeat(100)}...'.`] });
    });

    it('an unknown 10 MB op', async () => {
      const r = await h.call(admin, 'POST', `${API}/machines/`, { op: huge });
      expect(r.status).toBe(400);
      expect(r.text).toBe(`Unrecognised signature: method=POST op=${'x'.repeat(100)}...`);
    });

    it('a 10 kB event level (quoted upper-cased)', async () => {
      const r = await h.call(admin, 'GET', `${API}/events/?op=query&level=${'x'.repeat(10_000)}`);
      expect(r.status).toBe(400);
      expect(r.text.length).toBeLessThanOrEqual(403);
      expect(r.text.startsWith('Unrecognised log level: XXXX')).toBe(true);
    });
  });

  it('a malformed escape in a URL segment is a 400', async () => {
    const r = await h.call(admin, 'GET', `${API}/machines/%E0%A4%A/`);
    expect(r.status).toBe(400);
  });
});
