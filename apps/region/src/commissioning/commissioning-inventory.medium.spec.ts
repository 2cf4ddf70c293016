import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_DIR } from '@kiln/scripts';
import { DomainError } from '../common/domain.error';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { CommissioningInventoryService } from './commissioning-inventory.service';

type Iface = { id: number; name: string; mac_address: string; tags: string[]; sriov_max_vf: number; vendor: string | null; product: string | null; firmware_version: string | null;
  link_speed: number; interface_speed: number; link_connected: boolean; effective_mtu: number; numa_node: number };
type Disk = { id: number; name: string; model: string; serial: string; id_path: string; size: number; block_size: number; tags: string[];
  firmware_version: string | null; numa_node: number };
type Machine = {
  system_id: string;
  architecture: string | null;
  hardware_uuid: string | null;
  bios_boot_method: string | null;
  cpu_count: number;
  cpu_speed: number;
  memory: number;
  storage: number;
  tag_names: string[];
  hardware_info: Record<string, string>;
  numanode_set: { index: number; cores: number[]; memory: number; hugepages_set: unknown[] }[];
  interface_set: Iface[];
  boot_interface: Iface | null;
  physicalblockdevice_set: Disk[];
  blockdevice_set: Disk[];
  boot_disk: Disk | null;
};

const API = '/MAAS/api/2.0';
const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));
const SERVER = fixture('two-numa-server.resources.json');
const HOST = fixture('debian-container-host.resources.json');
const ENO1 = '3c:fd:fe:a1:b2:c0';
const ENO2 = '3c:fd:fe:a1:b2:c1';
let macCounter = 0;
const nextMac = () => `52:54:00:dd:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

/** The binary and null fields of a flat BSON document (what op=details answers). */
function decodeBson(buf: Buffer): Record<string, Buffer | null> {
  const out: Record<string, Buffer | null> = {};
  expect(buf.readInt32LE(0)).toBe(buf.length);
  let at = 4;
  while (buf[at] !== 0) {
    const type = buf[at++];
    const end = buf.indexOf(0, at);
    const key = buf.subarray(at, end).toString('utf8');
    at = end + 1;
    if (type === 0x0a) out[key] = null;
    else if (type === 0x05) {
      const len = buf.readInt32LE(at);
      out[key] = buf.subarray(at + 5, at + 5 + len);
      at += 5 + len;
    } else throw new Error(`unexpected BSON type ${type}`);
  }
  return out;
}

/** CommissioningInventoryService against a real region: outputs applied in a transaction, the machine read back through the REST API. */
describe('commissioning output → the machine through the API', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let inventory: CommissioningInventoryService;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    inventory = h.app.get(CommissioningInventoryService);
  });
  afterAll(() => h.stop());

  async function newMachine(macs: string[], architecture = 'amd64/generic'): Promise<{ id: number; sid: string }> {
    // Deployed: a machine created so stays as it is (a new one would start commissioning on its own).
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture, mac_addresses: macs, power_type: 'manual', deployed: 'true' });
    expect(created.status).toBe(200);
    const sid = (created.json() as Machine).system_id;
    const [{ id }] = await h.ds.query('SELECT id FROM machines WHERE system_id = $1', [sid]);
    return { id, sid };
  }

  const apply = (machineId: number, script: string, stdout: Buffer | string) =>
    h.ds.transaction((em) => inventory.apply(em, machineId, script, Buffer.isBuffer(stdout) ? stdout : Buffer.from(stdout)));

  async function read(sid: string): Promise<Machine> {
    const r = await h.call(admin, 'GET', `${API}/machines/${sid}/`);
    expect(r.status).toBe(200);
    return r.json() as Machine;
  }

  const renderRev = async (id: number): Promise<string> => (await h.ds.query('SELECT render_rev FROM machines WHERE id = $1', [id]))[0].render_rev;

  it('gives the machine its CPUs, memory, NUMA nodes, disks, NICs and hardware_info', async () => {
    const stale = nextMac();
    const { id, sid } = await newMachine([ENO1, stale]);
    await h.ds.query(`UPDATE machines SET architecture = '' WHERE id = $1`, [id]);
    const [{ id: eno1Id }] = await h.ds.query('SELECT id FROM interfaces WHERE mac_address = $1', [ENO1]);

    await apply(id, '50-maas-01-commissioning', SERVER);
    const m = await read(sid);

    expect(m).toMatchObject({ cpu_count: 8, cpu_speed: 2100, memory: 65536, architecture: 'amd64/generic' });
    expect(m.hardware_uuid).toBe('4c4c4544-0042-3510-8052-b4c04f564432');
    expect(m.bios_boot_method).toBe('uefi');
    expect(m.hardware_info).toMatchObject({
      system_vendor: 'Dell Inc.',
      system_product: 'PowerEdge R640',
      system_version: 'Unknown',
      cpu_model: 'Intel(R) Xeon(R) Gold 6130 CPU',
      mainboard_firmware_version: '2.8.1',
      chassis_type: 'Rack Mount Chassis',
      chassis_version: 'Unknown',
    });
    expect(Object.keys(m.hardware_info)).toHaveLength(18);
    expect(m.numanode_set).toEqual([
      { index: 0, cores: [0, 1, 4, 5], memory: 32768, hugepages_set: [] },
      { index: 1, cores: [2, 3, 6, 7], memory: 32768, hugepages_set: [] },
    ]);

    expect(m.physicalblockdevice_set.map((d) => [d.name, d.size, d.block_size, d.model, d.serial, d.id_path, d.tags, d.firmware_version, d.numa_node])).toEqual([
      ['sda', 512110190592, 4096, 'Samsung SSD 860 PRO 512GB', 'S42YNF0M123456', '/dev/disk/by-id/wwn-0x5002538e40a1b2c3', ['ssd', 'sata'], 'EDA7602Q', 0],
      ['sdb', 4000787030016, 512, 'ST4000NM0035-1V4107', 'ZC1A2B3C', '/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC1A2B3C', ['rotary', '7200rpm'], 'TN03', 1],
    ]);
    expect(m.blockdevice_set).toEqual(m.physicalblockdevice_set);
    expect(m.boot_disk?.name).toBe('sda');
    expect(m.storage).toBe((512110190592 + 4000787030016) / 1e6);
    // The default (flat) layout is laid out on the boot disk: UEFI's ESP, then / on the rest.
    const sda = m.blockdevice_set[0] as unknown as { partition_table_type: string; partitions: { path: string; filesystem: { fstype: string; mount_point: string } }[] };
    expect(sda.partition_table_type).toBe('GPT');
    expect(sda.partitions.map((p) => [p.path, p.filesystem.fstype, p.filesystem.mount_point])).toEqual([
      ['/dev/disk/by-dname/sda-part1', 'fat32', '/boot/efi'],
      ['/dev/disk/by-dname/sda-part2', 'ext4', '/'],
    ]);
    expect((m.blockdevice_set[1] as unknown as { used_for: string }).used_for).toBe('Unused');

    // eno1 existed (enlistment gave its MAC) and keeps its id; eno2 is new; the MAC commissioning did not see is gone.
    expect(m.interface_set.map((i) => [i.name, i.mac_address, i.link_speed, i.interface_speed, i.link_connected, i.effective_mtu, i.numa_node])).toEqual([
      ['eno1', ENO1, 10000, 10000, true, 9000, 0],
      ['eno2', ENO2, 0, 10000, false, 1500, 0],
    ]);
    expect(m.interface_set[0].id).toBe(eno1Id);
    expect(m.interface_set[1]).toMatchObject({ vendor: 'Intel Corporation', product: 'Ethernet Controller X710 for 10GbE SFP+', firmware_version: '6.01 0x800034a4 1.1747.0' });
    expect(m.interface_set.some((i) => i.mac_address === stale)).toBe(false);
    expect(m.tag_names).not.toContain('virtual');
    expect(m.interface_set.map((i) => i.tags)).toEqual([[], []]);

    // A card that turns out to offer SR-IOV gets MAAS's tag on its ports.
    const doc = JSON.parse(SERVER.toString('utf8'));
    doc.resources.network.cards[0].sriov = { current_vfs: 0, maximum_vfs: 64, vfs: [] };
    await apply(id, '50-maas-01-commissioning', JSON.stringify(doc));
    const after = await read(sid);
    expect(after.interface_set.map((i) => [i.name, i.sriov_max_vf, i.tags])).toEqual([
      ['eno1', 64, ['sriov']],
      ['eno2', 64, ['sriov']],
    ]);
  });

  it('changes nothing, not even the render revision, when the same output comes again', async () => {
    const { id, sid } = await newMachine([ENO1.replace('c0', 'd0')]);
    await apply(id, '50-maas-01-commissioning', SERVER);
    const before = await read(sid);
    const rev = await renderRev(id);
    await apply(id, '50-maas-01-commissioning', SERVER);
    expect(await renderRev(id)).toBe(rev);
    expect(await read(sid)).toEqual(before);

    // A change to the NUMA nodes alone (thread 4 now on node 1) is a change to the document.
    const doc = JSON.parse(SERVER.toString('utf8'));
    doc.resources.cpu.sockets[0].cores[0].threads[1].numa_node = 1;
    await apply(id, '50-maas-01-commissioning', JSON.stringify(doc));
    expect(await renderRev(id)).not.toBe(rev);
    expect((await read(sid)).numanode_set.map((n) => n.cores)).toEqual([[0, 1, 5], [2, 3, 4, 6, 7]]);
  });

  it('on re-commissioning removes a disk that is gone, keeps the id of one renamed, and the JSON follows', async () => {
    const { id, sid } = await newMachine([nextMac()]);
    await apply(id, '50-maas-01-commissioning', SERVER);
    const first = await read(sid);
    const seagate = first.physicalblockdevice_set.find((d) => d.name === 'sdb')!;
    const ssd = first.physicalblockdevice_set.find((d) => d.name === 'sda')!;
    await h.ds.query(`UPDATE machines SET storage_layout = $2 WHERE id = $1`, [id, { layout: 'flat', boot_size: null, root_device: ssd.id, root_size: null }]);
    const rev = await renderRev(id);
    const listed = async () => ((await h.call(admin, 'GET', `${API}/machines/`)).json() as Machine[]).find((x) => x.system_id === sid)!;
    expect((await listed()).numanode_set.map((n) => n.memory)).toEqual([32768, 32768]);

    // The SSD went; the Seagate (same serial) now answers as sda, and memory shrank on node 1.
    const doc = JSON.parse(SERVER.toString('utf8'));
    doc.resources.storage.disks = doc.resources.storage.disks.filter((d: { id: string }) => d.id !== 'sda');
    doc.resources.storage.disks[0].id = 'sda';
    doc.resources.memory.nodes[1].total = 16 * 1024 ** 3;
    doc.resources.memory.total = 48 * 1024 ** 3;
    await apply(id, '50-maas-01-commissioning', JSON.stringify(doc));

    const m = await read(sid);
    expect(await renderRev(id)).not.toBe(rev);
    expect(m.physicalblockdevice_set.map((d) => [d.id, d.name, d.serial])).toEqual([[seagate.id, 'sda', 'ZC1A2B3C']]);
    expect(m.memory).toBe(49152);
    expect(m.numanode_set.map((n) => n.memory)).toEqual([32768, 16384]);
    // The listing (rendered from its cache) follows too.
    expect(await listed()).toEqual(m);
    // The chosen layout named the disk that went: back to the default.
    const layout = async () => (await h.ds.query('SELECT storage_layout FROM machines WHERE id = $1', [id]))[0].storage_layout;
    expect(await layout()).toBeNull();
    // One naming a disk that stays, stays.
    const kept = { layout: 'lvm', boot_size: null, root_device: seagate.id, root_size: null };
    await h.ds.query(`UPDATE machines SET storage_layout = $2 WHERE id = $1`, [id, kept]);
    doc.resources.storage.disks.push({ ...doc.resources.storage.disks[0], id: 'sdb', serial: 'NEW1', device_id: 'ata-NEW1', rotational: false, rpm: 0 });
    await apply(id, '50-maas-01-commissioning', JSON.stringify(doc));
    expect(await layout()).toEqual(kept);
    expect((await read(sid)).physicalblockdevice_set.map((d) => [d.name, d.tags])).toEqual([['sda', ['rotary', '7200rpm']], ['sdb', ['ssd']]]);
  });

  it('lets a Ready machine choose a storage layout on the disks commissioning found', async () => {
    const { id, sid } = await newMachine([nextMac()]);
    await apply(id, '50-maas-01-commissioning', SERVER);
    await h.ds.query('UPDATE machines SET status = 4 WHERE id = $1', [id]);
    const setLayout = (body: Record<string, string>) => h.call(admin, 'POST', `${API}/machines/${sid}/?op=set_storage_layout`, body);

    // The boot disk is the first disk found, the 512 GB SSD: a 600 GB root does not fit on it.
    const tooBig = await setLayout({ storage_layout: 'lvm', root_size: String(600e9) });
    expect(tooBig.status).toBe(400);
    // At most the SSD less MAAS's EFI and /boot partitions (512 MiB each).
    expect(tooBig.json()).toEqual({ root_size: [`Size is too large. Maximum size is ${512110190592 - 2 * 512 * 1024 * 1024}.`] });
    const lvm = await setLayout({ storage_layout: 'lvm', root_size: String(400e9), vg_name: 'vgroot' });
    expect(lvm.status).toBe(200);
    const [{ storage_layout }] = await h.ds.query('SELECT storage_layout FROM machines WHERE id = $1', [id]);
    expect(storage_layout).toMatchObject({ layout: 'lvm', root_size: 400e9, vg_name: 'vgroot' });
  });

  it('keeps an architecture already set, and tags a virtual machine "virtual"', async () => {
    const { id, sid } = await newMachine([nextMac()], 'i386/generic');
    await apply(id, '50-maas-01-commissioning', HOST);
    const m = await read(sid);
    expect(m.architecture).toBe('i386/generic');
    expect(m).toMatchObject({ cpu_count: 2, cpu_speed: 2400 });
    expect(m.tag_names).toContain('virtual');
    expect(m.interface_set.map((i) => i.mac_address)).toEqual(['02:fc:00:00:00:01']);
    expect(m.physicalblockdevice_set.map((d) => [d.name, d.id_path, d.tags])).toEqual([['vda', '/dev/vda', ['rotary']]]);
  });

  it('moves to this machine a NIC another machine had, and links a reservation left by a NIC that went back to it', async () => {
    const other = await newMachine([ENO2.replace('c1', 'e1')]);
    const { id, sid } = await newMachine([nextMac()]);
    const doc = JSON.parse(SERVER.toString('utf8'));
    doc.resources.network.cards[0].ports[1].address = ENO2.replace('c1', 'e1');
    doc.networks.eno2.hwaddr = ENO2.replace('c1', 'e1');
    doc.resources.network.cards[0].ports[0].address = ENO1.replace('c0', 'e0');
    doc.networks.eno1.hwaddr = ENO1.replace('c0', 'e0');
    const [{ id: fabricId }] = await h.ds.query(`INSERT INTO fabrics (name) VALUES ('inv-fabric') RETURNING id`);
    const [{ id: vlanId }] = await h.ds.query(`INSERT INTO vlans (fabric_id, vid) VALUES ($1, 0) RETURNING id`, [fabricId]);
    const [{ id: subnetId }] = await h.ds.query(`INSERT INTO subnets (name, vlan_id, cidr) VALUES ('inv-test', $1, '10.77.0.0/24') RETURNING id`, [vlanId]);
    await h.ds.query(`INSERT INTO static_ip_addresses (ip, subnet_id, mac_address) VALUES ('10.77.0.9', $1, $2)`, [subnetId, ENO1.replace('c0', 'e0')]);

    await apply(id, '50-maas-01-commissioning', JSON.stringify(doc));

    expect((await read(sid)).interface_set.map((i) => i.mac_address)).toEqual([ENO1.replace('c0', 'e0'), ENO2.replace('c1', 'e1')]);
    expect((await read(other.sid)).interface_set).toEqual([]);
    const [{ interface_id }] = await h.ds.query(`SELECT interface_id FROM static_ip_addresses WHERE ip = '10.77.0.9'`);
    const [{ id: eno1 }] = await h.ds.query('SELECT id FROM interfaces WHERE mac_address = $1', [ENO1.replace('c0', 'e0')]);
    expect(interface_id).toBe(eno1);
  });

  it('marks the BOOTIF interface as the boot interface', async () => {
    const eno1 = ENO1.replace('c0', 'f0');
    const eno2 = ENO2.replace('c1', 'f1');
    const { id, sid } = await newMachine([eno1, eno2]);
    expect((await read(sid)).boot_interface?.mac_address).toBe(eno1);
    await apply(id, 'maas-kernel-cmdline', `BOOT_IMAGE=/kernel ip=::::m:BOOTIF:dhcp BOOTIF=01-${eno2.replace(/:/g, '-')} ro\n`);
    const m = await read(sid);
    expect(m.boot_interface?.mac_address).toBe(eno2);
    // A BOOTIF the machine has no NIC for, or none at all, leaves it as it is.
    await apply(id, 'maas-kernel-cmdline', 'BOOTIF=01-00-11-22-33-44-55');
    await apply(id, 'maas-kernel-cmdline', 'console=ttyS0');
    expect((await read(sid)).boot_interface?.mac_address).toBe(eno2);
  });

  it('serves the lshw and LLDP XML it was given through op=details as BSON, keeps serial ports, and matches for_hardware on what it found', async () => {
    const { id, sid } = await newMachine([nextMac()]);
    const details = async () => {
      const res = await fetch(`${h.baseUrl}${API}/machines/${sid}/?op=details`, { headers: { authorization: RegionHarness.oauthHeader(admin) } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/bson');
      return decodeBson(Buffer.from(await res.arrayBuffer()));
    };
    expect(await details()).toEqual({ lshw: null, lldp: null });

    const lshw = Buffer.from('<?xml version="1.0" standalone="yes" ?>\n<list><node id="r640" class="system"><product>PowerEdge R640</product></node></list>\n');
    const lldp = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<lldp label="LLDP neighbors"/>\n');
    await apply(id, 'maas-lshw', lshw);
    await apply(id, 'maas-capture-lldpd', lldp);
    expect(await details()).toEqual({ lshw, lldp });

    await apply(id, 'maas-list-modaliases', 'pci:v00008086d00001572sv00008086sd00000006bc02sc00i00\nacpi:PNP0303:\n');
    await apply(id, '50-maas-01-commissioning', SERVER);
    const facts = await h.ds.transaction((em) => inventory.hardwareFacts(em, id));
    expect(facts.modaliases).toEqual(['acpi:PNP0303:', 'pci:v00008086d00001572sv00008086sd00000006bc02sc00i00']);
    expect(facts.hardwareInfo).toMatchObject({ system_vendor: 'Dell Inc.' });
    const matches = (forHardware: string[]) => h.ds.transaction((em) => inventory.matchesForHardware(em, id, forHardware));
    expect(await matches(['pci:8086:1572'])).toBe(true);
    expect(await matches(['system_product:PowerEdge R640'])).toBe(true);
    expect(await matches(['usb:0781:5581', 'system_vendor:HPE'])).toBe(false);
    await apply(id, 'maas-serial-ports', JSON.stringify([{ name: 'ttyS1', path: '/dev/ttyS1', driver: 'serial8250', port: '0x2F8' }]));
    const [{ data }] = await h.ds.query(`SELECT data FROM machine_probed_details WHERE machine_id = $1 AND name = 'serial_ports'`, [id]);
    expect(JSON.parse(data.toString('utf8'))).toEqual([{ name: 'ttyS1', path: '/dev/ttyS1', driver: 'serial8250', address: '0x2F8' }]);
  });

  it('applies what the built-in scripts print on this host', async () => {
    const run = (name: string) => execFileSync(join(BUILTIN_DIR, name), { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    const { id, sid } = await newMachine([nextMac()]);
    const resources = run('50-maas-01-commissioning');
    const doc = JSON.parse(resources.toString('utf8')) as { resources: { storage: { disks: { id: string; size: number; read_only: boolean }[] } } };
    await apply(id, '50-maas-01-commissioning', resources);
    for (const script of ['maas-lshw', 'maas-list-modaliases', 'maas-serial-ports', 'maas-kernel-cmdline']) await apply(id, script, run(script));

    const m = await read(sid);
    expect(m.cpu_count).toBe(Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim()));
    const memTotalKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    expect(m.memory).toBe(Math.trunc(memTotalKb / 1024));
    expect(m.numanode_set.flatMap((n) => n.cores).sort((a, b) => a - b)).toEqual([...Array(m.cpu_count).keys()]);
    const writable = doc.resources.storage.disks.filter((d) => !d.read_only && d.size > 4 * 1024 * 1024);
    expect(m.physicalblockdevice_set.map((d) => d.name).sort()).toEqual(writable.map((d) => d.id).sort());
    const [{ data }] = await h.ds.query(`SELECT data FROM machine_probed_details WHERE machine_id = $1 AND name = 'lshw'`, [id]);
    expect(data.toString('utf8')).toMatch(/^<\?xml/);
  });

  it('refuses output it cannot read with a coded INVALID error saying why, and writes nothing', async () => {
    const { id, sid } = await newMachine([nextMac()]);
    const before = await read(sid);
    const cases: [string, string, RegExp][] = [
      ['50-maas-01-commissioning', '{"api_version": "1.0", "resources": {', /50-maas-01-commissioning: invalid JSON data/],
      ['50-maas-01-commissioning', JSON.stringify({ api_version: '1.0', resources: { cpu: { total: 'eight' } }, networks: {} }), /resources\.cpu\.total is not a number/],
      ['maas-lshw', 'lshw: command not found', /maas-lshw: not an XML document/],
      ['maas-list-modaliases', '<html/>', /not a modalias/],
      ['maas-serial-ports', '{"ttyS0": {}}', /not a list/],
    ];
    for (const [script, out, reason] of cases) {
      const err = await apply(id, script, out).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('INVALID');
      expect(String((err as DomainError).detail)).toMatch(reason);
    }
    expect(await read(sid)).toEqual(before);
    // Scripts the region does not post-process are none of its business, whatever they print.
    await expect(apply(id, 'smartctl-validate', 'anything')).resolves.toBeUndefined();
    await expect(h.ds.transaction((em) => inventory.apply(em, 987654, '50-maas-01-commissioning', SERVER))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
