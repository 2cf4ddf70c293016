/**
 * What one simulated machine is made of: varied but deterministic per (fleet seed, index), so the
 * same run can be repeated and a test can predict what the region should store.
 */
export interface SimulatedDisk {
  name: string;
  model: string;
  serial: string;
  size: number;
  rotational: boolean;
  kind: 'scsi' | 'nvme' | 'virtio';
}

export interface SimulatedNic {
  name: string;
  mac: string;
  vendor: string;
  product: string;
  driver: string;
  speedMbps: number;
  pciAddress: string;
}

export interface SimulatedMachine {
  index: number;
  /** Hostname Kiln is given when the machine is added with its BMC (commission mode). */
  hostname: string;
  architecture: 'amd64';
  cpu: { model: string; vendor: string; sockets: number; coresPerSocket: number; threadsPerCore: number; mhz: number };
  /** Bytes. */
  memory: number;
  numaNodes: number;
  disks: SimulatedDisk[];
  nics: SimulatedNic[];
  system: { vendor: string; product: string; serial: string; uuid: string };
}

/** mulberry32: a tiny seeded PRNG (no dependency, same sequence everywhere). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CPUS = [
  { model: 'Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz', vendor: 'GenuineIntel', mhz: 2000 },
  { model: 'Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz', vendor: 'GenuineIntel', mhz: 2400 },
  { model: 'AMD EPYC 7443P 24-Core Processor', vendor: 'AuthenticAMD', mhz: 2850 },
  { model: 'AMD EPYC 9354 32-Core Processor', vendor: 'AuthenticAMD', mhz: 3250 },
] as const;
const DISK_MODELS = [
  { model: 'SAMSUNG MZ7L3960', rotational: false, kind: 'scsi', size: 960_197_124_096 },
  { model: 'ST4000NM0035-1V4', rotational: true, kind: 'scsi', size: 4_000_787_030_016 },
  { model: 'INTEL SSDPE2KX020T8', rotational: false, kind: 'nvme', size: 2_000_398_934_016 },
  { model: 'QEMU HARDDISK', rotational: true, kind: 'virtio', size: 107_374_182_400 },
] as const;
const NIC_MODELS = [
  { vendor: 'Intel Corporation', product: 'Ethernet Controller X710 for 10GbE SFP+', driver: 'i40e', speedMbps: 10_000 },
  { vendor: 'Mellanox Technologies', product: 'MT27800 Family [ConnectX-5]', driver: 'mlx5_core', speedMbps: 25_000 },
  { vendor: 'Broadcom Inc. and subsidiaries', product: 'NetXtreme BCM5720 Gigabit Ethernet PCIe', driver: 'tg3', speedMbps: 1_000 },
] as const;

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

/**
 * The i-th machine of a fleet. MACs are locally administered (0a:...), made of the fleet's seed
 * and the index, so two fleets with different seeds never share one.
 */
export function simulatedMachine(fleetSeed: number, index: number, hostnamePrefix = 'sim'): SimulatedMachine {
  const r = prng((fleetSeed * 1_000_003) ^ (index * 7919 + 17));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const cpu = pick(CPUS);
  const sockets = r() < 0.3 ? 2 : 1;
  const coresPerSocket = pick([4, 8, 16, 24, 32]);
  const threadsPerCore = r() < 0.8 ? 2 : 1;
  const memGiB = pick([16, 32, 64, 128, 256, 512]);
  const nDisks = 1 + Math.floor(r() * 4);
  const nNics = 1 + Math.floor(r() * 3);
  const serialBase = `${hex2(fleetSeed >> 8)}${hex2(fleetSeed)}${index.toString(16).padStart(6, '0')}`.toUpperCase();
  const disks: SimulatedDisk[] = [];
  let sd = 0;
  let nvme = 0;
  let vd = 0;
  for (let d = 0; d < nDisks; d++) {
    const m = pick(DISK_MODELS);
    const name = m.kind === 'nvme' ? `nvme${nvme++}n1` : m.kind === 'virtio' ? `vd${String.fromCharCode(97 + vd++)}` : `sd${String.fromCharCode(97 + sd++)}`;
    disks.push({ name, model: m.model, serial: `S${serialBase}D${d}`, size: m.size, rotational: m.rotational, kind: m.kind });
  }
  const nic = pick(NIC_MODELS);
  const nics: SimulatedNic[] = [];
  for (let n = 0; n < nNics; n++) {
    // 0a:SS:SS:II:II:IN — seed (16 bits), index (20 bits), NIC number (4 bits).
    const v = index * 16 + n;
    const mac = ['0a', hex2(fleetSeed >> 8), hex2(fleetSeed), hex2(v >> 16), hex2(v >> 8), hex2(v)].join(':');
    nics.push({ name: `eno${n + 1}`, mac, ...nic, pciAddress: `0000:${hex2(0x18 + n)}:00.0` });
  }
  const uuid = `${serialBase.toLowerCase().padEnd(8, '0').slice(0, 8)}-5349-4d00-8000-${index.toString(16).padStart(12, '0')}`;
  return {
    index,
    hostname: `${hostnamePrefix}-${fleetSeed.toString(16)}-${index}`,
    architecture: 'amd64',
    cpu: { ...cpu, sockets, coresPerSocket, threadsPerCore },
    memory: memGiB * 1024 * 1024 * 1024,
    numaNodes: sockets,
    disks,
    nics,
    system: { vendor: pick(['Dell Inc.', 'Supermicro', 'HPE', 'Lenovo']), product: pick(['PowerEdge R650', 'SYS-1029P-WTR', 'ProLiant DL360 Gen10', 'ThinkSystem SR630']), serial: `SN${serialBase}`, uuid },
  };
}

/** Logical CPUs of the machine. */
export function cpuCount(m: SimulatedMachine): number {
  return m.cpu.sockets * m.cpu.coresPerSocket * m.cpu.threadsPerCore;
}
