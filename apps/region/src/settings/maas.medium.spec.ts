import { registerDeployableImage } from '../testing/boot-images.fixture';
import { GetBootConfig, RegisterRack } from '@kiln/contracts';
import { pollUntil } from '@kiln/testing';
import { registerBootImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

describe('maas/: get_config and set_config', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
  });
  afterAll(() => h.stop());

  const get = (name: string, key: ApiKey = user) => h.call(key, 'GET', `${API}/maas/?op=get_config&name=${encodeURIComponent(name)}`);
  const set = (name: string, value: string, key: ApiKey = admin) => h.call(key, 'POST', `${API}/maas/?op=set_config`, { name, value });

  it('reads MAAS defaults as JSON for settings never set', async () => {
    const r = await get('default_distro_series');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.json()).toBe('bookworm');
    expect((await get('enable_third_party_drivers')).json()).toBe(true);
    expect((await get('kernel_opts')).json()).toBeNull();
    expect((await get('active_discovery_interval')).json()).toBe(10800);
  });

  it('stores typed values an administrator sets, and any user reads them', async () => {
    expect((await set('ntp_servers', 'ntp1.example 10.0.0.1')).status).toBe(200);
    expect((await get('ntp_servers')).json()).toBe('ntp1.example 10.0.0.1');
    expect((await set('enable_third_party_drivers', 'false')).text).toBe('OK');
    expect((await get('enable_third_party_drivers')).json()).toBe(false);
    expect((await set('active_discovery_interval', '600')).status).toBe(200);
    expect((await get('active_discovery_interval')).json()).toBe(600);
    expect((await set('maas_name', 'lab-kiln')).status).toBe(200);
    expect((await get('maas_name')).json()).toBe('lab-kiln');
  });

  it('refuses unknown names, bad values and non-administrators', async () => {
    const unknown = await get('no_such_setting');
    expect(unknown.status).toBe(400);
    expect((unknown.json() as { name: string[] }).name[0]).toMatch(/no_such_setting is not a valid config setting/);
    expect((await h.call(user, 'GET', `${API}/maas/?op=get_config`)).status).toBe(400);
    const bad = await set('dnssec_validation', 'sometimes');
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ dnssec_validation: [expect.stringContaining('sometimes is not one of the available choices')] });
    expect((await set('active_discovery_interval', '17')).status).toBe(400);
    expect((await set('enable_third_party_drivers', 'maybe')).status).toBe(400);
    expect((await set('nope', '1')).status).toBe(400);
    expect((await set('maas_name', 'x', user)).status).toBe(403);
    expect((await get('maas_name')).json()).toBe('lab-kiln');
    expect((await h.call(null, 'GET', `${API}/maas/?op=get_config&name=maas_name`)).status).toBe(401);
  });

  it('answers the names MAAS still accepts for moved settings: ntp_server, main_archive, ports_archive', async () => {
    // MAAS rewrites ntp_server to ntp_servers (python-libmaas's get_ntp_server/set_ntp_server use it).
    expect((await set('ntp_server', 'ntp9.example')).status).toBe(200);
    expect((await get('ntp_server')).json()).toBe('ntp9.example');
    expect((await get('ntp_servers')).json()).toBe('ntp9.example');
    // main_archive and ports_archive are the URLs of the default package repositories.
    expect((await get('main_archive')).json()).toBe('http://archive.ubuntu.com/ubuntu');
    expect((await get('ports_archive')).json()).toBe('http://ports.ubuntu.com/ubuntu-ports');
    expect((await set('main_archive', 'http://mirror.example/ubuntu')).status).toBe(200);
    expect((await get('main_archive')).json()).toBe('http://mirror.example/ubuntu');
    const repos = (await h.call(user, 'GET', `${API}/package-repositories/`)).json() as { name: string; url: string }[];
    expect(repos.find((r) => r.name === 'main_archive')!.url).toBe('http://mirror.example/ubuntu');
    expect((await set('main_archive', 'not a url')).json()).toEqual({ main_archive: ['Enter a valid URL.'] });
    expect((await set('ports_archive', '')).status).toBe(400);
    expect((await set('ports_archive', 'http://x.example/', user)).status).toBe(403);
    expect((await set('main_archive', 'http://archive.ubuntu.com/ubuntu')).status).toBe(200);
  });

  it('seals credentials at rest and shows them to administrators only', async () => {
    expect((await set('vcenter_password', 'hunter2')).status).toBe(200);
    expect((await get('vcenter_password', admin)).json()).toBe('hunter2');
    expect((await get('vcenter_password', user)).status).toBe(403);
    const [row] = await h.ds.query(`SELECT value FROM config WHERE name = 'vcenter_password'`);
    expect(row.value).toMatch(/^kiln-enc:v1:/);
  });

  it('drops its cached settings when another region (here: the table itself) changes them', async () => {
    expect((await get('upstream_dns')).json()).toBeNull();
    // A write that does not go through this region: only the Postgres notification tells it.
    await h.ds.query(`INSERT INTO config (name, value) VALUES ('upstream_dns', '"9.9.9.9"') ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`);
    await pollUntil(async () => (await get('upstream_dns')).json(), (v) => v === '9.9.9.9', { timeoutMs: 5000 });
  });

  it('puts kernel_opts on the command line the racks boot machines with', async () => {
    await h.bus.request(RegisterRack, ['cfg-rack'], { rackId: 'cfg-rack', hostname: 'cfg-rack', interfaces: [{ name: 'eth1', mac: '52:54:00:cf:00:01', addresses: ['10.77.0.2/24'] }] });
    await registerBootImage(h, { version: 'v1', files: { 'boot-kernel': Buffer.from('k'), 'boot-initrd': Buffer.from('i'), squashfs: Buffer.from('s') } });
    const ask = async () => {
      const c = await h.bus.request(GetBootConfig, ['cfg-rack'], { rackId: 'cfg-rack', mac: '52:54:00:cf:00:99', serverAddress: '10.77.0.2', clientArch: 7 });
      return 'cmdline' in c ? c.cmdline : '';
    };
    expect(await ask()).toMatch(/get_enlist_preseed$/);
    expect((await set('kernel_opts', 'console=ttyS1,115200 nomodeset')).status).toBe(200);
    expect(await ask()).toMatch(/get_enlist_preseed console=ttyS1,115200 nomodeset$/);

    // A known machine's tags with kernel options add theirs after the setting's, by tag name.
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: '52:54:00:cf:00:98', power_type: 'manual', commission: 'false' });
    const sid = (created.json() as { system_id: string }).system_id;
    for (const [name, opts] of [['zz-serial', 'console=ttyS2'], ['aa-iommu', 'intel_iommu=on'], ['plain', '']]) {
      expect((await h.call(admin, 'POST', `${API}/tags/`, { name, kernel_opts: opts })).status).toBe(200);
      expect((await h.call(admin, 'POST', `${API}/tags/${name}/?op=update_nodes`, { add: sid })).status).toBe(200);
    }
    const known = await h.bus.request(GetBootConfig, ['cfg-rack'], { rackId: 'cfg-rack', mac: '52:54:00:cf:00:98', serverAddress: '10.77.0.2', clientArch: 7 });
    expect('cmdline' in known ? known.cmdline : '').toMatch(/get_preseed console=ttyS1,115200 nomodeset intel_iommu=on console=ttyS2$/);
  });

  it('deploys with default_osystem/default_distro_series when no series is given', async () => {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: '52:54:00:cf:10:01', power_type: 'manual', deployed: 'true' });
    const sid = (created.json() as { system_id: string }).system_id;
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
    expect((await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    await registerDeployableImage(h, { name: 'ubuntu/noble', version: 'test' });
    expect((await set('default_osystem', 'ubuntu')).status).toBe(200);
    expect((await set('default_distro_series', 'noble')).status).toBe(200);
    const d = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=deploy`);
    expect(d.status).toBe(200);
    expect(d.json()).toMatchObject({ osystem: 'ubuntu', distro_series: 'noble' });
  });

  it('lists MaasHandler in describe/ with :param docs naming what Kiln acts on', async () => {
    const doc = (await h.call(null, 'GET', `${API}/describe/`)).json() as { resources: { name: string; auth: { path: string; actions: { name: string; doc: string; method: string }[] } }[] };
    const maas = doc.resources.find((r) => r.name === 'MaasHandler')!.auth;
    expect(maas.path).toBe('/MAAS/api/2.0/maas/');
    const ops = Object.fromEntries(maas.actions.map((a) => [a.name, a]));
    expect(ops.get_config.method).toBe('GET');
    expect(ops.set_config.method).toBe('POST');
    expect(ops.set_config.doc).toMatch(/:param name:/);
    expect(ops.set_config.doc).toMatch(/:param value:/);
    expect(ops.get_config.doc).toMatch(/not acted on yet/);
  });
});
