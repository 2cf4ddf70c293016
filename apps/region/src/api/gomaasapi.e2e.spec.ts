import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { registerDeployableImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const run = promisify(execFile);
const API = '/MAAS/api/2.0';
type Json = Record<string, unknown>;
const PROBE_SOURCE = resolve(__dirname, '../../../../tools/clients/gomaasapi');
/** Debian's Go sources (golang-github-juju-gomaasapi-dev and its dependencies), built offline. */
const DEBIAN_GOPATH = '/usr/share/gocode';

interface Link { id: number; mode: string; ipAddress: string; subnetId: number; cidr: string }
interface Iface { id: number; name: string; type: string; enabled: boolean; macAddress: string; effectiveMtu: number; parents: string[]; children: string[]; tags: string[]; vlanId: number; vid: number; links: Link[] }
interface Partition { id: number; path: string; size: number; uuid: string; fsType: string; mountPoint: string }
interface Block { id: number; name: string; model: string; idPath: string; path: string; size: number; blockSize: number; tags: string[]; partitions: Partition[] }
interface Machine {
  systemId: string; hostname: string; fqdn: string; statusName: string; powerState: string; architecture: string; memory: number; cpuCount: number;
  tags: string[]; zone: string; pool: string; ipAddresses: string[]; bootInterface: string; interfaces: Iface[]; blockDevices: Block[]; physicalBlockDevices: number;
  ownerData: Record<string, string>;
}
interface Device { systemId: string; hostname: string; fqdn: string; parent: string; owner: string; zone: string; ipAddresses: string[]; interfaces: Iface[] }
interface Summary {
  version: string; capabilities: string[]; bootResources: string[];
  fabrics: { id: number; name: string; classType: string; vlans: { id: number; name: string; fabric: string; vid: number; mtu: number; dhcp: boolean }[] }[];
  spaces: { id: number; name: string; subnets: { id: number; name: string; cidr: string; space: string; gateway: string; dnsServers: string[]; vlanId: number }[] }[];
  staticRoutes: string[]; zones: string[]; pools: string[]; poolsError: string; domains: string[]; tags: string[];
  machines: Machine[]; machinesByTag: string[]; machinesByZoneAndPool: string[]; impossibleAllocationIsNoMatch: boolean;
  allocatedMachineDevices: string[]; missingFileIsNoMatch: boolean;
  allocated: { systemId: string; hostname: string; statusName: string; matches: Record<string, number[]>; ownerData: Record<string, string>; startedStatusName: string; startedDistroSeries: string; startedOS: string };
  released: string[]; devices: Device[]; createdDevice: Device; createdInterface: Iface; deviceDeleted: boolean;
  files: string[]; fileContent: string; fileAnonymousUrl: string;
}

/**
 * Juju's own MAAS client (github.com/juju/gomaasapi, as Debian packages it) against a real region:
 * its v2 Controller checks every answer with strict schemas, so a missing field or a wrong type in
 * any of Kiln's answers fails the probe. tools/test.sh installs Go and the client's sources.
 */
describe('gomaasapi (Juju\'s MAAS client) against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let workdir: string;
  let probe: string;
  const net = { fabric: 0, vlan: 0, subnet: 0, other: 0, space: 0 };
  const machines: { sid: string; hostname: string; eth0: number; sda: number; part: number }[] = [];

  const ok = async (method: string, path: string, body?: Record<string, string | string[]>): Promise<Json> => {
    const r = await h.call(admin, method, `${API}/${path}`, body);
    if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
    return r.json() as Json;
  };
  const go = (args: string[], cwd: string) =>
    run('go', args, {
      cwd,
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${workdir}/gopath:${DEBIAN_GOPATH}`, GOFLAGS: '', GOCACHE: `${workdir}/gocache`, GOPROXY: 'off' },
      maxBuffer: 16 * 1024 * 1024,
    });

  beforeAll(async () => {
    workdir = mkdtempSync(join(tmpdir(), 'kiln-gomaasapi-'));
    probe = join(workdir, 'gomaasapi-probe');
    const build = go(['build', '-o', probe, '.'], PROBE_SOURCE);
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    await registerDeployableImage(h, { name: 'ubuntu/jammy', version: 'gomaas' });

    const fabric = await ok('POST', 'fabrics/', { name: 'fabric-juju' });
    net.fabric = fabric.id as number;
    net.vlan = (fabric.vlans as { id: number; vid: number }[]).find((v) => v.vid === 0)!.id;
    net.space = (await ok('POST', 'spaces/', { name: 'space-juju' })).id as number;
    // A VLAN's subnets are in its space (MAAS 2.4+).
    await ok('PUT', `vlans/${net.vlan}/`, { space: 'space-juju' });
    net.subnet = (await ok('POST', 'subnets/', { cidr: '10.77.0.0/24', vlan: String(net.vlan), gateway_ip: '10.77.0.1', dns_servers: '10.77.0.53' })).id as number;
    net.other = (await ok('POST', 'subnets/', { cidr: '10.78.0.0/24', vlan: String(net.vlan), gateway_ip: '10.78.0.1' })).id as number;
    await ok('POST', 'static-routes/', { source: String(net.subnet), destination: String(net.other), gateway_ip: '10.77.0.254', metric: '5' });
    await ok('POST', 'zones/', { name: 'zone-a', description: 'rack A' });
    await ok('POST', 'zones/', { name: 'zone-b', description: 'rack B' });
    await ok('POST', 'resourcepools/', { name: 'pool-juju', description: 'for Juju' });
    await ok('POST', 'tags/', { name: 'gpu', comment: 'has a GPU' });

    for (const [n, zone, mem] of [[1, 'zone-a', 8192], [2, 'zone-b', 16384]] as const) {
      const mac = `52:54:00:77:00:0${n}`;
      const created = await ok('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: mac, hostname: `juju-node-${n}`, power_type: 'manual', deployed: 'true' });
      const sid = created.system_id as string;
      await h.ds.query(`UPDATE interfaces SET name = 'eth0', vlan_id = $2 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [sid, net.vlan]);
      const [disk]: { id: number }[] = await h.ds.query(
        `INSERT INTO block_devices (machine_id, name, size, model, serial, is_boot, tags)
         SELECT id, 'sda', 100000000000, 'QEMU HARDDISK', 'QM000${n}', true, '{ssd}'::text[] FROM machines WHERE system_id = $1 RETURNING id`,
        [sid],
      );
      expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
      await ok('PUT', `machines/${sid}/`, { zone, pool: 'pool-juju', cpu_count: String(2 * n), memory: String(mem) });
      const [iface]: { id: number }[] = await h.ds.query(`SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`, [sid]);
      await ok('POST', `nodes/${sid}/interfaces/${iface.id}/?op=link_subnet`, { mode: 'STATIC', subnet: String(net.subnet), ip_address: `10.77.0.1${n}` });
      const part = await ok('POST', `nodes/${sid}/blockdevices/${disk.id}/partitions/`, { size: '20G' });
      await ok('POST', `nodes/${sid}/blockdevices/${disk.id}/partition/${part.id as number}?op=format`, { fstype: 'ext4' });
      await ok('POST', `nodes/${sid}/blockdevices/${disk.id}/partition/${part.id as number}?op=mount`, { mount_point: '/' });
      machines.push({ sid, hostname: `juju-node-${n}`, eth0: iface.id, sda: disk.id, part: part.id as number });
    }
    await ok('POST', 'tags/gpu/?op=update_nodes', { add: machines[1].sid });
    await build;
  }, 240_000);
  afterAll(async () => {
    await h?.stop();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('reads, allocates, releases, creates devices and stores files with every answer passing its schemas', async () => {
    const key = `${admin.consumerKey}:${admin.tokenKey}:${admin.tokenSecret}`;
    let out: string;
    try {
      ({ stdout: out } = await run(probe, [
        '-url', `${h.baseUrl}/MAAS/`, '-key', key, '-tag', 'gpu', '-zone', 'zone-b', '-pool', 'pool-juju', '-space', 'space-juju',
        '-min-memory', '12000', '-storage-gb', '50', '-distro-series', 'jammy', '-device-mac', '52:54:00:77:01:01', '-device-iface-mac', '52:54:00:77:01:02',
      ], { maxBuffer: 16 * 1024 * 1024 }));
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string };
      throw new Error(`gomaasapi probe failed: ${err.stderr ?? ''}${err.stdout ?? ''}`);
    }
    const s = JSON.parse(out) as Summary;

    expect(s.version).toBe(((await ok('GET', 'version/')) as { version: string }).version);
    expect(s.capabilities).toEqual(expect.arrayContaining(['networks-management', 'static-ipaddresses']));
    expect(s.bootResources).toContain('ubuntu/jammy/amd64/generic');

    const fabrics = (await ok('GET', 'fabrics/')) as unknown as { id: number; name: string; vlans: { id: number }[] }[];
    expect(s.fabrics.map((f) => [f.id, f.name, f.vlans.length])).toEqual(fabrics.map((f) => [f.id, f.name, f.vlans.length]));
    const juju = s.fabrics.find((f) => f.id === net.fabric)!;
    expect(juju.vlans).toEqual([{ id: net.vlan, name: 'untagged', fabric: 'fabric-juju', vid: 0, mtu: 1500, dhcp: false }]);

    const space = s.spaces.find((x) => x.id === net.space)!;
    expect(space.name).toBe('space-juju');
    // The space belongs to the VLAN (as in MAAS 2.4+), so both of its subnets are in it.
    expect(space.subnets).toEqual([
      { id: net.subnet, name: '10.77.0.0/24', cidr: '10.77.0.0/24', space: 'space-juju', gateway: '10.77.0.1', dnsServers: ['10.77.0.53'], vlanId: net.vlan },
      { id: net.other, name: '10.78.0.0/24', cidr: '10.78.0.0/24', space: 'space-juju', gateway: '10.78.0.1', dnsServers: [], vlanId: net.vlan },
    ]);
    expect(s.staticRoutes).toEqual(['10.77.0.0/24->10.78.0.0/24 via 10.77.0.254 metric 5']);
    expect(s.zones.sort()).toEqual(['default', 'zone-a', 'zone-b']);
    // gomaasapi asks for pools/, an endpoint MAAS does not have (it has resourcepools/): 404 as from MAAS.
    expect(s.pools).toEqual([]);
    expect(s.poolsError).toContain('404');
    expect(s.domains.length).toBeGreaterThan(0);
    expect(s.tags).toEqual(['gpu']);

    expect(s.machines.map((m) => m.hostname)).toEqual(['juju-node-1', 'juju-node-2']);
    for (const [i, m] of s.machines.entries()) {
      const seeded = machines[i];
      const held = (await ok('GET', `machines/${seeded.sid}/`)) as Json & { fqdn: string; memory: number; cpu_count: number };
      expect(m).toMatchObject({
        systemId: seeded.sid, fqdn: held.fqdn, statusName: 'Ready', architecture: 'amd64/generic', memory: i === 0 ? 8192 : 16384, cpuCount: 2 * (i + 1),
        tags: i === 1 ? ['gpu'] : [], zone: i === 0 ? 'zone-a' : 'zone-b', pool: 'pool-juju', bootInterface: 'eth0', physicalBlockDevices: 1,
      });
      expect(m.interfaces).toHaveLength(1);
      expect(m.interfaces[0]).toMatchObject({ id: seeded.eth0, name: 'eth0', type: 'physical', enabled: true, macAddress: `52:54:00:77:00:0${i + 1}`, vlanId: net.vlan, vid: 0, parents: [], children: [] });
      expect(m.interfaces[0].links).toEqual([{ id: expect.any(Number), mode: 'static', ipAddress: `10.77.0.1${i + 1}`, subnetId: net.subnet, cidr: '10.77.0.0/24' }]);
      expect(m.blockDevices).toHaveLength(1);
      expect(m.blockDevices[0]).toMatchObject({ id: seeded.sda, name: 'sda', model: 'QEMU HARDDISK', size: 100000000000, tags: ['ssd'] });
      const part = m.blockDevices[0].partitions.find((p) => p.id === seeded.part)!;
      expect(part).toMatchObject({ fsType: 'ext4', mountPoint: '/' });
      expect(part.size).toBeGreaterThan(19_000_000_000);
      expect(part.uuid).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(s.machinesByTag).toEqual(['juju-node-2']);
    expect(s.machinesByZoneAndPool).toEqual(['juju-node-2']);
    expect(s.impossibleAllocationIsNoMatch).toBe(true);

    // Allocation picked the one machine meeting every constraint and said which interface and disk matched.
    expect(s.allocated).toMatchObject({ systemId: machines[1].sid, hostname: 'juju-node-2', statusName: 'Allocated', ownerData: { 'juju-model-uuid': 'probe-model', 'juju-machine-id': '0' } });
    // Started (deployed) with the release the region holds, then released while deploying.
    expect(s.allocated).toMatchObject({ startedStatusName: 'Deploying', startedDistroSeries: 'jammy', startedOS: 'ubuntu' });
    expect(s.allocated.matches).toEqual({ 'interfaces:net0': [machines[1].eth0], 'storage:root': [machines[1].sda] });
    expect(s.released).toEqual([machines[1].sid]);
    expect(((await ok('GET', `machines/${machines[1].sid}/`)) as { status_name: string }).status_name).toBe('Ready');

    // The container's device: its first interface renamed onto the subnet's VLAN, a second one
    // created, both linked STATIC with addresses the region picked from the subnet.
    expect(s.createdDevice).toMatchObject({ hostname: 'juju-probe-device', parent: machines[1].sid, owner: 'admin' });
    expect(s.createdInterface).toMatchObject({ name: 'eth1', type: 'physical', macAddress: '52:54:00:77:01:02', vlanId: net.vlan, tags: ['probe'] });
    const devIfaces = s.createdDevice.interfaces.map((i) => [i.name, i.macAddress, i.vlanId, i.links.map((l) => [l.mode, l.cidr])]);
    expect(devIfaces).toEqual([
      ['eth0', '52:54:00:77:01:01', net.vlan, [['static', '10.77.0.0/24']]],
      ['eth1', '52:54:00:77:01:02', net.vlan, [['static', '10.77.0.0/24']]],
    ]);
    const devIps = s.createdDevice.interfaces.map((i) => i.links[0].ipAddress);
    expect(new Set(devIps).size).toBe(2);
    expect([...s.createdDevice.ipAddresses].sort()).toEqual([...devIps].sort());
    // Not the machines' addresses (10.77.0.11, 10.77.0.12) nor the gateway.
    for (const ip of devIps) expect(ip).toMatch(/^10\.77\.0\.(\d+)$/);
    expect(devIps).not.toEqual(expect.arrayContaining(['10.77.0.1', '10.77.0.11', '10.77.0.12']));
    expect(s.allocatedMachineDevices).toEqual(['juju-probe-device']);
    const device = s.devices.find((d) => d.systemId === s.createdDevice.systemId)!;
    expect(device).toEqual(s.createdDevice);
    // Deleted as Juju deletes a container's device, its addresses go back to the subnet.
    expect(s.deviceDeleted).toBe(true);
    const held: unknown[] = await h.ds.query(`SELECT 1 FROM static_ip_addresses WHERE host(ip) = ANY($1)`, [devIps]);
    expect(held).toEqual([]);

    expect(s.files).toEqual(['juju-probe-state']);
    expect(s.missingFileIsNoMatch).toBe(true);
    expect(s.fileContent).toBe('provider-state: juju-probe\n');
    // What Juju hands its agents: a URL that reads the file without credentials.
    const anon = await fetch(s.fileAnonymousUrl);
    expect(anon.status).toBe(200);
    expect(await anon.text()).toBe('provider-state: juju-probe\n');
  }, 120_000);
});
