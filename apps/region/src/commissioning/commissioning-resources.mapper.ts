/**
 * `50-maas-01-commissioning` output (MAAS's machine-resources document: LXD's resources shape plus
 * `networks`, with Kiln's `resources.numa_nodes`, `resources.serial_ports` and
 * `storage.disks[].rotational`) → the hardware inventory a machine gets from it. Pure: no I/O, no
 * framework. The rules are MAAS's (metadataserver/builtin_scripts/hooks.py `process_lxd_results`,
 * network.py `update_node_interfaces`, provisioningserver/utils/lxd.py `parse_lxd_cpuinfo`),
 * with the differences said where they are.
 */

/** The output cannot be read; `reason` says why, in words an operator can act on. */
export class CommissioningOutputError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CommissioningOutputError';
  }
}

export interface InventoryNumaNode {
  index: number;
  /** CPU (thread) ids on the node, ascending. */
  cores: number[];
  /** MiB */
  memory: number;
}

export interface InventoryDisk {
  name: string;
  model: string;
  serial: string;
  /** `/dev/disk/by-id/<id>` when the disk has both an id and a serial, else `/dev/<name>` (MAAS). */
  idPath: string;
  /** bytes */
  size: number;
  blockSize: number;
  firmwareVersion: string | null;
  /** `rotary` or `ssd`, then `<rpm>rpm`, `removable`, `sata` as MAAS tags them. */
  tags: string[];
  numaNode: number;
}

export interface InventoryInterface {
  name: string;
  /** lower-case colon form */
  mac: string;
  vendor: string | null;
  product: string | null;
  firmwareVersion: string | null;
  /** Mbit/s the link runs at now (0: no link). */
  linkSpeed: number;
  /** Mbit/s the NIC can do at most. */
  interfaceSpeed: number;
  linkConnected: boolean;
  mtu: number;
  numaNode: number;
  sriovMaxVf: number;
}

/** MAAS's `hardware_info` keys with what is known; keys not known are left out (the API shows "Unknown"). */
export type HardwareInfo = Partial<Record<(typeof HARDWARE_INFO_KEYS)[number], string>>;

export const HARDWARE_INFO_KEYS = [
  'system_vendor',
  'system_product',
  'system_family',
  'system_version',
  'system_sku',
  'system_serial',
  'cpu_model',
  'mainboard_vendor',
  'mainboard_product',
  'mainboard_serial',
  'mainboard_version',
  'mainboard_firmware_vendor',
  'mainboard_firmware_date',
  'mainboard_firmware_version',
  'chassis_vendor',
  'chassis_type',
  'chassis_serial',
  'chassis_version',
] as const;

export interface SerialPort {
  name: string;
  path: string;
  driver: string;
  address: string;
}

export interface MachineInventory {
  cpuCount: number;
  /** MHz */
  cpuSpeed: number;
  /** MiB */
  memory: number;
  /** `amd64/generic` and the like, from the kernel architecture; null when it is not one MAAS knows. */
  architecture: string | null;
  /** The SMBIOS system UUID when it is a valid UUID (MAAS ignores vendors' service tags there). */
  hardwareUuid: string | null;
  hardwareInfo: HardwareInfo;
  /** `virtual-machine`/`container` machines get MAAS's `virtual` tag. */
  virtual: boolean;
  /** `uefi` or `pxe` from how the firmware booted the ephemeral environment. */
  biosBootMethod: 'uefi' | 'pxe' | null;
  numaNodes: InventoryNumaNode[];
  disks: InventoryDisk[];
  interfaces: InventoryInterface[];
  serialPorts: SerialPort[];
}

const MIB = 1024 * 1024;
/** MAAS: MIN_BLOCK_DEVICE_SIZE; smaller devices are not modelled. */
export const MIN_BLOCK_DEVICE_SIZE = 4 * MIB;
/** Devices that are never disks to install on (the script leaves most out already). */
const NOT_A_DISK = /^(loop|ram|zram|sr|fd|nbd)\d*/;
const UUID = /^[\da-f]{8}-?([\da-f]{4}-?){3}[\da-f]{12}$/i;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** Kernel architecture → MAAS's Debian architecture (provisioningserver/utils/arch.py). */
const ARCHITECTURES: Readonly<Record<string, string>> = {
  x86_64: 'amd64',
  amd64: 'amd64',
  i386: 'i386',
  i486: 'i386',
  i586: 'i386',
  i686: 'i386',
  aarch64: 'arm64',
  arm64: 'arm64',
  armv7l: 'armhf',
  armv8l: 'armhf',
  ppc64le: 'ppc64el',
  ppc64el: 'ppc64el',
  s390x: 's390x',
  riscv64: 'riscv64',
};

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, where: string): Json {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new CommissioningOutputError(`${where} is not an object`);
  return v;
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CommissioningOutputError(`${where} is not a list`);
  return v;
}

function int(v: unknown, where: string, dflt = 0): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CommissioningOutputError(`${where} is not a number`);
  return Math.trunc(v);
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** Parses the script's stdout; throws CommissioningOutputError when it cannot be read. */
export function parseMachineResources(stdout: Buffer | string): MachineInventory {
  const raw = typeof stdout === 'string' ? stdout : stdout.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new CommissioningOutputError('invalid JSON data');
  }
  if (!isObject(doc)) throw new CommissioningOutputError('the document is not a JSON object');
  if (doc.api_version !== '1.0') throw new CommissioningOutputError('data not from the LXD resources API 1.0 (api_version is not "1.0")');
  if (!isObject(doc.resources)) throw new CommissioningOutputError('no "resources" object');
  // MAAS reads the interfaces from "networks" and fails without it; taking its absence for "no
  // interfaces" would remove every NIC the machine has.
  if (!isObject(doc.networks)) throw new CommissioningOutputError('no "networks" object');
  return mapMachineResources(doc.resources, doc.networks);
}

export function mapMachineResources(resources: Json, networks: Json): MachineInventory {
  const cpu = obj(resources.cpu, 'resources.cpu');
  const cpuInfo = parseCpu(cpu);
  const memory = obj(resources.memory, 'resources.memory');
  const numaNodes = numaNodesOf(cpuInfo.coresByNode, memory, resources.numa_nodes);
  const system = obj(resources.system, 'resources.system');
  const hardwareInfo = systemInfo(system);
  if (cpuInfo.model) hardwareInfo.cpu_model = cpuInfo.model;
  const firmware = obj(system.firmware, 'resources.system.firmware');
  const bootMode = text(firmware.boot_mode);
  const uuid = text(system.uuid);
  const type = text(system.type);
  return {
    cpuCount: cpuInfo.count,
    cpuSpeed: cpuInfo.speed,
    memory: Math.trunc(int(memory.total, 'resources.memory.total') / MIB),
    architecture: ARCHITECTURES[text(cpu.architecture)] ? `${ARCHITECTURES[text(cpu.architecture)]}/generic` : null,
    hardwareUuid: UUID.test(uuid) ? uuid.toLowerCase() : null,
    hardwareInfo,
    virtual: type !== '' && type !== 'physical',
    biosBootMethod: bootMode === 'uefi' ? 'uefi' : bootMode === 'bios' ? 'pxe' : null,
    numaNodes,
    disks: disksOf(obj(resources.storage, 'resources.storage')),
    interfaces: interfacesOf(obj(resources.network, 'resources.network'), networks),
    serialPorts: parseSerialPorts(resources.serial_ports ?? [], 'resources.serial_ports'),
  };
}

/** parse_lxd_cpuinfo: count = threads, model when all sockets agree, speed from the model's "@ x.yzGHz", else turbo, else current. */
function parseCpu(cpu: Json): { count: number; speed: number; model: string | null; coresByNode: Map<number, number[]> } {
  const sockets = list(cpu.sockets, 'resources.cpu.sockets').map((s, i) => obj(s, `resources.cpu.sockets[${i}]`));
  const coresByNode = new Map<number, number[]>();
  const names: string[] = [];
  for (const [si, socket] of sockets.entries()) {
    if (typeof socket.name === 'string') names.push(socket.name);
    for (const [ci, core] of list(socket.cores, `resources.cpu.sockets[${si}].cores`).entries()) {
      for (const [ti, t] of list(obj(core, 'core').threads, `resources.cpu.sockets[${si}].cores[${ci}].threads`).entries()) {
        const thread = obj(t, 'thread');
        const where = `resources.cpu.sockets[${si}].cores[${ci}].threads[${ti}]`;
        const node = int(thread.numa_node, `${where}.numa_node`);
        const id = int(thread.id, `${where}.id`, -1);
        if (id < 0) throw new CommissioningOutputError(`${where} has no id`);
        coresByNode.set(node, [...(coresByNode.get(node) ?? []), id]);
      }
    }
  }
  let model: string | null = null;
  let speed = 0;
  if (names.length && names.every((n) => n === names[0])) {
    const first = names[0].split('\n')[0];
    model = first.includes('@') ? first.split(' @')[0] : first;
    if (!model.trim()) model = null;
    const ghz = /\s@\s(\d+\.\d+)GHz$/m.exec(names[0]);
    if (ghz) speed = Math.trunc(parseFloat(ghz[1]) * 1000);
  }
  if (!speed) {
    const turbo = Math.max(0, ...sockets.map((s) => int(s.frequency_turbo, 'frequency_turbo')));
    if (turbo) speed = turbo;
    else if (sockets.length) {
      const average = sockets.reduce((sum, s) => sum + int(s.frequency, 'frequency'), 0) / sockets.length;
      speed = Math.round(average / 100) * 100;
    }
  }
  return { count: int(cpu.total, 'resources.cpu.total'), speed, model, coresByNode };
}

/**
 * NUMA nodes as MAAS builds them: cores from the threads, memory from `memory.nodes` (node 0
 * holds all the memory when there is no per-node breakdown). Kiln's `resources.numa_nodes`
 * fills in when the CPU section names no nodes at all.
 */
function numaNodesOf(coresByNode: Map<number, number[]>, memory: Json, kilnNodes: unknown): InventoryNumaNode[] {
  const nodes = new Map<number, InventoryNumaNode>();
  const node = (index: number) => {
    let n = nodes.get(index);
    if (!n) nodes.set(index, (n = { index, cores: [], memory: 0 }));
    return n;
  };
  for (const [index, cores] of coresByNode) node(index).cores.push(...cores);
  if (!coresByNode.size) {
    for (const [i, k] of list(kilnNodes, 'resources.numa_nodes').entries()) {
      const kn = obj(k, `resources.numa_nodes[${i}]`);
      node(int(kn.id, `resources.numa_nodes[${i}].id`)).cores.push(
        ...list(kn.cpus, `resources.numa_nodes[${i}].cpus`).map((c) => int(c, `resources.numa_nodes[${i}].cpus`)),
      );
    }
  }
  const memoryNodes = memory.nodes === undefined ? [{ numa_node: 0, total: memory.total }] : list(memory.nodes, 'resources.memory.nodes');
  for (const [i, m] of memoryNodes.entries()) {
    const mn = obj(m, `resources.memory.nodes[${i}]`);
    node(int(mn.numa_node, `resources.memory.nodes[${i}].numa_node`)).memory = Math.trunc(int(mn.total, `resources.memory.nodes[${i}].total`) / MIB);
  }
  node(0);
  return [...nodes.values()].map((n) => ({ ...n, cores: [...new Set(n.cores)].sort((a, b) => a - b) })).sort((a, b) => a.index - b.index);
}

/** _process_system_information: vendors' placeholders ("0123456789", "none") are not information. */
function systemInfo(system: Json): HardwareInfo {
  const info: HardwareInfo = {};
  const put = (key: keyof HardwareInfo, v: unknown) => {
    const value = text(v);
    if (value && !['0123456789', 'none'].includes(value.toLowerCase())) info[key] = value;
  };
  for (const k of ['vendor', 'product', 'family', 'version', 'sku', 'serial'] as const) put(`system_${k}`, system[k]);
  const board = isObject(system.motherboard) ? system.motherboard : {};
  for (const k of ['vendor', 'product', 'serial', 'version'] as const) put(`mainboard_${k}`, board[k]);
  const firmware = isObject(system.firmware) ? system.firmware : {};
  for (const k of ['vendor', 'date', 'version'] as const) put(`mainboard_firmware_${k}`, firmware[k]);
  const chassis = isObject(system.chassis) ? system.chassis : {};
  for (const k of ['vendor', 'type', 'serial', 'version'] as const) put(`chassis_${k}`, chassis[k]);
  return info;
}

/**
 * _update_node_physical_block_devices: read-only devices and CD-ROMs are skipped, as are devices
 * of 4 MiB or less and loop/ram devices. MAAS keeps removable disks (USB sticks, SD cards), tagged
 * `removable`; so does Kiln. Kiln's script reports `rpm: 1` for any spinning disk it cannot ask
 * the speed of, so a disk is `rotary` by its `rotational` flag and gets an `<rpm>rpm` tag only
 * for a real speed.
 */
function disksOf(storage: Json): InventoryDisk[] {
  const out: InventoryDisk[] = [];
  for (const [i, d] of list(storage.disks, 'resources.storage.disks').entries()) {
    const disk = obj(d, `resources.storage.disks[${i}]`);
    const where = `resources.storage.disks[${i}]`;
    const name = text(disk.id);
    if (!name) throw new CommissioningOutputError(`${where} has no id`);
    if (out.some((o) => o.name === name)) throw new CommissioningOutputError(`disk ${name} is listed twice`);
    if (disk.read_only === true || disk.type === 'cdrom' || NOT_A_DISK.test(name)) continue;
    const size = int(disk.size, `${where}.size`);
    if (size <= MIN_BLOCK_DEVICE_SIZE) continue;
    const serial = text(disk.serial);
    const deviceId = text(disk.device_id);
    const rpm = int(disk.rpm, `${where}.rpm`);
    const rotational = typeof disk.rotational === 'boolean' ? disk.rotational : rpm > 0;
    const tags = [rotational ? 'rotary' : 'ssd'];
    if (rotational && rpm > 1) tags.push(`${rpm}rpm`);
    if (disk.removable === true) tags.push('removable');
    if (disk.type === 'sata') tags.push('sata');
    out.push({
      name,
      model: text(disk.model),
      serial,
      idPath: deviceId && serial ? `/dev/disk/by-id/${deviceId}` : `/dev/${name}`,
      size,
      blockSize: int(disk.block_size, `${where}.block_size`) || 512,
      firmwareVersion: text(disk.firmware_version) || null,
      tags,
      numaNode: Math.max(0, int(disk.numa_node, `${where}.numa_node`)),
    });
  }
  return out;
}

/** The highest speed among `supported_modes` ("10000baseT/Full" → 10000), as MAAS reads it. */
function maxSupportedSpeed(modes: unknown): number | null {
  if (!Array.isArray(modes)) return null;
  const speeds = modes.map((m) => parseInt(String(m).split('base')[0], 10)).filter((n) => Number.isFinite(n));
  return speeds.length ? Math.max(...speeds) : null;
}

/**
 * Physical interfaces: every port of every network card, plus interfaces `networks` marks
 * physical that no card lists. Loopback and virtual interfaces (bridges, bonds, VLANs, tunnels)
 * are not physical NICs and Kiln does not model them. A port is connected when its interface is
 * up and it has a link (MAAS). MAAS takes the interface speed from `supported_modes`; Kiln's
 * script does not report them, so without them the current link speed stands in.
 */
function interfacesOf(network: Json, networks: Json): InventoryInterface[] {
  const out = new Map<string, InventoryInterface>();
  for (const [ci, c] of list(network.cards, 'resources.network.cards').entries()) {
    const card = obj(c, `resources.network.cards[${ci}]`);
    for (const [pi, p] of list(card.ports, `resources.network.cards[${ci}].ports`).entries()) {
      const port = obj(p, `resources.network.cards[${ci}].ports[${pi}]`);
      const where = `resources.network.cards[${ci}].ports[${pi}]`;
      const mac = text(port.address).toLowerCase();
      if (!MAC.test(mac)) continue; // InfiniBand (20-byte) addresses, as MAAS skips them
      const name = text(port.id);
      if (!name) throw new CommissioningOutputError(`${where} has no id`);
      const net = isObject(networks[name]) ? (networks[name] as Json) : {};
      const linkSpeed = Math.max(0, int(port.link_speed, `${where}.link_speed`));
      out.set(mac, {
        name,
        mac,
        vendor: text(card.vendor) || null,
        product: text(card.product) || null,
        firmwareVersion: text(card.firmware_version) || null,
        linkSpeed,
        interfaceSpeed: maxSupportedSpeed(port.supported_modes) ?? linkSpeed,
        linkConnected: port.link_detected === true && (net.state === undefined || net.state === 'up'),
        mtu: int(net.mtu, `networks.${name}.mtu`, 1500) || 1500,
        numaNode: Math.max(0, int(card.numa_node, `resources.network.cards[${ci}].numa_node`)),
        sriovMaxVf: int(obj(card.sriov, 'sriov').maximum_vfs, 'sriov.maximum_vfs'),
      });
    }
  }
  for (const [name, n] of Object.entries(networks)) {
    const net = obj(n, `networks.${name}`);
    const mac = text(net.hwaddr).toLowerCase();
    if (net.physical !== true || net.type !== 'broadcast' || net.bond || net.bridge || net.vlan || !MAC.test(mac) || out.has(mac)) continue;
    const speed = Math.max(0, int(net.speed, `networks.${name}.speed`));
    out.set(mac, {
      name,
      mac,
      vendor: null,
      product: null,
      firmwareVersion: null,
      linkSpeed: speed,
      interfaceSpeed: speed,
      linkConnected: net.state === 'up' && net.link_detected !== false,
      mtu: int(net.mtu, `networks.${name}.mtu`, 1500) || 1500,
      numaNode: 0,
      sriovMaxVf: 0,
    });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** `resources.serial_ports` or `maas-serial-ports` output: `{name, path, driver, address|port}` entries. */
export function parseSerialPorts(v: unknown, where = 'serial ports'): SerialPort[] {
  return list(v, where).map((p, i) => {
    const port = obj(p, `${where}[${i}]`);
    const name = text(port.name);
    if (!name) throw new CommissioningOutputError(`${where}[${i}] has no name`);
    return { name, path: text(port.path) || `/dev/${name}`, driver: text(port.driver), address: text(port.address) || text(port.port) };
  });
}

const BOOTIF = /BOOTIF=\d\d-([0-9a-f]{2}(?:[:-][0-9a-f]{2}){5})/i;

/** `maas-kernel-cmdline`: the MAC the BOOTIF parameter names (the interface the machine booted from), or null when there is none. */
export function bootInterfaceMac(cmdline: string): string | null {
  const m = BOOTIF.exec(cmdline);
  return m ? m[1].replace(/-/g, ':').toLowerCase() : null;
}

/** `maas-list-modaliases`: one modalias per line (`pci:v00008086d00001572sv...`, `dmi:bvn...`). */
export function parseModaliases(output: string): string[] {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const bad = lines.find((l) => !/^[a-z0-9_]+:\S*$/i.test(l));
  if (bad !== undefined) throw new CommissioningOutputError(`not a modalias: ${JSON.stringify(bad.slice(0, 80))}`);
  return [...new Set(lines)].sort();
}
