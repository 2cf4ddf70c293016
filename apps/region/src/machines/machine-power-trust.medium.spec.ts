/**
 * Who may say how a machine is powered: administrators set BMCs and webhook URLs; an anonymous
 * enlistment may only fill in what a machine's BMC record lacks.
 */
import { ApiKey, RegionHarness } from '../testing/region.harness';

type Machine = Record<string, unknown> & { system_id: string; status_name: string };

const API = '/MAAS/api/2.0';
let macCounter = 0;
const nextMac = () => `52:54:00:bb:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

const webhook = {
  power_type: 'webhook',
  power_parameters_power_on_uri: 'http://169.254.169.254/latest/meta-data/',
  power_parameters_power_off_uri: 'http://169.254.169.254/latest/meta-data/',
  power_parameters_power_query_uri: 'http://169.254.169.254/latest/meta-data/',
};

describe('power settings: who may set them', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
  });
  afterAll(() => h.stop());

  const count = async () => ((await h.ds.query(`SELECT count(*)::int AS n FROM machines`)) as { n: number }[])[0].n;

  it('refuses a non-admin who sets a webhook or any power parameters, with the reason, and creates nothing', async () => {
    const before = await count();
    const bodies: Record<string, string>[] = [
      { architecture: 'amd64', mac_addresses: nextMac(), ...webhook },
      { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'ipmi', power_parameters_power_address: '10.0.0.1' },
      { architecture: 'amd64', mac_addresses: nextMac(), power_parameters: JSON.stringify({ power_address: '10.0.0.1' }) },
    ];
    for (const body of bodies) {
      const r = await h.call(alice, 'POST', `${API}/machines/`, body);
      expect(r.status).toBe(403);
      expect(r.text).toBe('Only administrators may set the power type or power parameters (BMC settings) of a machine.');
    }
    expect(await count()).toBe(before);

    // Without power settings a non-admin still adds a machine; changing its power is refused.
    const plain = await h.call(alice, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac() });
    expect(plain.status).toBe(200);
    const sid = (plain.json() as Machine).system_id;
    const update = await h.call(alice, 'PUT', `${API}/machines/${sid}/`, webhook);
    expect(update.status).toBe(403);
    expect(update.text).toContain('permission');
    expect((await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json()).toMatchObject({ power_type: '' });
  });

  it('refuses webhook URLs from an anonymous enlistment, and lets an admin set them', async () => {
    const anon = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), commission: 'true', ...webhook });
    // A 400 naming the field: a 403 would read to a runner as a clock to correct, and it would retry.
    expect(anon.status).toBe(400);
    expect(anon.json()).toEqual({ power_type: ['An enlisting machine may not set webhook power URLs; an administrator sets them.'] });

    const byAdmin = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), commission: 'false', ...webhook });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.json()).toMatchObject({ power_type: 'webhook' });
  });

  it('an anonymous enlistment reusing a New machine\'s MAC keeps its BMC address and credentials, and only fills in what is missing', async () => {
    const mac = nextMac();
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: mac,
      commission: 'false',
      power_type: 'ipmi',
      power_parameters_power_address: '10.44.0.9',
      power_parameters_power_user: 'ADMIN',
      power_parameters_power_pass: 'operator-pw',
    });
    expect(created.status).toBe(200);
    const sid = (created.json() as Machine).system_id;

    for (const report of [
      { power_address: '10.66.6.6', power_user: 'attacker', power_pass: 'attacker-pw' },
      { power_address: '10.44.0.9', power_user: '', power_pass: '' },
    ]) {
      const enlist = await h.call(null, 'POST', `${API}/machines/`, {
        architecture: 'amd64',
        mac_addresses: mac,
        power_type: 'ipmi',
        power_parameters: JSON.stringify({ ...report, power_driver: 'LAN_2_0' }),
      });
      expect(enlist.status).toBe(200);
      expect((enlist.json() as Machine).system_id).toBe(sid);
      expect((await h.call(admin, 'GET', `${API}/machines/${sid}/?op=power_parameters`)).json()).toMatchObject({
        power_address: '10.44.0.9',
        power_user: 'ADMIN',
        power_pass: 'operator-pw',
      });
    }

    // A machine an operator added without a BMC gets the one its enlistment reports.
    const bare = nextMac();
    const noBmc = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: bare, commission: 'false' });
    const bareSid = (noBmc.json() as Machine).system_id;
    const filled = await h.call(null, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: bare,
      power_type: 'ipmi',
      power_parameters: JSON.stringify({ power_address: '10.44.0.10', power_user: 'maas', power_pass: 'script-pw' }),
    });
    expect((filled.json() as Machine).system_id).toBe(bareSid);
    expect((await h.call(admin, 'GET', `${API}/machines/${bareSid}/?op=power_parameters`)).json()).toMatchObject({
      power_address: '10.44.0.10',
      power_user: 'maas',
      power_pass: 'script-pw',
    });
  });
});
