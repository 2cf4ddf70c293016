import type { FabricRow, RangeRow, StaticIpRow, SubnetRow, VlanRow } from './networking.repository';

const API = '/MAAS/api/2.0';

/** MAAS's VLAN.get_name(): "untagged" for vid 0, the vid otherwise, unless named. */
function vlanName(v: VlanRow): string {
  return v.name ?? (v.vid === 0 ? 'untagged' : String(v.vid));
}

export function vlanJson(v: VlanRow, vlans: ReadonlyMap<number, VlanRow>, nested = true): Record<string, unknown> {
  const relay = v.relay_vlan_id !== null ? vlans.get(v.relay_vlan_id) : undefined;
  return {
    id: v.id,
    name: vlanName(v),
    description: v.description,
    vid: v.vid,
    fabric: v.fabric_name,
    fabric_id: v.fabric_id,
    mtu: v.mtu,
    primary_rack: v.primary_rack,
    secondary_rack: v.secondary_rack,
    dhcp_on: v.dhcp_on,
    external_dhcp: null,
    relay_vlan: relay && nested ? vlanJson(relay, vlans, false) : relay ? relay.id : null,
    space: v.space ?? 'undefined',
    resource_uri: `${API}/vlans/${v.id}/`,
  };
}

export function fabricJson(f: FabricRow, vlans: ReadonlyMap<number, VlanRow>) {
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    class_type: f.class_type,
    vlans: [...vlans.values()].filter((v) => v.fabric_id === f.id).map((v) => vlanJson(v, vlans)),
    resource_uri: `${API}/fabrics/${f.id}/`,
  };
}

export function subnetJson(s: SubnetRow, vlans: ReadonlyMap<number, VlanRow>) {
  const v = vlans.get(s.vlan_id);
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    vlan: v ? vlanJson(v, vlans) : null,
    cidr: s.cidr,
    gateway_ip: s.gateway_ip,
    dns_servers: s.dns_servers,
    rdns_mode: s.rdns_mode,
    active_discovery: s.active_discovery,
    allow_dns: s.allow_dns,
    allow_proxy: s.allow_proxy,
    managed: s.managed,
    disabled_boot_architectures: s.disabled_boot_architectures,
    space: v?.space ?? 'undefined',
    resource_uri: `${API}/subnets/${s.id}/`,
  };
}

export function rangeJson(r: RangeRow, subnet: SubnetRow, vlans: ReadonlyMap<number, VlanRow>) {
  return {
    id: r.id,
    type: r.type,
    start_ip: r.start_ip,
    end_ip: r.end_ip,
    comment: r.comment,
    user: r.username,
    subnet: subnetJson(subnet, vlans),
    resource_uri: `${API}/ipranges/${r.id}/`,
  };
}

export function reservedIpJson(s: StaticIpRow, subnet: SubnetRow, vlans: ReadonlyMap<number, VlanRow>) {
  return {
    id: s.id,
    ip: s.ip,
    mac_address: s.mac_address,
    comment: s.comment,
    subnet: subnetJson(subnet, vlans),
    node: s.system_id ? { system_id: s.system_id, hostname: s.hostname } : null,
    resource_uri: `${API}/reservedips/${s.id}/`,
  };
}
