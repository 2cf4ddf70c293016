/**
 * Runs the inventory and BMC built-ins on this host (and, for the BMC, against OpenIPMI's
 * simulator over the network) and checks what they produce against what the host says.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { IpmiSim } from '@kiln/power/testing';
import { BUILTIN_DIR } from './builtin.catalogue';

interface Inventory {
  api_version: string;
  resources: {
    cpu: { architecture: string; total: number; sockets: { name: string; cores: { threads: { id: number; numa_node: number }[] }[] }[] };
    memory: { total: number; nodes: { numa_node: number; total: number }[] };
    numa_nodes: { id: number; cpus: number[]; memory: number }[];
    storage: { total: number; disks: { id: string; size: number; model: string; serial: string; rotational: boolean; rpm: number; device_id: string; device_path: string }[] };
    network: { total: number; cards: { driver: string; pci_address: string; vendor_id: string; ports: { id: string; address: string; link_detected: boolean; link_speed: number }[] }[] };
    pci: { total: number; devices: { pci_address: string; vendor_id: string; product_id: string }[] };
    usb: { total: number; devices: unknown[] };
    serial_ports: { name: string; path: string }[];
    system: { type: string; vendor: string; product: string; firmware: { vendor: string; version: string; boot_mode: string } };
  };
  networks: Record<string, { hwaddr: string; mtu: number; addresses: { family: string; address: string }[] }>;
}

const sysList = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('50-maas-01-commissioning on this host', () => {
  let inv: Inventory;
  beforeAll(() => {
    const out = execFileSync(join(BUILTIN_DIR, '50-maas-01-commissioning'), { encoding: 'utf8', timeout: 60_000 });
    inv = JSON.parse(out) as Inventory;
  });

  it('counts the CPUs nproc counts, with their model', () => {
    const nproc = Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim());
    const r = inv.resources;
    expect(inv.api_version).toBe('1.0');
    expect(r.cpu.total).toBe(nproc);
    expect(r.cpu.architecture).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim();
    if (model) expect(r.cpu.sockets[0]?.name).toBe(model);
    const ids = r.cpu.sockets.flatMap((s) => s.cores.flatMap((c) => c.threads.map((t) => t.id))).sort((a, b) => a - b);
    expect(ids).toEqual([...Array(nproc).keys()]);
  });

  it('reports the memory /proc/meminfo reports, split over the NUMA nodes', () => {
    const kb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    const r = inv.resources;
    expect(r.memory.total).toBe(kb * 1024);
    const numa = sysList('/sys/devices/system/node').filter((n) => /^node\d+$/.test(n));
    expect(r.numa_nodes.map((n) => n.id)).toEqual(numa.length > 0 ? numa.map((n) => Number(n.slice(4))) : [0]);
    expect(r.numa_nodes.flatMap((n) => n.cpus).sort((a, b) => a - b)).toEqual([...Array(r.cpu.total).keys()]);
    // Each node's memory is what the kernel reports for that node. The nodes need not add up to
    // MemTotal: memory added after boot (virtio-mem, balloon) can be missing from node meminfo.
    for (const n of r.numa_nodes) {
      const file = `/sys/devices/system/node/node${n.id}/meminfo`;
      if (numa.length === 0) continue;
      const nodeKb = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync(file, 'utf8'))?.[1]);
      expect(n.memory).toBe(nodeKb * 1024);
    }
  });

  it('lists the disks lsblk lists, with size, model, serial and rotation', () => {
    const lsblk = JSON.parse(execFileSync('lsblk', ['-J', '-d', '-b', '-o', 'NAME,SIZE,ROTA,MODEL,SERIAL,TYPE'], { encoding: 'utf8' })) as {
      blockdevices: { name: string; size: number; rota: boolean; model: string | null; serial: string | null; type: string }[];
    };
    const expected = lsblk.blockdevices.filter((d) => d.type === 'disk' && d.size > 0 && !/^(loop|ram|zram|sr|md|nbd)/.test(d.name));
    const disks = inv.resources.storage.disks;
    expect(disks.map((d) => d.id)).toEqual(expected.map((d) => d.name).sort());
    for (const e of expected) {
      const d = disks.find((x) => x.id === e.name);
      expect(d).toMatchObject({ size: Number(e.size), rotational: Boolean(e.rota), rpm: e.rota ? 1 : 0, model: (e.model ?? '').trim() });
      if (e.serial) expect(d?.serial).toBe(e.serial.trim());
    }
    expect(inv.resources.storage.total).toBe(disks.length);
  });

  it('lists the physical NICs with MAC, driver and link, and every interface with its addresses', () => {
    const physical = sysList('/sys/class/net').filter((n) => existsSync(`/sys/class/net/${n}/device`));
    const ports = inv.resources.network.cards.flatMap((c) => c.ports);
    expect(ports.map((p) => p.id).sort()).toEqual(physical);
    for (const p of ports) {
      expect(p.address).toBe(readFileSync(`/sys/class/net/${p.id}/address`, 'utf8').trim());
      expect(p.link_detected).toBe(readFileSync(`/sys/class/net/${p.id}/carrier`, 'utf8').trim() === '1');
    }
    for (const c of inv.resources.network.cards) expect(c.driver).not.toBe('');
    expect(Object.keys(inv.networks).sort()).toEqual(sysList('/sys/class/net'));
    const ipJson = JSON.parse(execFileSync('ip', ['-j', 'addr'], { encoding: 'utf8' })) as { ifname: string; addr_info: { local: string }[] }[];
    for (const i of ipJson) {
      expect(inv.networks[i.ifname]?.addresses.map((a) => a.address).sort()).toEqual(i.addr_info.map((a) => a.local).sort());
    }
  });

  it('lists the PCI and USB devices of sysfs, serial ports, and the system', () => {
    expect(inv.resources.pci.devices.map((d) => d.pci_address)).toEqual(sysList('/sys/bus/pci/devices'));
    for (const d of inv.resources.pci.devices) {
      expect(d.vendor_id).toBe(readFileSync(`/sys/bus/pci/devices/${d.pci_address}/vendor`, 'utf8').trim().replace('0x', ''));
    }
    expect(inv.resources.usb.total).toBe(inv.resources.usb.devices.length);
    for (const s of inv.resources.serial_ports) expect(s.path).toBe(`/dev/${s.name}`);
    const virt = spawnSync('systemd-detect-virt', { encoding: 'utf8' }).stdout.trim();
    expect(inv.resources.system.type === 'physical').toBe(virt === 'none' || virt === '');
    expect(inv.resources.system.firmware.boot_mode).toBe(existsSync('/sys/firmware/efi') ? 'uefi' : 'bios');
  });
});

describe('30-maas-01-bmc-config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-bmc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const script = join(BUILTIN_DIR, '30-maas-01-bmc-config');

  it('writes nothing when no BMC answers', () => {
    // Stand-ins for ipmitool and dmidecode that find no BMC: a test host that has a real BMC
    // must never have its users changed by a test.
    const stubs = join(dir, 'bin');
    mkdirSync(stubs);
    writeFileSync(join(stubs, 'ipmitool'), '#!/bin/sh\necho "Could not open device at /dev/ipmi0" >&2\nexit 1\n', { mode: 0o755 });
    writeFileSync(join(stubs, 'dmidecode'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const bmcPath = join(dir, 'bmc-config.yaml');
    const r = spawnSync(script, [], { env: { ...process.env, PATH: `${stubs}:${process.env['PATH'] ?? ''}`, BMC_CONFIG_PATH: bmcPath }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Virtual machine or container|No BMC detected/);
    expect(existsSync(bmcPath)).toBe(false);
  });

  it('creates a BMC user on an IPMI BMC and writes credentials that log in to it', async () => {
    const sim = await IpmiSim.start({ chassis: false });
    try {
      const bmcPath = join(dir, 'bmc-config.yaml');
      const reach = `-I lanplus -C 3 -H ${sim.address} -p ${sim.port} -U ${sim.user} -P ${sim.password}`;
      const r = spawnSync(script, ['--username=kiln', '--ipmi-privilege-level=ADMIN', '--ipmi-cipher-suite-id=3'], {
        env: { ...process.env, BMC_CONFIG_PATH: bmcPath, KILN_IPMITOOL_ARGS: reach, KILN_BMC_ADDRESS: sim.address },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
      const params = parseYaml(readFileSync(bmcPath, 'utf8')) as Record<string, string>;
      expect(Object.keys(params).sort()).toEqual(
        ['power_type', 'power_address', 'power_user', 'power_pass', 'power_driver', 'power_boot_type', 'k_g', 'cipher_suite_id', 'privilege_level', 'mac_address'].sort(),
      );
      expect(params).toMatchObject({ power_type: 'ipmi', power_address: sim.address, power_user: 'kiln', power_driver: 'LAN_2_0', cipher_suite_id: '3', privilege_level: 'ADMIN' });
      expect(params['power_pass']).toMatch(/^[A-Za-z0-9]{16}$/);
      // The written credentials work against the BMC.
      const login = spawnSync('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', sim.address, '-p', String(sim.port), '-U', 'kiln', '-P', params['power_pass'] ?? '', 'mc', 'info'], { encoding: 'utf8', timeout: 60_000 });
      expect({ status: login.status, stderr: login.status === 0 ? '' : login.stderr }).toEqual({ status: 0, stderr: '' });
      // A second run finds the file and leaves it alone.
      const again = spawnSync(script, [], { env: { ...process.env, BMC_CONFIG_PATH: bmcPath, KILN_IPMITOOL_ARGS: reach }, encoding: 'utf8' });
      expect(again.status).toBe(0);
      expect(again.stdout).toMatch(/already exists/);
    } finally {
      await sim.stop();
    }
  }, 180_000);
});
