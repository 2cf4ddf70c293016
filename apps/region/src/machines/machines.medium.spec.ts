import { pollUntil } from '@kiln/testing';
import { registerDeployableImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { MachineJobsWorker } from './machine-jobs.worker';

type Machine = Record<string, unknown> & { system_id: string; status: number; status_name: string; owner: string | null };

const API = '/MAAS/api/2.0';
let macCounter = 0;
const nextMac = () => `52:54:00:aa:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

describe('machines against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let bob: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    // Deploy installs only releases the region holds an image of.
    await registerDeployableImage(h, { version: 'test' });
    await registerDeployableImage(h, { name: 'ubuntu/jammy', version: 'test' });
    alice = await h.createUser('alice', false);
    bob = await h.createUser('bob', false);
  });
  afterAll(() => h.stop());

  async function readyMachine(extra: Record<string, string> = {}): Promise<Machine> {
    // Adopt a running server (deployed=true), then release it: with manual power it is Ready at once.
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64/generic',
      mac_addresses: nextMac(),
      power_type: 'manual',
      deployed: 'true',
      ...extra,
    });
    expect(created.status).toBe(200);
    const m = created.json() as Machine;
    const released = await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=release`);
    expect(released.status).toBe(200);
    expect(released.json()).toMatchObject({ status: 4, status_name: 'Ready', owner: null });
    return released.json() as Machine;
  }

  async function events(systemId: string, level = 'DEBUG') {
    const r = await h.call(admin, 'GET', `${API}/events/?op=query&id=${systemId}&level=${level}`);
    expect(r.status).toBe(200);
    return (r.json() as { events: { id: number; type: string; level: string; description: string; created: string }[] }).events;
  }

  it('creates a machine with every field of the MAAS machine JSON, and commissions it when an admin creates it', async () => {
    const r = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: ['52-54-00-11-22-33', '5254.0011.2234'],
      hostname: 'alpha',
      power_type: 'manual',
    });
    expect(r.status).toBe(200);
    const m = r.json() as Machine;
    expect(m).toMatchObject({
      hostname: 'alpha',
      fqdn: 'alpha.maas',
      architecture: 'amd64/generic',
      status: 1,
      status_name: 'Commissioning',
      power_type: 'manual',
      node_type: 0,
      node_type_name: 'Machine',
      resource_uri: `${API}/machines/${m.system_id}/`,
    });
    expect(m.system_id).toMatch(/^[0-9a-z]{6}$/);
    const macs = (m.interface_set as { mac_address: string }[]).map((i) => i.mac_address);
    expect(macs).toEqual(['52:54:00:11:22:33', '52:54:00:11:22:34']);
    for (const key of [
      'description', 'hardware_uuid', 'domain', 'owner_data', 'workload_annotations', 'locked', 'cache_sets', 'bcaches', 'raids',
      'volume_groups', 'bios_boot_method', 'boot_interface', 'min_hwe_kernel', 'hwe_kernel', 'cpu_count', 'cpu_speed', 'memory',
      'swap_size', 'storage', 'status_message', 'status_action', 'osystem', 'distro_series', 'ephemeral_deploy', 'error_description',
      'netboot', 'power_state', 'tag_names', 'address_ttl', 'ip_addresses', 'zone', 'pool', 'disable_ipv4', 'constraints_by_type',
      'boot_disk', 'blockdevice_set', 'physicalblockdevice_set', 'virtualblockdevice_set', 'special_filesystems', 'parent',
      'default_gateways', 'current_commissioning_result_id', 'current_testing_result_id', 'current_installation_result_id',
      'commissioning_status', 'commissioning_status_name', 'testing_status', 'cpu_test_status', 'memory_test_status',
      'network_test_status', 'storage_test_status', 'other_test_status', 'interface_test_status', 'hardware_info',
      'numanode_set', 'enable_hw_sync', 'enable_kernel_crash_dump', 'is_dpu',
    ]) {
      expect(m).toHaveProperty([key]);
    }
    expect(m.zone).toEqual({ id: expect.any(Number), name: 'default', description: 'Default zone', resource_uri: `${API}/zones/default/` });
    expect(m.tag_names).toEqual([]);
    expect(typeof m.storage).toBe('number');
    const ev = await events(m.system_id);
    const commissioning = ev.find((e) => e.type === 'Commissioning')!;
    expect(commissioning.description).toContain('admin');
    expect(commissioning.created).toMatch(/^\w{3}, \d{2} [A-Z][a-z]+\.? \d{4} \d{2}:\d{2}:\d{2}$/);
    const dup = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: '52:54:00:11:22:33' });
    expect(dup.status).toBe(400);
    expect(dup.json()).toEqual({ mac_addresses: ['MAC address 52:54:00:11:22:33 already in use on alpha.'] });
    const noMac = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64' });
    expect(noMac.json()).toHaveProperty('mac_addresses');
    const badPower = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'teleport' });
    expect(badPower.status).toBe(400);
    expect(badPower.json()).toHaveProperty('power_type');
  });

  it('allocates to one user, refuses another, deploys, releases, and tells the story in events', async () => {
    const m = await readyMachine();
    const a = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id, agent_name: 'juju' });
    expect(a.status).toBe(200);
    expect(a.json()).toMatchObject({ status: 10, status_name: 'Allocated', owner: 'alice', constraints_by_type: { storage: {}, interfaces: {} } });
    const b = await h.call(bob, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id });
    expect(b.status).toBe(409);
    expect(b.text).toBe(`No machine with system ID ${m.system_id} available.`);
    expect((await h.call(bob, 'GET', `${API}/machines/${m.system_id}/`)).status).toBe(403);
    const bobsList = (await h.call(bob, 'GET', `${API}/machines/`)).json() as Machine[];
    expect(bobsList.map((x) => x.system_id)).not.toContain(m.system_id);
    expect((await h.call(bob, 'POST', `${API}/machines/${m.system_id}/?op=deploy`)).status).toBe(403);

    const d = await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=deploy`, { distro_series: 'ubuntu/22.04', user_data: Buffer.from('#!/bin/sh\necho hi\n').toString('base64') });
    expect(d.status).toBe(200);
    expect(d.json()).toMatchObject({ status: 9, status_name: 'Deploying', osystem: 'ubuntu', distro_series: 'jammy', owner: 'alice' });
    const [row] = await h.ds.query('SELECT status_expires, user_data FROM machines WHERE system_id = $1', [m.system_id]);
    const minutes = (new Date(row.status_expires).getTime() - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThan(31);
    expect(row.user_data.toString()).toBe('#!/bin/sh\necho hi\n');

    const rel = await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=release`);
    expect(rel.status).toBe(200);
    expect(rel.json()).toMatchObject({ status: 4, status_name: 'Ready', owner: null, osystem: '', distro_series: '' });

    const ev = await events(m.system_id, 'INFO');
    const ids = ev.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    const types = ev.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['Allocated', 'Deploying', 'Ready']));
    expect(ev.find((e) => e.type === 'Ready')!.description).toBe('Released by alice');
    expect(ev.every((e) => ['INFO', 'WARNING', 'ERROR', 'CRITICAL'].includes(e.level))).toBe(true);
    const deploying = ev.find((e) => e.type === 'Deploying')!;
    expect(deploying.description).toContain('alice');
  });

  it("answers every request on another user's machine with MAAS's refusal for it, before any state check", async () => {
    const m = await readyMachine();
    const sid = m.system_id;
    expect((await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    const refused = async (method: string, url: string, body?: Record<string, string | string[]>) => {
      const r = await h.call(bob, method, url, body);
      return [r.status, r.text];
    };
    const view = [403, 'You do not have permission to view this machine.'];
    expect(await refused('GET', `${API}/machines/${sid}/`)).toEqual(view);
    // deploy and power_on would be refused by the machine's state too: the caller's right is checked first.
    expect(await refused('POST', `${API}/machines/${sid}/?op=deploy`, { distro_series: 'jammy' })).toEqual(view);
    expect(await refused('POST', `${API}/machines/${sid}/?op=power_on`)).toEqual(view);
    expect(await refused('GET', `${API}/machines/${sid}/?op=query_power_state`)).toEqual(view);
    expect(await refused('GET', `${API}/machines/${sid}/?op=details`)).toEqual(view);
    expect(await refused('POST', `${API}/machines/${sid}/?op=mount_special`, { fstype: 'tmpfs', mount_point: '/srv' })).toEqual([
      403,
      'You do not have permission to change this machine.',
    ]);
    expect(await refused('POST', `${API}/machines/${sid}/?op=set_workload_annotations`, { team: 'b' })).toEqual([403, 'Only the owner may annotate this machine.']);
    expect(await refused('POST', `${API}/machines/?op=release`, { machines: sid })).toEqual([
      403,
      `You don't have the required permission to release the following machine(s): ${sid}.`,
    ]);
    // Nothing changed on the way.
    const after = (await h.call(alice, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
    expect(after).toMatchObject({ status_name: 'Allocated', owner: 'alice', workload_annotations: {}, special_filesystems: [] });

    // An unowned machine: anyone may see it; annotating it is refused for its state, not for who asks.
    const free = await readyMachine();
    expect((await h.call(bob, 'GET', `${API}/machines/${free.system_id}/`)).status).toBe(200);
    expect(await refused('POST', `${API}/machines/${free.system_id}/?op=set_workload_annotations`, { team: 'b' })).toEqual([
      409,
      "Cannot set workload annotation: it hasn't been acquired.",
    ]);
  });

  it('carries out transition effects as jobs and says what happened in the events', async () => {
    const m = await readyMachine();
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id });
    await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=deploy`);
    const ev = await pollUntil(
      () => events(m.system_id),
      (e) => e.some((x) => x.type === 'Waiting for boot') && e.some((x) => x.description.includes('Manual power')),
      { what: 'effect events after deploy' },
    );
    expect(ev.find((x) => x.description.includes('Manual power'))!.description).toContain('power on');
  });

  it('refuses operations the state does not allow, with MAAS status codes and messages', async () => {
    const m = await readyMachine();
    const sid = m.system_id;
    const rel = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`);
    expect(rel.status).toBe(200); // Ready: release is a no-op
    const abort = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=abort`);
    expect(abort.status).toBe(409);
    expect(abort.text).toBe(`Cannot abort in current state: node ${sid} is in state Ready.`);
    const lock = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=lock`);
    expect(lock.status).toBe(409);
    expect(lock.text).toBe("Can't lock, node is not deployed or deploying");
    const fixed = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=mark_fixed`);
    expect(fixed.status).toBe(409);
    expect(fixed.text).toBe("Can't mark a non-broken node as 'Ready'.");
    const powerOn = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=power_on`);
    expect(powerOn.status).toBe(409);
    expect(powerOn.text).toBe("Can't start node: it hasn't been allocated.");

    await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`);
    const deploy = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=deploy`);
    expect(deploy.status).toBe(409);
    expect(deploy.text).toBe("Can't deploy a machine that is in the 'Commissioning' state");
    const commission = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`);
    expect(commission.status).toBe(400);
    expect(commission.json()).toEqual({ __all__: ['Commission is not available because of the current state of the node.'] });
    const aborted = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=abort`);
    expect(aborted.json()).toMatchObject({ status_name: 'New' });
    const release = await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`);
    expect(release.status).toBe(409);
    expect(release.text).toBe("Machine cannot be released in its current state ('New').");
    const nonAdmin = await h.call(alice, 'POST', `${API}/machines/${sid}/?op=commission`);
    expect(nonAdmin.status).toBe(403);
  });

  it('locks a deployed machine against every change but unlock', async () => {
    const m = await readyMachine();
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id });
    await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=deploy`);
    expect((await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=lock`)).json()).toMatchObject({ locked: true });
    expect((await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=release`)).status).toBe(403);
    expect((await h.call(admin, 'PUT', `${API}/machines/${m.system_id}/`, { description: 'x' })).status).toBe(403);
    expect((await h.call(admin, 'DELETE', `${API}/machines/${m.system_id}/`)).status).toBe(403);
    const again = await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=lock`);
    expect(again.status).toBe(409);
    expect(again.text).toBe('Machine is already locked');
    expect((await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=unlock`)).json()).toMatchObject({ locked: false });
    expect((await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=release`)).json()).toMatchObject({ status_name: 'Ready' });
  });

  it('gives exactly one owner to 20 simultaneous allocations of one machine', async () => {
    const m = await readyMachine();
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => h.createUser(`racer${i}`, false)));
    const replies = await Promise.all(users.map((u) => h.call(u, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id })));
    const ok = replies.filter((r) => r.status === 200);
    const conflicts = replies.filter((r) => r.status === 409);
    expect(ok).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    for (const c of conflicts) expect(c.text).toBe(`No machine with system ID ${m.system_id} available.`);
    const winner = (ok[0].json() as Machine).owner;
    const [row] = await h.ds.query('SELECT u.username FROM machines m JOIN users u ON u.id = m.owner_id WHERE m.system_id = $1', [m.system_id]);
    expect(row.username).toBe(winner);
    const allocated = (await events(m.system_id, 'INFO')).filter((e) => e.type === 'Allocated');
    expect(allocated).toHaveLength(1);
  });

  it('allocates by constraints, cheapest first, and rejects unknown or removed constraints', async () => {
    await h.call(admin, 'POST', `${API}/tags/`, { name: 'gpu' });
    const big = await readyMachine();
    const small = await readyMachine();
    await h.call(admin, 'PUT', `${API}/machines/${big.system_id}/`, { cpu_count: '64', memory: '256G' });
    await h.call(admin, 'PUT', `${API}/machines/${small.system_id}/`, { cpu_count: '4', memory: '8192' });
    await h.call(admin, 'POST', `${API}/tags/gpu/?op=update_nodes`, { add: [big.system_id, small.system_id] });
    const r = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { tags: 'gpu', cpu_count: '2', dry_run: 'true' });
    expect(r.status).toBe(200);
    expect((r.json() as Machine).system_id).toBe(small.system_id);
    expect((r.json() as Machine).status_name).toBe('Ready'); // dry run
    const mem = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { mem: '100000', tags: 'gpu' });
    expect((mem.json() as Machine).system_id).toBe(big.system_id);
    const none = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { cpu_count: '9999' });
    expect(none.status).toBe(409);
    expect(none.text).toBe('No available machine matches constraints: [cpu_count=9999]');
    const unknown = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { colour: 'blue' });
    expect(unknown.status).toBe(400);
    expect(unknown.json()).toEqual({ colour: ['No such constraint.'] });
    const kvm = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { install_kvm: 'True' });
    expect(kvm.status).toBe(400);
    expect(kvm.text).toBe('Support for install_kvm allocation parameter has been removed.');
    const badNum = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { cpu_count: 'many' });
    expect(badNum.status).toBe(400);
  });

  it('allocates by the interfaces constraint (as Juju sends spaces) and says which interface met which label', async () => {
    const fabric = (await h.call(admin, 'POST', `${API}/fabrics/`, { name: 'fabric-ifc' })).json() as { vlans: { id: number }[] };
    const vlan = fabric.vlans[0].id;
    await h.call(admin, 'POST', `${API}/spaces/`, { name: 'dmz' });
    expect((await h.call(admin, 'PUT', `${API}/vlans/${vlan}/`, { space: 'dmz' })).status).toBe(200);
    const cheap = await readyMachine();
    const inSpace = await readyMachine();
    await h.call(admin, 'POST', `${API}/zones/`, { name: 'ifc' });
    await h.call(admin, 'PUT', `${API}/machines/${cheap.system_id}/`, { cpu_count: '1', memory: '1024', zone: 'ifc' });
    await h.call(admin, 'PUT', `${API}/machines/${inSpace.system_id}/`, { cpu_count: '32', memory: '65536', zone: 'ifc' });
    await h.ds.query(`UPDATE interfaces SET vlan_id = $2 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [inSpace.system_id, vlan]);
    const [iface]: { id: number }[] = await h.ds.query(`SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`, [inSpace.system_id]);
    const picked = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { zone: 'ifc', interfaces: 'net0:space=dmz', dry_run: 'true' });
    expect(picked.status).toBe(200);
    expect(picked.json()).toMatchObject({ system_id: inSpace.system_id, constraints_by_type: { storage: {}, interfaces: { net0: [iface.id] } } });
    const plain = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { zone: 'ifc', dry_run: 'true' });
    expect((plain.json() as Machine).system_id).toBe(cheap.system_id);
    const unmet = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { zone: 'ifc', interfaces: 'net0:space=dmz;net1:space=dmz' });
    expect(unmet.status).toBe(409);
    expect(unmet.text).toBe('No available machine matches constraints: [zone=ifc, interfaces=net0:space=dmz;net1:space=dmz]');
    const bad = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { interfaces: 'net0:colour=red' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ interfaces: [expect.stringContaining("Unknown key 'colour' in label 'net0'")] });
    // Nothing was allocated by the refusals.
    for (const m of [cheap, inSpace]) expect(((await h.call(admin, 'GET', `${API}/machines/${m.system_id}/`)).json() as Machine).status_name).toBe('Ready');
  });

  it('filters the listing server-side and rejects unknown filters', async () => {
    const m = await readyMachine({ hostname: 'filter-me' });
    const mac = (m.interface_set as { mac_address: string }[])[0].mac_address;
    const byHost = (await h.call(admin, 'GET', `${API}/machines/?hostname=filter-me`)).json() as Machine[];
    expect(byHost.map((x) => x.system_id)).toEqual([m.system_id]);
    const byMac = (await h.call(admin, 'GET', `${API}/machines/?mac_address=${mac.toUpperCase()}`)).json() as Machine[];
    expect(byMac.map((x) => x.system_id)).toEqual([m.system_id]);
    const ready = (await h.call(admin, 'GET', `${API}/machines/?status=ready&hostname=filter-me`)).json() as Machine[];
    expect(ready).toHaveLength(1);
    const notReady = (await h.call(admin, 'GET', `${API}/machines/?not_status=ready&hostname=filter-me`)).json() as Machine[];
    expect(notReady).toHaveLength(0);
    const bad = await h.call(admin, 'GET', `${API}/machines/?flavour=mint`);
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ flavour: ['No such constraint.'] });
    expect((await h.call(admin, 'GET', `${API}/machines/?status=sleepy`)).status).toBe(400);
  });

  it('encrypts BMC secrets at rest and shows them only to admins through power_parameters', async () => {
    const r = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: nextMac(),
      power_type: 'ipmi',
      power_parameters_power_address: '10.0.0.5',
      power_parameters_power_user: 'ADMIN',
      power_parameters_power_pass: 'very-secret-pw',
      commission: 'false',
    });
    expect(r.status).toBe(200);
    const m = r.json() as Machine;
    expect(r.text).not.toContain('very-secret-pw');
    const [bmc] = await h.ds.query('SELECT b.power_parameters FROM bmcs b JOIN machines m ON m.bmc_id = b.id WHERE m.system_id = $1', [m.system_id]);
    expect(JSON.stringify(bmc)).not.toContain('very-secret-pw');
    expect(bmc.power_parameters.power_pass).toMatch(/^kiln-enc:v1:/);
    const params = await h.call(admin, 'GET', `${API}/machines/${m.system_id}/?op=power_parameters`);
    expect(params.json()).toMatchObject({ power_address: '10.0.0.5', power_user: 'ADMIN', power_pass: 'very-secret-pw', power_driver: 'LAN_2_0' });
    expect((await h.call(alice, 'GET', `${API}/machines/${m.system_id}/?op=power_parameters`)).status).toBe(403);
    const all = (await h.call(admin, 'GET', `${API}/machines/?op=power_parameters&id=${m.system_id}`)).json() as Record<string, Record<string, string>>;
    expect(all[m.system_id].power_pass).toBe('very-secret-pw');
    const missing = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'ipmi' });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json())).toContain('power_address');
  });

  it('shares one BMC record between the nodes of a chassis, and keeps different credentials apart', async () => {
    const redfish = (node: string, pass: string) => ({
      architecture: 'amd64',
      mac_addresses: nextMac(),
      commission: 'false',
      power_type: 'redfish',
      power_parameters_power_address: 'https://10.9.9.9',
      power_parameters_power_user: 'root',
      power_parameters_power_pass: pass,
      power_parameters_node_id: node,
    });
    const ids: string[] = [];
    for (const [node, pass] of [['n1', 'pw'], ['n2', 'pw'], ['n3', 'other']]) {
      const r = await h.call(admin, 'POST', `${API}/machines/`, redfish(node, pass));
      expect(r.status).toBe(200);
      ids.push((r.json() as Machine).system_id);
    }
    const rows: { system_id: string; bmc_id: number; node: string }[] = await h.ds.query(
      `SELECT system_id, bmc_id, instance_power_parameters->>'node_id' AS node FROM machines WHERE system_id = ANY($1) ORDER BY id`,
      [ids],
    );
    expect(rows.map((r) => r.node)).toEqual(['n1', 'n2', 'n3']);
    expect(rows[0].bmc_id).toBe(rows[1].bmc_id);
    expect(rows[2].bmc_id).not.toBe(rows[0].bmc_id);
    const params = (await h.call(admin, 'GET', `${API}/machines/${ids[1]}/?op=power_parameters`)).json();
    expect(params).toMatchObject({ power_address: 'https://10.9.9.9', power_pass: 'pw', node_id: 'n2' });
    // Changing one node's credentials moves it to its own BMC record; the others keep theirs.
    await h.call(admin, 'PUT', `${API}/machines/${ids[1]}/`, { power_parameters_power_pass: 'rotated' });
    expect((await h.call(admin, 'GET', `${API}/machines/${ids[0]}/?op=power_parameters`)).json()).toMatchObject({ power_pass: 'pw' });
    expect((await h.call(admin, 'GET', `${API}/machines/${ids[1]}/?op=power_parameters`)).json()).toMatchObject({ power_pass: 'rotated', node_id: 'n2' });
  });

  it('enlists anonymously and answers is_registered', async () => {
    const mac = nextMac();
    const r = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: mac, commission: 'true' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ status_name: 'Commissioning' });
    expect(r.json()).not.toHaveProperty('interface_set');
    expect((await h.call(null, 'GET', `${API}/machines/?op=is_registered&mac_address=${mac}`)).json()).toBe(false);
    expect((await h.call(admin, 'GET', `${API}/machines/?op=is_registered&mac_address=${mac}`)).json()).toBe(true);
  });

  it('completes a machine added with BMC credentials only when it enlists, matching by BMC address and then by MAC', async () => {
    const bmcOnly = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      power_type: 'ipmi',
      power_parameters_power_address: '10.44.0.7',
      power_parameters_power_user: 'ADMIN',
      power_parameters_power_pass: 'operator-pw',
      commission: 'false',
    });
    expect(bmcOnly.status).toBe(200);
    const sid = (bmcOnly.json() as Machine).system_id;
    expect((bmcOnly.json() as { interface_set: unknown[] }).interface_set).toEqual([]);
    const [m1, m2] = [nextMac(), nextMac()];
    // What the MAAS enlistment runner sends once the BMC script configured a user of its own.
    const enlist = await h.call(null, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: `${m1},${m2}`,
      power_type: 'ipmi',
      power_parameters: JSON.stringify({ power_address: '10.44.0.7', power_user: 'maas', power_pass: 'script-pw', power_driver: 'LAN_2_0' }),
    });
    expect(enlist.status).toBe(200);
    expect((enlist.json() as Machine).system_id).toBe(sid);
    const after = (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { interface_set: { mac_address: string }[]; boot_interface: { mac_address: string } };
    expect(after.interface_set.map((i) => i.mac_address).sort()).toEqual([m1, m2].sort());
    expect(after.boot_interface.mac_address).toBe(m1);
    // The operator's credentials stay; the report only fills in what was missing.
    expect((await h.call(admin, 'GET', `${API}/machines/${sid}/?op=power_parameters`)).json()).toMatchObject({
      power_address: '10.44.0.7',
      power_user: 'ADMIN',
      power_pass: 'operator-pw',
      power_driver: 'LAN_2_0',
    });
    const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM machines m JOIN bmcs b ON b.id = m.bmc_id WHERE b.power_address = '10.44.0.7'`);
    expect(n).toBe(1);
    const events = (await h.call(admin, 'GET', `${API}/events/?op=query&id=${sid}`)).json() as { events: { type: string; description: string }[] };
    expect(events.events.find((e) => e.type === 'Enlisted')?.description).toContain('matched by BMC ipmi 10.44.0.7');
    expect(JSON.stringify(events)).not.toContain('script-pw');

    // Enlisting again (a reboot in the enlistment environment) finds it by MAC and adds nothing.
    const again = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: m2 });
    expect((again.json() as Machine).system_id).toBe(sid);
    expect(((await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { interface_set: unknown[] }).interface_set).toHaveLength(2);

    // A machine past commissioning is not taken over: its MAC stays its own.
    const ready = await readyMachine();
    const readyMac = (ready.interface_set as { mac_address: string }[])[0].mac_address;
    const stolen = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: readyMac });
    expect(stolen.status).toBe(400);
    expect(stolen.json()).toEqual({ mac_addresses: [`MAC address ${readyMac} already in use on ${ready.hostname}.`] });
  });

  it('tells the nodes of one chassis apart by node id when they enlist', async () => {
    const ids: string[] = [];
    for (const node of ['c1', 'c2']) {
      const r = await h.call(admin, 'POST', `${API}/machines/`, {
        architecture: 'amd64',
        mac_addresses: nextMac(),
        commission: 'false',
        power_type: 'redfish',
        power_parameters_power_address: 'https://10.44.1.1',
        power_parameters_power_user: 'root',
        power_parameters_power_pass: 'pw',
        power_parameters_node_id: node,
      });
      ids.push((r.json() as Machine).system_id);
    }
    const mac = nextMac();
    const r = await h.call(null, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: mac,
      power_type: 'redfish',
      power_parameters: JSON.stringify({ power_address: 'https://10.44.1.1', power_user: 'root', power_pass: 'pw', node_id: 'c2' }),
    });
    expect((r.json() as Machine).system_id).toBe(ids[1]);
    const macs = ((await h.call(admin, 'GET', `${API}/machines/${ids[1]}/`)).json() as { interface_set: { mac_address: string }[] }).interface_set;
    expect(macs.map((i) => i.mac_address)).toContain(mac);
  });

  it('accepts enlisted machines into commissioning and moves machines between zones', async () => {
    const enlisted = await h.call(null, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: nextMac(), power_type: 'manual' });
    const sid = (enlisted.json() as Machine).system_id;
    expect((await h.call(alice, 'POST', `${API}/machines/?op=accept`, { machines: sid })).status).toBe(403);
    const accepted = await h.call(admin, 'POST', `${API}/machines/?op=accept`, { machines: sid });
    expect(accepted.status).toBe(200);
    expect((accepted.json() as Machine[]).map((m) => m.status_name)).toEqual(['Commissioning']);
    expect((await h.call(admin, 'POST', `${API}/machines/?op=accept`, { machines: sid })).json()).toEqual([]);
    await h.call(admin, 'POST', `${API}/zones/`, { name: 'zone-b' });
    expect((await h.call(admin, 'POST', `${API}/machines/?op=set_zone`, { zone: 'zone-b', nodes: sid })).status).toBe(204);
    expect(((await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { zone: { name: string } }).zone.name).toBe('zone-b');
    expect((await h.call(admin, 'POST', `${API}/machines/?op=set_zone`, { zone: 'nowhere', nodes: sid })).status).toBe(400);
  });

  it('releases in bulk with MAAS errors for unknown and unreleasable machines', async () => {
    const a = await readyMachine();
    const b = await readyMachine();
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: a.system_id });
    const unknown = await h.call(alice, 'POST', `${API}/machines/?op=release`, { machines: [a.system_id, 'zzzzzz'] });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toBe('Unknown machine(s): zzzzzz.');
    const ok = await h.call(alice, 'POST', `${API}/machines/?op=release`, { machines: [a.system_id, b.system_id] });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual([a.system_id]);
  });

  it('fails machines whose deadline passed, also after a region restart', async () => {
    const m = await readyMachine();
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id });
    await h.call(alice, 'POST', `${API}/machines/${m.system_id}/?op=deploy`);
    await h.ds.query(`UPDATE machines SET status_expires = now() - interval '1 second' WHERE system_id = $1`, [m.system_id]);
    await h.app.get(MachineJobsWorker).sweep();
    const failed = (await h.call(admin, 'GET', `${API}/machines/${m.system_id}/`)).json() as Machine;
    expect(failed.status_name).toBe('Failed deployment');
    const [ev] = await events(m.system_id, 'ERROR');
    expect(ev.level).toBe('ERROR');
    expect(ev.description).toMatch(/deadline|timed out/i);

    // Now the same through the repeatable job, with the region stopped while the deadline passes.
    const n = await readyMachine();
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: n.system_id });
    await h.call(alice, 'POST', `${API}/machines/${n.system_id}/?op=deploy`);
    await h.stopApp();
    await h.ds.query(`UPDATE machines SET status_expires = now() - interval '1 second' WHERE system_id = $1`, [n.system_id]).catch(() => undefined);
    h.config = { ...h.config, lifecycle: { ...h.config.lifecycle, sweepIntervalMs: 300 } };
    await h.boot();
    await h.ds.query(`UPDATE machines SET status_expires = now() - interval '1 second' WHERE system_id = $1`, [n.system_id]);
    const after = await pollUntil(
      async () => ((await h.call(admin, 'GET', `${API}/machines/${n.system_id}/`)).json() as Machine).status_name,
      (s) => s === 'Failed deployment',
      { timeoutMs: 15_000, what: 'the sweeper to fail the machine after restart' },
    );
    expect(after).toBe('Failed deployment');
  });

  it('keeps the cached listing true to every change that shows in a machine', async () => {
    const m = await readyMachine();
    const find = async () =>
      ((await h.call(admin, 'GET', `${API}/machines/`)).json() as Machine[]).find((x) => x.system_id === m.system_id)!;
    expect((await find()).status_name).toBe('Ready');
    await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id });
    expect(await find()).toMatchObject({ status_name: 'Allocated', owner: 'alice' });
    await h.call(admin, 'POST', `${API}/tags/`, { name: 'cached' });
    await h.call(admin, 'POST', `${API}/tags/cached/?op=update_nodes`, { add: m.system_id });
    expect((await find()).tag_names).toEqual(['cached']);
    await h.call(admin, 'PUT', `${API}/tags/cached/`, { name: 'renamed-tag' });
    expect((await find()).tag_names).toEqual(['renamed-tag']);
    await h.call(admin, 'POST', `${API}/zones/`, { name: 'zone-a' });
    await h.call(admin, 'PUT', `${API}/machines/${m.system_id}/`, { zone: 'zone-a' });
    expect((await find()).zone).toMatchObject({ name: 'zone-a' });
    await h.call(admin, 'PUT', `${API}/zones/zone-a/`, { description: 'now described' });
    expect((await find()).zone).toMatchObject({ name: 'zone-a', description: 'now described' });
    await h.ds.query(`INSERT INTO interfaces (machine_id, name, mac_address) SELECT id, 'eth9', '52:54:00:99:99:99' FROM machines WHERE system_id = $1`, [m.system_id]);
    expect(((await find()).interface_set as { name: string }[]).map((i) => i.name)).toContain('eth9');
    await h.ds.query(`UPDATE users SET username = 'alice2' WHERE username = 'alice'`);
    expect((await find()).owner).toBe('alice2');
    await h.ds.query(`UPDATE users SET username = 'alice' WHERE username = 'alice2'`);
  });

  it('updates and deletes as admin only', async () => {
    const m = await readyMachine();
    expect((await h.call(alice, 'PUT', `${API}/machines/${m.system_id}/`, { hostname: 'nope' })).status).toBe(403);
    const up = await h.call(admin, 'PUT', `${API}/machines/${m.system_id}/`, { hostname: 'renamed', memory: '4G', swap_size: '2G' });
    expect(up.json()).toMatchObject({ hostname: 'renamed', memory: 4096, swap_size: 2 * 1024 ** 3 });
    const bad = await h.call(admin, 'PUT', `${API}/machines/${m.system_id}/`, { hostname: 'bad_name!' });
    expect(bad.status).toBe(400);
    expect((await h.call(alice, 'DELETE', `${API}/machines/${m.system_id}/`)).status).toBe(403);
    expect((await h.call(admin, 'DELETE', `${API}/machines/${m.system_id}/`)).status).toBe(204);
    const gone = await h.call(admin, 'GET', `${API}/machines/${m.system_id}/`);
    expect(gone.status).toBe(404);
    expect(gone.text).toBe('No Machine matches the given query.');
    // MAAS looks the machine up before it checks permissions: a missing one is a 404 for everyone.
    const missing = await h.call(alice, 'PUT', `${API}/machines/${m.system_id}/`, { hostname: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('No Machine matches the given query.');
    expect((await h.call(alice, 'GET', `${API}/machines/${m.system_id}/?op=power_parameters`)).status).toBe(404);
  });
});
