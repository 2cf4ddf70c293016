import type { MachineStorageLayout, SpecialFilesystem } from '@kiln/db';
import { BCACHE_DEFAULT_BOOT_SIZE, EFI_PARTITION_SIZE, MIN_BOOT_PARTITION_SIZE } from './storage-layout.validator';
import { renderModelStorage } from '../storage/curtin-storage.renderer';
import type { StorageView, ViewMachine } from '../storage/storage.view';
import { toYaml, type YamlValue } from './yaml.writer';

/**
 * The curtin configuration of a machine, rendered from what Kiln knows: the stored storage layout
 * laid out on its disks (curtin storage config version 1), its interfaces and their subnet links
 * (network config version 1; with no link, the boot interface asks DHCP), the kernel of
 * its release, its swap size and its special filesystems. A pure function of its input, so that
 * get_curtin_config and deployment render the same document.
 */

export interface CurtinDisk {
  id: number;
  name: string;
  /** 'physical' or 'virtual' */
  type: string;
  /** bytes */
  size: number;
  model: string;
  serial: string;
  idPath: string | null;
  isBoot: boolean;
}

export interface CurtinInterface {
  name: string;
  type: string;
  macAddress: string;
  mtu: number;
  enabled: boolean;
  isBoot: boolean;
  /** Bond members, a bridge's or a VLAN interface's parent (names). */
  parents?: readonly string[];
  /** bond_* / bridge_* settings as the interfaces API stores them. */
  params?: Readonly<Record<string, string | number | boolean>>;
  /** A VLAN interface's VLAN id. */
  vid?: number | null;
  /** How the interface is configured on its subnets (interfaces API link_subnet). */
  links?: readonly CurtinLink[];
}

/** One subnet link, resolved: a static address with its prefix, the gateway when it routes the machine. */
export interface CurtinLink {
  mode: string;
  family: 4 | 6;
  /** ip/prefix, for static links */
  address: string | null;
  /** Set on the link that is the machine's default gateway for its family. */
  gateway: string | null;
  dnsServers: readonly string[];
}

export interface CurtinMachine {
  hostname: string;
  osystem: string;
  distroSeries: string;
  /** e.g. amd64/generic */
  architecture: string;
  hweKernel: string | null;
  /** 'uefi', 'pxe', ... (null: not known, treated as BIOS) */
  biosBootMethod: string | null;
  /** bytes; null leaves curtin's default */
  swapSize: number | null;
  interfaces: readonly CurtinInterface[];
  disks: readonly CurtinDisk[];
  /** null: the default layout (flat) */
  storageLayout: MachineStorageLayout | null;
  specialFilesystems: readonly SpecialFilesystem[];
  /** The machine's storage model, when it has one: storage is rendered from it, not from the layout. */
  storageModel?: StorageView<ViewMachine> | null;
}

type Entry = { [key: string]: YamlValue | undefined };

const MIB = 1024 ** 2;
/** Partitions start 4 MiB into the disk and are 4 MiB aligned; 1 MiB at the end stays free (GPT's backup). */
const ALIGNMENT = 4 * MIB;
const INITIAL_OFFSET = 4 * MIB;
const END_SPACE = MIB;
const BIOS_GRUB_SIZE = MIB;
const TWO_TIB = 2 * 1024 ** 4;

/** The ESXi images' partitions (index, size); the datastore (size 0) takes what is left or root_size. */
const VMFS_PARTITIONS: Record<'vmfs6' | 'vmfs7', { index: number; size: number; bootable?: boolean }[]> = {
  vmfs6: [
    { index: 1, size: 3 * MIB, bootable: true },
    { index: 2, size: 4 * 1024 * MIB },
    { index: 3, size: 0 },
    { index: 5, size: 249 * MIB },
    { index: 6, size: 249 * MIB },
    { index: 7, size: 109 * MIB },
    { index: 8, size: 285 * MIB },
    { index: 9, size: 2560 * MIB },
  ],
  vmfs7: [
    { index: 1, size: 100 * MIB, bootable: true },
    { index: 5, size: 4095 * MIB },
    { index: 6, size: 4095 * MIB },
    { index: 7, size: 25662832128 },
    { index: 8, size: 0 },
  ],
};

const bytes = (n: number): string => `${n}B`;
const alignDown = (n: number): number => Math.max(0, Math.floor(n / ALIGNMENT) * ALIGNMENT);

/** Partitions of one disk, in order, with what is left for a partition that takes the rest. */
class DiskPlan {
  readonly partitions: Entry[] = [];
  private used = 0;

  constructor(
    readonly disk: CurtinDisk,
    readonly ptable: 'gpt' | 'msdos',
  ) {}

  get remaining(): number {
    return alignDown(this.disk.size - INITIAL_OFFSET - END_SPACE - this.used);
  }

  /** Adds a partition (null size: the rest of the disk) and returns its id. */
  add(size: number | null, flag?: 'boot' | 'bios_grub', exact = false, index?: number): string {
    const number = index ?? this.partitions.length + 1;
    const id = `${this.disk.name}-part${number}`;
    const wanted = size === null ? this.remaining : exact ? size : alignDown(size);
    const real = Math.min(wanted, Math.max(0, this.disk.size - INITIAL_OFFSET - END_SPACE - this.used));
    this.partitions.push({
      id,
      name: id,
      type: 'partition',
      number,
      device: this.disk.name,
      size: bytes(real),
      wipe: 'superblock',
      flag,
      offset: this.partitions.length === 0 ? bytes(INITIAL_OFFSET) : undefined,
    });
    this.used += real;
    return id;
  }
}

function diskEntry(d: CurtinDisk, ptable: string | undefined, grub: boolean): Entry {
  const e: Entry = { id: d.name, name: d.name, type: 'disk', wipe: 'superblock', ptable };
  if (d.serial && d.model) {
    e.serial = d.serial;
    e.model = d.model;
  } else e.path = d.idPath ?? `/dev/${d.name}`;
  if (grub) e.grub_device = true;
  return e;
}

function ptableFor(d: CurtinDisk, uefi: boolean): 'gpt' | 'msdos' {
  return uefi || d.size >= TWO_TIB ? 'gpt' : 'msdos';
}

/** storage: the layout on the machine's physical disks, as curtin's block-meta custom mode takes it. */
export function renderStorage(m: CurtinMachine): { version: 1; config: Entry[] } {
  const physical = m.disks.filter((d) => d.type === 'physical').sort((a, b) => a.id - b.id);
  const boot = physical.find((d) => d.isBoot) ?? physical[0];
  const layout: MachineStorageLayout = m.storageLayout ?? { layout: 'flat', boot_size: null, root_device: null, root_size: null };
  const specials = m.specialFilesystems.map((f, i): Entry => ({
    id: `${f.fstype}-mount${i}`,
    type: 'mount',
    fstype: f.fstype,
    spec: f.fstype,
    path: f.mount_point,
    options: f.mount_options || undefined,
  }));
  if (!boot) return { version: 1, config: specials };
  if (layout.layout === 'blank') {
    return { version: 1, config: [...physical.map((d) => diskEntry(d, undefined, false)), ...specials] };
  }

  const uefi = m.biosBootMethod === 'uefi';
  const arch = m.architecture.split('/')[0];
  // A root_device that no longer exists (the disks were re-discovered) falls back to the boot disk.
  const rootDisk = physical.find((d) => d.id === layout.root_device) ?? boot;
  const plans = new Map<number, DiskPlan>();
  const plan = (d: CurtinDisk, ptable?: 'gpt' | 'msdos'): DiskPlan => {
    let p = plans.get(d.id);
    if (!p) plans.set(d.id, (p = new DiskPlan(d, ptable ?? ptableFor(d, uefi))));
    return p;
  };
  const formats: Entry[] = [];
  const mounts: { path: string; entry: Entry }[] = [];
  const filesystem = (volume: string, fstype: string, label: string | undefined, path: string | undefined): void => {
    const fid = `${volume}_format`;
    formats.push({ id: fid, type: 'format', fstype, label, volume });
    if (path) mounts.push({ path, entry: { id: `${volume}_mount`, type: 'mount', path, device: fid } });
  };
  const extra: Entry[] = [];

  if (layout.layout === 'vmfs6' || layout.layout === 'vmfs7') {
    const p = plan(rootDisk, 'gpt');
    let datastore = '';
    const fixed = VMFS_PARTITIONS[layout.layout].reduce((n, x) => n + x.size, 0);
    for (const part of VMFS_PARTITIONS[layout.layout]) {
      const size = part.size === 0 ? (layout.root_size ?? Math.max(0, rootDisk.size - INITIAL_OFFSET - END_SPACE - fixed)) : part.size;
      // ESXi's partition numbers are not in disk order; curtin takes them as they are.
      const id = p.add(size, part.bootable ? 'boot' : undefined, true, part.index);
      if (part.size === 0) datastore = id;
    }
    extra.push({ id: 'datastore1', name: 'datastore1', type: layout.layout, devices: [datastore] });
  } else {
    const bootPlan = plan(boot);
    if (uefi && arch !== 'ppc64el') {
      filesystem(bootPlan.add(EFI_PARTITION_SIZE, 'boot'), 'fat32', 'efi', '/boot/efi');
    } else if (!uefi && bootPlan.ptable === 'gpt') {
      // BIOS boot from a GPT disk: GRUB needs its bios_grub partition.
      bootPlan.add(BIOS_GRUB_SIZE, 'bios_grub', true);
    }
    let bootSize = layout.layout === 'bcache' ? (layout.boot_size ?? BCACHE_DEFAULT_BOOT_SIZE) : layout.boot_size;
    if (!uefi && arch === 'arm64' && bootSize === null) bootSize = MIN_BOOT_PARTITION_SIZE;
    if (bootSize) filesystem(bootPlan.add(bootSize, 'boot'), 'ext4', 'boot', '/boot');
    const root = plan(rootDisk).add(layout.root_size);

    const cacheDisk = layout.layout === 'bcache' ? physical.find((d) => d.id === layout.cache_device && d.id !== boot.id) : undefined;
    if (layout.layout === 'lvm') {
      const vg = layout.vg_name || 'vgroot';
      const lv = layout.lv_name || 'lvroot';
      extra.push({ id: vg, name: vg, type: 'lvm_volgroup', devices: [root] });
      extra.push({ id: lv, name: lv, type: 'lvm_partition', volgroup: vg, size: layout.lv_size ? bytes(layout.lv_size) : undefined });
      filesystem(lv, 'ext4', 'root', '/');
    } else if (cacheDisk) {
      const cache = layout.cache_no_part ? cacheDisk.name : plan(cacheDisk).add(layout.cache_size ?? null);
      extra.push({
        id: 'bcache0',
        name: 'bcache0',
        type: 'bcache',
        backing_device: root,
        cache_device: cache,
        cache_mode: layout.cache_mode ?? 'writethrough',
      });
      filesystem('bcache0', 'ext4', 'root', '/');
    } else {
      // flat, or a bcache whose cache disk is gone (MAAS falls back to flat likewise).
      filesystem(root, 'ext4', 'root', '/');
    }
  }

  const config: Entry[] = [];
  const wholeCacheDisk = layout.layout === 'bcache' && layout.cache_no_part ? layout.cache_device : null;
  for (const d of physical) {
    const p = plans.get(d.id);
    if (p) config.push(diskEntry(d, p.partitions.length ? p.ptable : undefined, d.id === boot.id), ...p.partitions);
    else if (d.id === wholeCacheDisk && d.id !== boot.id) config.push(diskEntry(d, undefined, false));
  }
  config.push(...extra, ...formats);
  // Mount points in path order, so that / is mounted before what lies below it.
  config.push(...mounts.sort((a, b) => a.path.localeCompare(b.path)).map((x) => x.entry), ...specials);
  return { version: 1, config };
}

/** The curtin names of the bond settings Kiln stores. */
const BOND_PARAMS: Record<string, string> = {
  bond_mode: 'bond-mode',
  bond_miimon: 'bond-miimon',
  bond_downdelay: 'bond-downdelay',
  bond_updelay: 'bond-updelay',
  bond_lacp_rate: 'bond-lacp-rate',
  bond_xmit_hash_policy: 'bond-xmit-hash-policy',
  bond_num_grat_arp: 'bond-num-grat-arp',
};

/**
 * A link as a curtin subnet: static with its address (and gateway, DNS), DHCP per family, and
 * LINK_UP as manual. An AUTO link is static with the address it took when the deploy started; one
 * without an address yet (the configuration read before a deploy) renders as DHCP.
 */
function curtinSubnet(l: CurtinLink): Entry {
  if ((l.mode === 'static' || l.mode === 'auto') && l.address) {
    return { type: 'static', address: l.address, gateway: l.gateway ?? undefined, dns_nameservers: l.dnsServers.length ? [...l.dnsServers] : undefined };
  }
  if (l.mode === 'dhcp' || l.mode === 'auto') return { type: l.family === 6 ? 'dhcp6' : 'dhcp' };
  return { type: 'manual' };
}

/**
 * network: without any subnet link, the enabled physical interfaces, the boot interface asking
 * DHCP and the others manual. Once interfaces are linked (interfaces API), every enabled interface
 * (physical, bond, VLAN, bridge, each after its parents) with its links as subnets.
 */
export function renderNetwork(m: CurtinMachine): { version: 1; config: Entry[] } {
  if (!m.interfaces.some((i) => i.links?.length)) {
    const ifaces = m.interfaces.filter((i) => i.enabled && i.type === 'physical');
    const boot = ifaces.find((i) => i.isBoot) ?? ifaces[0];
    return {
      version: 1,
      config: ifaces.map((i) => ({
        id: i.name,
        name: i.name,
        type: 'physical',
        mac_address: i.macAddress,
        mtu: i.mtu,
        subnets: [{ type: i === boot ? 'dhcp' : 'manual' }],
      })),
    };
  }
  const pending = m.interfaces.filter((i) => i.enabled);
  const done = new Set<string>();
  const config: Entry[] = [];
  while (pending.length) {
    const next = pending.findIndex((i) => (i.parents ?? []).every((p) => done.has(p) || !pending.some((x) => x.name === p)));
    const [i] = pending.splice(next < 0 ? 0 : next, 1);
    done.add(i.name);
    const subnets = i.links?.length ? i.links.map(curtinSubnet) : [{ type: 'manual' }];
    const parents = [...(i.parents ?? [])];
    if (i.type === 'bond') {
      const params: Entry = {};
      for (const [k, v] of Object.entries(i.params ?? {})) if (BOND_PARAMS[k]) params[BOND_PARAMS[k]] = v;
      config.push({ id: i.name, name: i.name, type: 'bond', mac_address: i.macAddress, mtu: i.mtu, bond_interfaces: parents, params, subnets });
    } else if (i.type === 'bridge') {
      const p = i.params ?? {};
      const params: Entry = { bridge_stp: p.bridge_stp === true, bridge_fd: typeof p.bridge_fd === 'number' ? p.bridge_fd : 15 };
      config.push({ id: i.name, name: i.name, type: 'bridge', mac_address: i.macAddress, mtu: i.mtu, bridge_interfaces: parents, params, subnets });
    } else if (i.type === 'vlan') {
      config.push({ id: i.name, name: i.name, type: 'vlan', vlan_link: parents[0], vlan_id: i.vid ?? undefined, mtu: i.mtu, subnets });
    } else {
      config.push({ id: i.name, name: i.name, type: 'physical', mac_address: i.macAddress, mtu: i.mtu, subnets });
    }
  }
  return { version: 1, config };
}

/** The kernel package of an Ubuntu release's kernel choice: ga-22.04 -> linux-generic, hwe-22.04 -> linux-generic-hwe-22.04. */
export function kernelPackage(osystem: string, hweKernel: string | null): string | null {
  if (osystem !== 'ubuntu' || !hweKernel) return null;
  const ga = /^ga-[\d.]+$/.exec(hweKernel);
  if (ga) return 'linux-generic';
  const hwe = /^hwe-([\d.]+(?:-edge)?)$/.exec(hweKernel);
  return hwe ? `linux-generic-hwe-${hwe[1]}` : null;
}

export function renderCurtinConfig(m: CurtinMachine): Entry {
  const kpackage = kernelPackage(m.osystem, m.hweKernel);
  return {
    install: {
      log_file: '/tmp/install.log',
      error_tarfile: '/tmp/curtin-logs.tar',
      post_files: ['/tmp/install.log', '/tmp/curtin-logs.tar'],
    },
    kernel: kpackage ? { package: kpackage, mapping: {} } : undefined,
    swap: m.swapSize === null ? undefined : { size: bytes(m.swapSize) },
    storage: m.storageModel ? renderModelStorage(m.storageModel, m.specialFilesystems) : renderStorage(m),
    network: renderNetwork(m),
  };
}

/** The storage config entry types Kiln's installer (libs/scripts/installer/kiln-install.py) builds. */
export const INSTALLER_STORAGE_TYPES: ReadonlySet<string> = new Set(['disk', 'partition', 'format', 'mount', 'lvm_volgroup', 'lvm_partition', 'bcache', 'raid']);

/**
 * Why Kiln's installer cannot lay out this storage config (null: it can): an entry type it does
 * not build (vmfs datastores), or, on a machine with disks, nothing mounted at / (a blank layout).
 */
export function installerRefusal(m: CurtinMachine): string | null {
  const storage = m.storageModel ? renderModelStorage(m.storageModel, m.specialFilesystems) : renderStorage(m);
  const unsupported = [...new Set(storage.config.map((e) => String(e.type)).filter((t) => !INSTALLER_STORAGE_TYPES.has(t)))].sort();
  if (unsupported.length) return `Kiln's installer cannot lay out ${unsupported.join(', ')}.`;
  // A machine with no disks known (not commissioned) is not judged here: there is nothing to lay out yet.
  const hasDisks = m.disks.some((d) => d.type === 'physical');
  if (hasDisks && !storage.config.some((e) => e.type === 'mount' && e.path === '/' && e.device)) return 'it mounts no filesystem at /.';
  return null;
}

/** The image the installer writes: its path under the rack's /images/, digest and size. */
export interface InstallerImage {
  path: string;
  sha256: string;
  size: number;
}

/** Where and as whom the installer reports, and what the installed system's datasource uses. */
export interface InstallerContext {
  systemId: string;
  /** The rack's base URL as the machine reached it (`http://10.0.0.2:5248`); null: not known (get_curtin_config). */
  origin: string | null;
  image: InstallerImage | null;
  /** The node's token; null leaves the keys out (get_curtin_config shows no secrets). */
  credentials: { consumerKey: string; tokenKey: string; tokenSecret: string } | null;
}

/** Shown instead of the rack's address when the configuration is rendered outside a boot. */
export const RACK_PLACEHOLDER = 'http://<rack>:5248';

/**
 * What Kiln's installer reads: the curtin configuration plus curtin's `sources` (the root
 * tarball on the rack, with its sha256 and size), `reporting` (the status webhook with the node's
 * credentials) and `kiln` (the installed system's metadata URL and hostname).
 */
export function renderInstallerConfig(m: CurtinMachine, ctx: InstallerContext): Entry {
  const base = (ctx.origin ?? RACK_PLACEHOLDER).replace(/\/+$/, '');
  const metadataUrl = `${base}/MAAS/metadata/`;
  const creds = ctx.credentials
    ? { consumer_key: ctx.credentials.consumerKey, token_key: ctx.credentials.tokenKey, token_secret: ctx.credentials.tokenSecret }
    : {};
  return {
    ...renderCurtinConfig(m),
    sources: ctx.image ? { '00_kiln': { type: 'tgz', uri: `${base}/images/${ctx.image.path}`, sha256: ctx.image.sha256, size: ctx.image.size } } : undefined,
    reporting: { maas: { type: 'webhook', endpoint: `${metadataUrl}status/${ctx.systemId}`, ...creds } },
    kiln: { metadata_url: metadataUrl, hostname: m.hostname, system_id: ctx.systemId },
  };
}

/** get_curtin_config's text: a comment naming the machine and its release, then the configuration. */
export function curtinConfigYaml(m: CurtinMachine, ctx?: InstallerContext): string {
  const release = m.osystem && m.distroSeries ? `${m.osystem}/${m.distroSeries}` : 'no release chosen';
  return `# curtin configuration of ${m.hostname}: ${release} on ${m.architecture || 'an unknown architecture'}\n${toYaml(ctx ? renderInstallerConfig(m, ctx) : renderCurtinConfig(m))}`;
}
