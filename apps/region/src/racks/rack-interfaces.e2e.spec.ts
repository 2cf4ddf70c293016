import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { RackProcess, VmLab } from '../testing/vm-lab.harness';

const run = promisify(execFile);
const API = '/MAAS/api/2.0';

interface IfaceJson {
  name: string;
  type: string;
  vlan: { id: number; vid: number; fabric_id: number } | null;
  links: { ip_address: string; subnet?: { cidr: string } }[];
}

/**
 * A running rack process re-reads its interfaces: an interface and a VLAN interface on it,
 * given addresses in the rack's namespace after it registered, are reported to the region within
 * 30 s, which makes their networks (a new fabric with the untagged VLAN and VLAN 200, both subnets)
 * and shows them in rackcontrollers/; when they go, they leave the rack's interfaces.
 */
describe('a rack process reports its interfaces when they change (e2e, namespaces)', () => {
  const lab = new VmLab();
  const rack = new RackProcess();
  let h: RegionHarness | undefined;
  let admin: ApiKey;
  let rackId: string;

  const inRack = (...args: string[]) => run('ip', ['-n', lab.ns('rack'), ...args], { timeout: 10_000 });
  const interfaces = async (): Promise<Record<string, IfaceJson>> => {
    const r = await h!.call(admin, 'GET', `${API}/rackcontrollers/${rackId}/`);
    if (r.status !== 200) return {};
    return Object.fromEntries((r.json() as { interface_set: IfaceJson[] }).interface_set.map((i) => [i.name, i]));
  };

  beforeAll(async () => {
    VmLab.assertRoot();
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000' });
    admin = await h.createUser('admin', true);
    await lab.up();
    const nats = new URL(h.config.nats.url);
    await lab.forwardIntoRack(4222, { host: nats.hostname, port: Number(nats.port || 4222) });
    const enrolled = await h.provisionRack({ hostname: `rack-${lab.prefix}`, stateDir: join(lab.dir, 'rack') });
    rackId = enrolled.rackId;
    rack.start(lab.ns('rack'), {
      ...enrolled.env,
      KILN_NATS_URL: 'nats://127.0.0.1:4222',
      KILN_RACK_HOSTNAME: `rack-${lab.prefix}`,
      KILN_RACK_SERVICES: 'http',
      KILN_RACK_HTTP_PORT: '5248',
      KILN_LOG_LEVEL: 'info',
    });
    await pollUntil(interfaces, (i) => i.rack0?.vlan !== undefined && i.rack0.vlan !== null, { timeoutMs: 30_000, what: 'the rack to register with rack0' });
  }, 90_000);
  afterAll(async () => {
    await lab.stopAll(rack, h);
  });

  it('registers rack0 on the network of its address', async () => {
    const i = await interfaces();
    expect(i.rack0.links.map((l) => l.subnet?.cidr)).toEqual(['10.77.0.0/24']);
    expect(i.rack0.vlan!.vid).toBe(0);
  });

  it('reports an interface added with an address, and a VLAN interface on it, within 30 s', async () => {
    // veths (one end with an address; the peer up too, as an interface without carrier is not listed):
    // dummy and 8021q VLAN devices need kernel modules CI may lack, and the rack reads a VLAN
    // interface's id and parent from its name (eth0.100), so a veth named kdummy0.200 stands in for one.
    for (const [name, peer, addr] of [
      ['kdummy0', 'kpeer0', '10.88.0.1/24'],
      ['kdummy0.200', 'kpeer1', '10.89.0.1/24'],
    ]) {
      await inRack('link', 'add', name, 'type', 'veth', 'peer', 'name', peer);
      await inRack('addr', 'add', addr, 'dev', name);
      await inRack('link', 'set', name, 'up');
      await inRack('link', 'set', peer, 'up');
    }
    const started = Date.now();
    const i = await pollUntil(interfaces, (x) => Boolean(x.kdummy0?.vlan && x['kdummy0.200']?.vlan), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'the new interfaces in rackcontrollers/',
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(i.kdummy0.links).toEqual([expect.objectContaining({ ip_address: '10.88.0.1', subnet: expect.objectContaining({ cidr: '10.88.0.0/24' }) })]);
    expect(i.kdummy0.vlan!.vid).toBe(0);
    expect(i.kdummy0.vlan!.fabric_id).not.toBe(i.rack0.vlan!.fabric_id);
    expect(i['kdummy0.200']).toMatchObject({ type: 'vlan', vlan: { vid: 200, fabric_id: i.kdummy0.vlan!.fabric_id } });
    expect(i['kdummy0.200'].links[0].subnet?.cidr).toBe('10.89.0.0/24');
    expect(rack.lines('interfaces changed; reported to the region').length).toBeGreaterThan(0);
  }, 40_000);

  it('drops the interfaces once they are gone', async () => {
    // Deleting one end of a veth deletes its peer.
    await inRack('link', 'del', 'kdummy0.200');
    await inRack('link', 'del', 'kdummy0');
    const i = await pollUntil(interfaces, (x) => !x.kdummy0 && !x['kdummy0.200'], { timeoutMs: 30_000, intervalMs: 250, what: 'the interfaces to be dropped' });
    expect(Object.keys(i)).toContain('rack0');
  }, 40_000);
});
