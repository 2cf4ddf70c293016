import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { RackProcess, VmLab } from '../testing/vm-lab.harness';

const run = promisify(execFile);
const API = '/MAAS/api/2.0';
const LAB = resolve(__dirname, '../../../../tools/lab');

interface Discovery {
  ip: string;
  mac_address: string;
  hostname: string | null;
  vid: number | null;
  observer: { system_id: string; interface_name: string };
}

/**
 * A real DHCP client (busybox udhcpc, sending a hostname) on the lab's switch gets a lease from a
 * real rack serving the network it found on rack0; the lease the rack reports makes a discovery.
 */
describe('discoveries/ fed by a real DHCP client against a rack process (e2e)', () => {
  const lab = new VmLab();
  const rack = new RackProcess();
  const MAC = '52:54:00:d1:5c:01';
  let h: RegionHarness | undefined;
  let admin: ApiKey;

  beforeAll(async () => {
    VmLab.assertRoot();
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000' });
    admin = await h.createUser('admin', true);
    await lab.up();
    await lab.startServingRack(rack, h, admin, { stateDir: join(lab.dir, 'rack'), hostname: `rack-${lab.prefix}` });
    // A client port on the lab's switch.
    const ns = lab.ns('machines');
    await run('ip', ['-n', ns, 'link', 'add', 'cl0', 'address', MAC, 'type', 'veth', 'peer', 'name', 'cl0-sw']);
    await run('ip', ['-n', ns, 'link', 'set', 'cl0-sw', 'master', 'br0', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'cl0', 'up']);
  }, 120_000);
  afterAll(async () => {
    await lab.stopAll(rack, h);
  });

  it('lists the client with the address it was leased, its hostname and the rack interface that saw it', async () => {
    await run(join(LAB, 'dhcp-client.sh'), ['udhcpc', lab.ns('machines'), 'cl0', join(lab.dir, 'client'), '-x', 'hostname:disc-client'], { timeout: 30_000 });
    const found = await pollUntil(
      async () => ((await h!.call(admin, 'GET', `${API}/discoveries/`)).json() as Discovery[]).find((d) => d.mac_address === MAC),
      (d) => d !== undefined,
      { timeoutMs: 15_000, what: 'the client in discoveries/' },
    );
    expect(found!.ip).toMatch(/^10\.77\.0\.1\d\d$/);
    expect(found).toMatchObject({ hostname: 'disc-client', vid: 0, observer: { interface_name: 'rack0' } });
    const unknown = (await h!.call(admin, 'GET', `${API}/discoveries/?op=by_unknown_ip_and_mac`)).json() as Discovery[];
    expect(unknown.map((d) => d.mac_address)).toContain(MAC);
  }, 60_000);
});
