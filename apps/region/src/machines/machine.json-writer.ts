import { NodeStatus, statusName } from '@kiln/lifecycle';
import { storageStubs } from '../storage/storage.view';
import { defaultGatewaysJson, hardwareInfoJson, interfaceHasModel, interfaceJson, machineIpAddresses, machineStorageView, numaNodesJson, scriptStatuses, specialFilesystemsJson } from './machine.serializer';
import { BlockDeviceRow, InterfaceRow, MachineRecord, MachineRow } from './machines.repository';

/**
 * The machine JSON of machine.serializer.ts written straight to a string, for listings: no
 * intermediate objects, each nested interface and block device rendered once and reused where
 * MAAS repeats it (boot_interface, boot_disk, physicalblockdevice_set). A spec checks that both
 * produce the same document.
 */
const API = '/MAAS/api/2.0';
const s = (v: string | null | undefined): string => (v === null || v === undefined ? 'null' : JSON.stringify(v));
const n = (v: number | null | undefined): string => (v === null || v === undefined ? 'null' : String(v));
const strList = (v: string[] | null): string => (v && v.length ? JSON.stringify(v) : '[]');

const UNKNOWN_HARDWARE_INFO = JSON.stringify(hardwareInfoJson({}));
/** The script statuses part, rendered once per distinct combination (most machines share one). */
const TESTS = new Map<string, string>();
function tests(r: MachineRow): string {
  const key = `${r.current_commissioning_script_set_id}|${r.current_testing_script_set_id}|${r.current_installation_script_set_id}|${r.commissioning_status}|${r.testing_status}|${r.cpu_test_status}|${r.memory_test_status}|${r.network_test_status}|${r.storage_test_status}|${r.other_test_status}`;
  let json = TESTS.get(key);
  if (json === undefined) {
    json = JSON.stringify({
      current_commissioning_result_id: r.current_commissioning_script_set_id,
      current_testing_result_id: r.current_testing_script_set_id,
      current_installation_result_id: r.current_installation_script_set_id,
      ...scriptStatuses(r),
    }).slice(1, -1);
    if (TESTS.size > 10_000) TESTS.clear();
    TESTS.set(key, json);
  }
  return json;
}
const STATUS_NAMES = new Map<number, string>();

function iface(rec: MachineRecord, sid: string, i: InterfaceRow): string {
  if (interfaceHasModel(i)) return JSON.stringify(interfaceJson(sid, i, rec.net));
  return (
    `{"system_id":${s(sid)},"id":${i.id},"name":${s(i.name)},"type":${s(i.type)},"vlan":null,` +
    `"mac_address":${s(i.mac_address)},"parents":[],"children":[],"tags":${strList(i.tags)},"enabled":${i.enabled},` +
    `"links":[],"params":"","discovered":null,"effective_mtu":${i.mtu},"vendor":${s(i.vendor)},"product":${s(i.product)},` +
    `"firmware_version":${s(i.firmware_version)},"link_connected":${i.link_connected},"interface_speed":${i.interface_speed},` +
    `"link_speed":${i.link_speed},"numa_node":${i.numa_node},"sriov_max_vf":${i.sriov_max_vf},` +
    `"resource_uri":"${API}/nodes/${sid}/interfaces/${i.id}/"}`
  );
}

function disk(sid: string, b: BlockDeviceRow): string {
  const size = Number(b.size);
  return (
    `{"system_id":${s(sid)},"id":${b.id},"name":${s(b.name)},"uuid":${s(b.uuid)},"type":${s(b.type)},` +
    `"path":${s(`/dev/disk/by-dname/${b.name}`)},"model":${s(b.model)},"serial":${s(b.serial)},"id_path":${s(b.id_path)},` +
    `"size":${size},"block_size":${b.block_size},"available_size":${size},"used_size":0,"used_for":"Unused",` +
    `"tags":${strList(b.tags)},"filesystem":null,"partition_table_type":null,"partitions":[],` +
    `"firmware_version":${s(b.firmware_version)},"storage_pool":null,"numa_node":${b.numa_node},` +
    `"resource_uri":"${API}/nodes/${sid}/blockdevices/${b.id}/"}`
  );
}

export function writeMachineJson(rec: MachineRecord): string {
  const r = rec.row;
  const sid = r.system_id;
  const ifaces = rec.interfaces.map((i) => iface(rec, sid, i));
  const bootIfaceIdx = Math.max(0, rec.interfaces.findIndex((i) => i.is_boot));
  const disks: string[] = [];
  const physical: string[] = [];
  const virtual: string[] = [];
  let storage = 0;
  let bootDisk = 'null';
  let bootFound = false;
  const view = machineStorageView(rec);
  const stubs = view ? JSON.stringify(storageStubs(view)).slice(1, -1) : '"cache_sets":[],"bcaches":[],"raids":[],"volume_groups":[]';
  for (const b of rec.blockDevices) {
    const j = view ? JSON.stringify(view.deviceJson(view.device(b.id)!)) : disk(sid, b);
    disks.push(j);
    if (b.type === 'physical') {
      physical.push(j);
      storage += Number(b.size);
    } else if (b.type === 'virtual') virtual.push(j);
    if (b.is_boot && !bootFound) {
      bootDisk = j;
      bootFound = true;
    }
  }
  if (!bootFound) {
    const firstPhysical = rec.blockDevices.findIndex((b) => b.type === 'physical');
    if (firstPhysical >= 0) bootDisk = disks[firstPhysical];
  }
  let name = STATUS_NAMES.get(r.status);
  if (name === undefined) {
    name = JSON.stringify(statusName(r.status as NodeStatus));
    STATUS_NAMES.set(r.status, name);
  }
  const ownerData = JSON.stringify(r.owner_data ?? {});
  const specials = r.special_filesystems?.length ? JSON.stringify(specialFilesystemsJson(r)) : '[]';
  const ips = machineIpAddresses(rec);
  let numaNodes: string;
  if (rec.numaNodes.length) numaNodes = JSON.stringify(numaNodesJson(rec));
  else {
    numaNodes = '[{"index":0,"cores":[';
    for (let c = 0; c < r.cpu_count; c++) numaNodes += c === 0 ? '0' : `,${c}`;
    numaNodes += `],"memory":${r.memory},"hugepages_set":[]}]`;
  }
  const hardwareInfo = r.hardware_info && Object.keys(r.hardware_info).length ? JSON.stringify(hardwareInfoJson(r.hardware_info)) : UNKNOWN_HARDWARE_INFO;
  return (
    `{"system_id":${s(sid)},"hostname":${s(r.hostname)},"description":${s(r.description)},` +
    `"hardware_uuid":${s(r.hardware_uuid)},"domain":{"authoritative":${r.domain_authoritative},"id":${r.domain_id},` +
    `"is_default":${r.domain_is_default},"name":${s(r.domain_name)},"resource_record_count":0,` +
    `"resource_uri":"${API}/domains/${r.domain_id}/","ttl":${n(r.domain_ttl)}},"fqdn":${s(`${r.hostname}.${r.domain_name}`)},` +
    `"owner":${s(r.owner)},"owner_data":${ownerData},"workload_annotations":${ownerData},"locked":${r.locked},` +
    `${stubs},"bios_boot_method":${s(r.bios_boot_method)},` +
    `"boot_interface":${ifaces.length ? ifaces[bootIfaceIdx] : 'null'},"architecture":${s(r.architecture || null)},` +
    `"min_hwe_kernel":${s(r.min_hwe_kernel)},"hwe_kernel":${s(r.hwe_kernel)},"cpu_count":${r.cpu_count},` +
    `"cpu_speed":${r.cpu_speed},"memory":${r.memory},"swap_size":${r.swap_size === null ? 'null' : Number(r.swap_size)},` +
    `"storage":${storage / 1e6},"status":${r.status},"status_name":${name},"status_message":${s(r.status_message)},` +
    `"status_action":${s(r.status_action)},"osystem":${s(r.osystem)},"distro_series":${s(r.distro_series)},` +
    `"ephemeral_deploy":${r.ephemeral_deploy},"error_description":${s(r.error_description)},"netboot":${r.netboot},` +
    `"power_type":${s(r.power_type ?? '')},"power_state":${s(r.power_state)},"tag_names":${strList(r.tag_names)},` +
    `"address_ttl":null,"ip_addresses":${strList(ips)},"interface_set":[${ifaces.join(',')}],` +
    `"zone":{"id":${r.zone_id},"name":${s(r.zone_name)},"description":${s(r.zone_description)},` +
    `"resource_uri":${s(`${API}/zones/${encodeURIComponent(r.zone_name)}/`)}},` +
    `"pool":${
      r.pool_id === null
        ? 'null'
        : `{"id":${r.pool_id},"name":${s(r.pool_name ?? '')},"description":${s(r.pool_description ?? '')},"resource_uri":"${API}/resourcepool/${r.pool_id}/"}`
    },` +
    `"disable_ipv4":false,"constraints_by_type":null,"boot_disk":${bootDisk},"blockdevice_set":[${disks.join(',')}],` +
    `"physicalblockdevice_set":[${physical.join(',')}],"virtualblockdevice_set":[${virtual.join(',')}],` +
    `"special_filesystems":${specials},"node_type":0,"node_type_name":"Machine","parent":null,` +
    `"default_gateways":${JSON.stringify(defaultGatewaysJson(rec))},` +
    `${tests(r)},"hardware_info":${hardwareInfo},` +
    `"numanode_set":${numaNodes},` +
    `"last_sync":null,"sync_interval":null,"next_sync":null,"enable_hw_sync":false,"enable_kernel_crash_dump":false,` +
    `"is_dpu":false,"resource_uri":"${API}/machines/${sid}/"}`
  );
}
