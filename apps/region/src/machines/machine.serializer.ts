import { HARDWARE_INFO_KEYS } from '../commissioning/commissioning-resources.mapper';
import { NodeStatus, statusName } from '@kiln/lifecycle';
import { scriptStatusName } from '../scripts/script.names';
import { StorageView, storageStubs, type ViewMachine } from '../storage/storage.view';
import { subnetJson, vlanJson } from '../networking/networking.serializer';
import { BlockDeviceRow, InterfaceLinkRow, InterfaceNetRows, InterfaceRow, MachineRecord, MachineRow } from './machines.repository';

const API = '/MAAS/api/2.0';

/**
 * The machine JSON's script statuses, each with its `_name` (interface_test_status is MAAS's
 * second name for the network tests' status).
 */
export function scriptStatuses(r: MachineRow): Record<string, number | string> {
  const statuses: [string, number][] = [
    ['commissioning_status', r.commissioning_status],
    ['testing_status', r.testing_status],
    ['cpu_test_status', r.cpu_test_status],
    ['memory_test_status', r.memory_test_status],
    ['network_test_status', r.network_test_status],
    ['storage_test_status', r.storage_test_status],
    ['other_test_status', r.other_test_status],
    ['interface_test_status', r.network_test_status],
  ];
  const out: Record<string, number | string> = {};
  for (const [key, status] of statuses) {
    out[key] = status;
    out[`${key}_name`] = scriptStatusName(status);
  }
  return out;
}


/** hardware_info: every MAAS key, "Unknown" where commissioning found nothing. */
export function hardwareInfoJson(found: Record<string, string> | null | undefined): Record<string, string> {
  return Object.fromEntries(HARDWARE_INFO_KEYS.map((k) => [k, found?.[k] || 'Unknown']));
}

/** numanode_set: the nodes commissioning found, else one node holding every core and all the memory. */
export function numaNodesJson(rec: MachineRecord) {
  if (!rec.numaNodes.length) {
    return [{ index: 0, cores: Array.from({ length: rec.row.cpu_count }, (_, i) => i), memory: rec.row.memory, hugepages_set: [] }];
  }
  return rec.numaNodes.map((n) => ({ index: n.index, cores: n.cores, memory: Number(n.memory), hugepages_set: [] }));
}

/** A link as MAAS shows it: subnet only when it has one, ip_address only when assigned. */
export function linkJson(l: InterfaceLinkRow, net: InterfaceNetRows | undefined) {
  const subnet = l.subnet_id !== null && net ? net.subnets.get(l.subnet_id) : undefined;
  return {
    id: l.id,
    mode: l.mode,
    ...(subnet && net ? { subnet: subnetJson(subnet, net.vlans) } : {}),
    ...(l.ip_address ? { ip_address: l.ip_address } : {}),
  };
}

export function interfaceJson(systemId: string, i: InterfaceRow, net?: InterfaceNetRows) {
  const vlan = i.vlan_id !== null && i.vlan_id !== undefined && net ? net.vlans.get(i.vlan_id) : undefined;
  return {
    system_id: systemId,
    id: i.id,
    name: i.name,
    type: i.type,
    vlan: vlan && net ? vlanJson(vlan, net.vlans) : null,
    mac_address: i.mac_address,
    parents: i.parents ?? [],
    children: i.children ?? [],
    tags: i.tags,
    enabled: i.enabled,
    links: (i.links ?? []).map((l) => linkJson(l, net)),
    params: i.params && Object.keys(i.params).length ? i.params : '',
    discovered: null,
    effective_mtu: i.mtu,
    vendor: i.vendor,
    product: i.product,
    firmware_version: i.firmware_version,
    link_connected: i.link_connected,
    interface_speed: i.interface_speed,
    link_speed: i.link_speed,
    numa_node: i.numa_node,
    sriov_max_vf: i.sriov_max_vf,
    resource_uri: `${API}/nodes/${systemId}/interfaces/${i.id}/`,
  };
}

/** Whether an interface has more than the physical defaults (VLAN, links, relations, params) to show. */
export function interfaceHasModel(i: InterfaceRow): boolean {
  return (i.vlan_id !== null && i.vlan_id !== undefined) || !!i.links?.length || !!i.parents?.length || !!i.children?.length || !!(i.params && Object.keys(i.params).length);
}

/** A node's addresses: those its interfaces reported, then its links' addresses. */
export function interfaceAddresses(interfaces: readonly InterfaceRow[]): string[] {
  const out: string[] = [];
  for (const i of interfaces) if (i.ip_address && !out.includes(i.ip_address)) out.push(i.ip_address);
  for (const i of interfaces) for (const l of i.links ?? []) if (l.ip_address && !out.includes(l.ip_address)) out.push(l.ip_address);
  return out;
}

/** The machine's addresses: those its interfaces reported, then its static links' addresses. */
export function machineIpAddresses(rec: MachineRecord): string[] {
  return interfaceAddresses(rec.interfaces);
}

/** MAAS default_gateways: per family, the link chosen with set_default_gateway (or default_gateway on link_subnet). */
export function defaultGatewaysJson(rec: MachineRecord) {
  const out = { ipv4: { gateway_ip: null as string | null, link_id: null as number | null }, ipv6: { gateway_ip: null as string | null, link_id: null as number | null } };
  for (const i of rec.interfaces) {
    for (const l of i.links ?? []) {
      const subnet = l.default_gateway && l.subnet_id !== null ? rec.net?.subnets.get(l.subnet_id) : undefined;
      if (!subnet) continue;
      out[subnet.cidr.includes(':') ? 'ipv6' : 'ipv4'] = { gateway_ip: subnet.gateway_ip, link_id: l.id };
    }
  }
  return out;
}

export function blockDeviceJson(systemId: string, b: BlockDeviceRow) {
  const size = Number(b.size);
  return {
    system_id: systemId,
    id: b.id,
    name: b.name,
    uuid: b.uuid,
    type: b.type,
    path: `/dev/disk/by-dname/${b.name}`,
    model: b.model,
    serial: b.serial,
    id_path: b.id_path,
    size,
    block_size: b.block_size,
    available_size: size,
    used_size: 0,
    used_for: 'Unused',
    tags: b.tags,
    filesystem: null,
    partition_table_type: null,
    partitions: [],
    firmware_version: b.firmware_version,
    storage_pool: null,
    numa_node: b.numa_node,
    resource_uri: `${API}/nodes/${systemId}/blockdevices/${b.id}/`,
  };
}

/** special_filesystems: the machine's tmpfs/ramfs mounts (mount_special), as MAAS shows its special filesystems. */
export function specialFilesystemsJson(r: MachineRow) {
  return (r.special_filesystems ?? []).map((f) => ({
    fstype: f.fstype,
    label: null,
    uuid: f.uuid,
    mount_point: f.mount_point,
    mount_options: f.mount_options,
  }));
}

export function zoneJson(z: { id: number; name: string; description: string }) {
  return { id: z.id, name: z.name, description: z.description, resource_uri: `${API}/zones/${encodeURIComponent(z.name)}/` };
}

export function poolJson(p: { id: number; name: string; description: string }) {
  return { id: p.id, name: p.name, description: p.description, resource_uri: `${API}/resourcepool/${p.id}/` };
}

function domainJson(r: MachineRow) {
  return {
    authoritative: r.domain_authoritative,
    id: r.domain_id,
    is_default: r.domain_is_default,
    name: r.domain_name,
    resource_record_count: 0,
    resource_uri: `${API}/domains/${r.domain_id}/`,
    ttl: r.domain_ttl,
  };
}

/** The machine's storage model as a view, or null when the record carries none (every disk unused). */
export function machineStorageView(rec: MachineRecord): StorageView<ViewMachine> | null {
  if (!rec.storage) return null;
  const r = rec.row;
  return new StorageView<ViewMachine>({
    machine: { system_id: r.system_id, architecture: r.architecture, bios_boot_method: r.bios_boot_method },
    devices: rec.blockDevices.map((b) => ({ ...b, filesystem_group_id: b.filesystem_group_id ?? null })),
    ...rec.storage,
  });
}

/** The machine JSON of MAAS API 2.0 (reference 2.8.1): every key present, null when empty. */
export function machineJson(rec: MachineRecord, extra: Record<string, unknown> = {}) {
  const r = rec.row;
  const sid = r.system_id;
  const interfaces = rec.interfaces.map((i) => interfaceJson(sid, i, rec.net));
  const view = machineStorageView(rec);
  const disks = rec.blockDevices.map((b) => (view ? view.deviceJson(view.device(b.id)!) : blockDeviceJson(sid, b)));
  const stubs = view ? storageStubs(view) : { cache_sets: [], bcaches: [], raids: [], volume_groups: [] };
  const physical = disks.filter((d) => d.type === 'physical');
  const bootIface = rec.interfaces.find((i) => i.is_boot) ?? rec.interfaces[0];
  const bootDisk = rec.blockDevices.find((b) => b.is_boot) ?? rec.blockDevices.find((b) => b.type === 'physical');
  const storageMb = physical.reduce((sum, d) => sum + d.size, 0) / 1e6;
  const status = r.status as NodeStatus;
  const ipAddresses = machineIpAddresses(rec);
  return {
    system_id: sid,
    hostname: r.hostname,
    description: r.description,
    hardware_uuid: r.hardware_uuid,
    domain: domainJson(r),
    fqdn: `${r.hostname}.${r.domain_name}`,
    owner: r.owner,
    owner_data: r.owner_data,
    workload_annotations: r.owner_data,
    locked: r.locked,
    cache_sets: stubs.cache_sets,
    bcaches: stubs.bcaches,
    raids: stubs.raids,
    volume_groups: stubs.volume_groups,
    bios_boot_method: r.bios_boot_method,
    boot_interface: bootIface ? interfaces[rec.interfaces.indexOf(bootIface)] : null,
    architecture: r.architecture || null,
    min_hwe_kernel: r.min_hwe_kernel,
    hwe_kernel: r.hwe_kernel,
    cpu_count: r.cpu_count,
    cpu_speed: r.cpu_speed,
    memory: r.memory,
    swap_size: r.swap_size === null ? null : Number(r.swap_size),
    storage: storageMb,
    status,
    status_name: statusName(status),
    status_message: r.status_message,
    status_action: r.status_action,
    osystem: r.osystem,
    distro_series: r.distro_series,
    ephemeral_deploy: r.ephemeral_deploy,
    error_description: r.error_description,
    netboot: r.netboot,
    power_type: r.power_type ?? '',
    power_state: r.power_state,
    tag_names: r.tag_names ?? [],
    address_ttl: null,
    ip_addresses: ipAddresses,
    interface_set: interfaces,
    zone: zoneJson({ id: r.zone_id, name: r.zone_name, description: r.zone_description }),
    pool:
      r.pool_id === null ? null : poolJson({ id: r.pool_id, name: r.pool_name ?? '', description: r.pool_description ?? '' }),
    disable_ipv4: false,
    constraints_by_type: null,
    boot_disk: bootDisk ? disks[rec.blockDevices.indexOf(bootDisk)] : null,
    blockdevice_set: disks,
    physicalblockdevice_set: physical,
    virtualblockdevice_set: disks.filter((d) => d.type === 'virtual'),
    special_filesystems: specialFilesystemsJson(r),
    node_type: 0,
    node_type_name: 'Machine',
    parent: null,
    default_gateways: defaultGatewaysJson(rec),
    current_commissioning_result_id: r.current_commissioning_script_set_id,
    current_testing_result_id: r.current_testing_script_set_id,
    current_installation_result_id: r.current_installation_script_set_id,
    ...scriptStatuses(r),
    hardware_info: hardwareInfoJson(r.hardware_info),
    numanode_set: numaNodesJson(rec),
    last_sync: null,
    sync_interval: null,
    next_sync: null,
    enable_hw_sync: false,
    enable_kernel_crash_dump: false,
    is_dpu: false,
    resource_uri: `${API}/machines/${sid}/`,
    ...extra,
  };
}

/** What an anonymous caller may see of a machine. */
export function anonymousMachineJson(rec: MachineRecord) {
  const full = machineJson(rec);
  const keys = [
    'system_id',
    'hostname',
    'domain',
    'fqdn',
    'architecture',
    'status',
    'power_type',
    'power_state',
    'zone',
    'status_action',
    'status_message',
    'status_name',
    'node_type',
  ] as const;
  return { ...Object.fromEntries(keys.map((k) => [k, full[k]])), resource_uri: full.resource_uri };
}
