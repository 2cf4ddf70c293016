import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { RackProcess, VmLab } from '../testing/vm-lab.harness';

const run = promisify(execFile);
const API = '/MAAS/api/2.0';

interface Discovery {
  ip: string;
  mac_address: string;
  observer: { system_id: string; interface_name: string };
}

/**
 * A host with a fixed address (no DHCP) on the lab's switch talks to a real rack process: the
 * rack's kernel learns it by ARP, the rack reports it, and it shows in discoveries/ with source arp.
 */
describe('discoveries/ fed by the hosts a rack process sees by ARP (e2e)', () => {
  const lab = new VmLab();
  const rack = new RackProcess();
  const MAC = '52:54:00:a7:e2:01';
  const PEER_IP = '10.77.0.240';
  let h: RegionHarness | undefined;
  let admin: ApiKey;

  beforeAll(async () => {
    VmLab.assertRoot();
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000' });
    admin = await h.createUser('admin', true);
    await lab.up();
    await lab.startServingRack(rack, h, admin, {
      stateDir: join(lab.dir, 'rack'),
      hostname: `rack-${lab.prefix}`,
      env: { KILN_RACK_NEIGHBOURS_POLL_SECONDS: '1', KILN_RACK_NEIGHBOURS_REPORT_SECONDS: '1' },
    });
    // A host port on the lab's switch, with a static address on the rack's network.
    const ns = lab.ns('machines');
    await run('ip', ['-n', ns, 'link', 'add', 'arp0', 'address', MAC, 'type', 'veth', 'peer', 'name', 'arp0-sw']);
    await run('ip', ['-n', ns, 'link', 'set', 'arp0-sw', 'master', 'br0', 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${PEER_IP}/24`, 'dev', 'arp0']);
    await run('ip', ['-n', ns, 'link', 'set', 'arp0', 'up']);
  }, 120_000);
  afterAll(async () => {
    await lab.stopAll(rack, h);
  });

  it('lists the host with its address, MAC, the rack interface and the rack that saw it', async () => {
    const before = ((await h!.call(admin, 'GET', `${API}/discoveries/`)).json() as Discovery[]).filter((d) => d.mac_address === MAC);
    expect(before).toEqual([]);
    // The host ARPs for the rack's address (busybox, which udhcpc brings): its requests put it in the
    // rack's neighbour table, and the rack answers.
    const { stdout } = await run('ip', ['netns', 'exec', lab.ns('machines'), 'busybox', 'arping', '-c', '2', '-w', '3', '-I', 'arp0', '10.77.0.1'], { timeout: 15_000 });
    expect(stdout).toMatch(/Received [12] response/);
    const found = await pollUntil(
      async () => ((await h!.call(admin, 'GET', `${API}/discoveries/`)).json() as Discovery[]).find((d) => d.mac_address === MAC),
      (d) => d !== undefined,
      { timeoutMs: 20_000, what: 'the host in discoveries/' },
    );
    const rackId = (await h!.ds.query(`SELECT system_id FROM rack_controllers WHERE hostname = $1`, [`rack-${lab.prefix}`]))[0].system_id as string;
    expect(found).toMatchObject({ ip: PEER_IP, mac_address: MAC, observer: { system_id: rackId, interface_name: 'rack0' } });
    const rows: { source: string; count: number }[] = await h!.ds.query(`SELECT source, count FROM neighbours WHERE mac_address = $1`, [MAC]);
    expect(rows).toEqual([{ source: 'arp', count: expect.any(Number) }]);
    expect(rows[0].count).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
