import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { bootArchitectureName } from '@kiln/contracts';
import { DomainError, forbidden, invalid, isDomainError, notFound } from '../common/domain.error';
import { parseBool } from '../common/values';
import { DhcpConfigBuilder } from './dhcp-config.builder';
import { DhcpConfigPublisher } from './dhcp-config.publisher';
import { Cidr, cidrContains, formatIp, Ip, parseCidr, parseIp, usableRange } from './ip.address';
import { NetworkingRepository, RangeRow, SubnetRow, VlanRow } from './networking.repository';

/**
 * A MAAS form as a networking operation reads it: the fields the caller sent, as sent. A field
 * that is absent stays unchanged on an update; the service validates each one with MAAS's rules
 * and messages.
 */
export type FormInput<K extends string> = { readonly [P in K]?: string };

export const FABRIC_FIELDS = ['name', 'description', 'class_type'] as const;
export const VLAN_FIELDS = ['name', 'description', 'vid', 'mtu', 'space', 'dhcp_on', 'primary_rack', 'secondary_rack', 'relay_vlan'] as const;
export const SUBNET_FIELDS = [
  'cidr',
  'name',
  'description',
  'vlan',
  'fabric',
  'vid',
  'gateway_ip',
  'dns_servers',
  'rdns_mode',
  'allow_dns',
  'allow_proxy',
  'managed',
  'active_discovery',
  'disabled_boot_architectures',
] as const;
export const RANGE_FIELDS = ['type', 'start_ip', 'end_ip', 'subnet', 'comment'] as const;
export const RESERVED_IP_FIELDS = ['ip', 'subnet', 'mac_address', 'comment'] as const;

export type FabricInput = FormInput<(typeof FABRIC_FIELDS)[number]>;
export type VlanInput = FormInput<(typeof VLAN_FIELDS)[number]>;
export type SubnetInput = FormInput<(typeof SUBNET_FIELDS)[number]>;
export type RangeInput = FormInput<(typeof RANGE_FIELDS)[number]>;
export type ReservedIpInput = FormInput<(typeof RESERVED_IP_FIELDS)[number]>;

/** Who asks for a change to IP ranges (dynamic ranges are for administrators; reserved ones for their owner too). */
export interface RangeActor {
  id: number;
  isAdmin: boolean;
}

type Fields = FormInput<string>;

const NAME = /^[\w-]{1,256}$/;

function fieldError(field: string, message: string): DomainError {
  return invalid({ [field]: [message] });
}

function uniqueViolationField(e: unknown): string | null {
  const err = e as { code?: string; detail?: string };
  if (err?.code !== '23505') return null;
  const m = /Key \(([^)]+)\)/.exec(err.detail ?? '');
  return m ? m[1].replace(/"/g, '').split(',').pop()!.trim() : '__all__';
}

function intField(p: Fields, name: string, min: number, max: number): number | undefined {
  if (p[name] === undefined) return undefined;
  const raw = (p[name] ?? '').trim();
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw fieldError(name, `Ensure this value is an integer between ${min} and ${max}.`);
  }
  return Number(raw);
}

function boolField(p: Fields, name: string): boolean | undefined {
  if (p[name] === undefined) return undefined;
  const b = parseBool(p[name]);
  if (b === undefined) throw fieldError(name, `"${p[name]}" is not a valid boolean.`);
  return b;
}

function listField(p: Fields, name: string): string[] | undefined {
  if (p[name] === undefined) return undefined;
  return (p[name] ?? '').split(/[\s,]+/).filter(Boolean);
}

function ipField(p: Fields, name: string, required: boolean): Ip | undefined {
  const raw = p[name];
  if (raw === undefined || raw.trim() === '') {
    if (required) throw fieldError(name, 'This field is required.');
    return undefined;
  }
  const ip = parseIp(raw);
  if (!ip) throw fieldError(name, 'Enter a valid IPv4 or IPv6 address.');
  return ip;
}

const text = (ip: Ip) => formatIp(ip);

/**
 * Fabrics, VLANs, subnets, IP ranges and reserved addresses, with MAAS's validation rules. Every
 * change that can alter what a rack serves runs through DhcpConfigBuilder.track in its
 * transaction; the resulting incremental updates are pushed after commit.
 */
@Injectable()
export class NetworkingService {
  constructor(
    private readonly repo: NetworkingRepository,
    private readonly dhcp: DhcpConfigBuilder,
    private readonly publisher: DhcpConfigPublisher,
  ) {}

  /** A change to the networking model, tracked for DHCP: scope = the VLANs it may touch. */
  private async change<T>(scope: (em: EntityManager) => Promise<number[]>, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    let out: { result: T; updates: Parameters<DhcpConfigPublisher['push']>[0] };
    try {
      out = await this.repo.transaction(async (em) => this.dhcp.track(em, await scope(em), () => fn(em)));
    } catch (e) {
      const field = uniqueViolationField(e);
      if (field) throw fieldError(field, `An object with this ${field.replace('_', ' ')} already exists.`);
      throw e;
    }
    this.publisher.push(out.updates);
    return out.result;
  }

  // ---- fabrics ---------------------------------------------------------------------------------

  async createFabric(p: FabricInput): Promise<number> {
    const name = p.name?.trim() || null;
    if (name !== null && !NAME.test(name)) throw fieldError('name', 'Name must contain only letters, digits, "-" and "_".');
    return this.change(
      async () => [],
      // Every fabric has its untagged VLAN (MAAS creates it with the fabric).
      (em) => this.repo.insertFabric(em, { name, description: p.description ?? '', classType: p.class_type || null }),
    );
  }

  async updateFabric(id: number, p: FabricInput): Promise<void> {
    await this.fabricOr404(id);
    const name = p.name?.trim();
    if (name !== undefined && !NAME.test(name)) throw fieldError('name', 'Name must contain only letters, digits, "-" and "_".');
    await this.change(
      async () => [],
      async (em) => {
        await this.repo.updateFabric(em, id, {
          name,
          description: p.description,
          classType: p.class_type !== undefined ? p.class_type || null : undefined,
        });
      },
    );
  }

  async deleteFabric(id: number): Promise<void> {
    const f = await this.fabricOr404(id);
    await this.change(
      (em) => this.repo.vlanIdsOfFabric(em, id),
      async (em) => {
        const n = await this.repo.countSubnetsOfFabric(em, id);
        if (n > 0) throw invalid(`Cannot delete fabric ${f.name}: ${n} subnet(s) are still on its VLANs.`);
        await this.repo.deleteFabric(em, id);
      },
    );
  }

  /**
   * MAAS's fabric 0, the default fabric (python-libmaas's `fabrics.get_default()` reads
   * `fabrics/0/`): Kiln's first fabric, or fabric-0 created with its untagged VLAN, as MAAS creates
   * its default fabric, when there is none yet.
   */
  async defaultFabricId(): Promise<number> {
    return this.repo.transaction(async (em) => {
      const vlan = await this.repo.vlan(em, await this.repo.ensureDefaultVlan(em));
      return vlan!.fabric_id;
    });
  }

  async fabricOr404(id: number) {
    const [f] = await this.repo.fabrics(undefined, id);
    if (!f) throw notFound('No Fabric matches the given query.');
    return f;
  }

  // ---- VLANs -----------------------------------------------------------------------------------

  async createVlan(fabricId: number, p: VlanInput): Promise<number> {
    await this.fabricOr404(fabricId);
    if (p.vid === undefined) throw fieldError('vid', 'This field is required.');
    const vid = intField(p, 'vid', 1, 4094)!;
    const mtu = intField(p, 'mtu', 552, 65535) ?? 1500;
    const spaceId = (await this.spaceId(undefined, p.space)) ?? null;
    return this.change(
      async () => [],
      (em) => this.repo.insertVlan(em, { fabricId, vid, name: p.name || null, description: p.description ?? '', mtu, spaceId }),
    ).catch((e) => {
      if (isDomainError(e) && e.code === 'INVALID') throw invalid({ __all__: ['VLAN with this Fabric and Vid already exists.'] });
      throw e;
    });
  }

  /** The space a VLAN form names (id or name); empty or "undefined": none, as MAAS's undefined space. */
  private async spaceId(em: EntityManager | undefined, key: string | undefined): Promise<number | undefined> {
    const k = key?.trim();
    if (!k || k === 'undefined' || k === '-1') return undefined;
    const sid = await this.repo.spaceIdByKey(em, k);
    if (sid === undefined) throw fieldError('space', `Select a valid choice. ${k} is not one of the available choices.`);
    return sid;
  }

  async vlanOr404(id: number): Promise<VlanRow> {
    const v = await this.repo.vlan(undefined, id);
    if (!v) throw notFound('No VLAN matches the given query.');
    return v;
  }

  /** MAAS VLANForm rules: DHCP needs a primary rack and a dynamic range; rack promotion; relays. */
  async updateVlan(id: number, p: VlanInput): Promise<void> {
    await this.vlanOr404(id);
    await this.change(
      async () => [id],
      async (em) => {
        const cur = (await this.repo.vlan(em, id))!;
        const next = { ...cur };
        if (p.name !== undefined) next.name = p.name || null;
        if (p.description !== undefined) next.description = p.description;
        if (p.space !== undefined) next.space_id = (await this.spaceId(em, p.space)) ?? null;
        const mtu = intField(p, 'mtu', 552, 65535);
        if (mtu !== undefined) next.mtu = mtu;
        const vid = intField(p, 'vid', 0, 4094);
        if (vid !== undefined && vid !== cur.vid) {
          if (cur.vid === 0 || vid === 0) throw fieldError('vid', 'The untagged VLAN (vid 0) of a fabric cannot be renumbered.');
          next.vid = vid;
        }
        const rack = async (field: 'primary_rack' | 'secondary_rack') => {
          const key = p[field]?.trim();
          if (!key) return null;
          const r = await this.repo.rackByKey(em, key);
          if (!r) throw fieldError(field, `Select a valid choice. ${key} is not one of the available choices.`);
          return r;
        };
        const primary = p.primary_rack !== undefined ? await rack('primary_rack') : undefined;
        const secondary = p.secondary_rack !== undefined ? await rack('secondary_rack') : undefined;
        if (primary !== undefined) next.primary_rack_id = primary?.id ?? null;
        if (secondary !== undefined) next.secondary_rack_id = secondary?.id ?? null;
        // Removing the primary promotes the secondary; making the secondary primary drops it as secondary.
        if (primary === null && cur.secondary_rack_id !== null) {
          next.primary_rack_id = cur.secondary_rack_id;
          next.secondary_rack_id = null;
        }
        if (next.primary_rack_id !== null && next.primary_rack_id === cur.secondary_rack_id && secondary === undefined) {
          next.secondary_rack_id = null;
        }
        if (secondary && cur.primary_rack_id !== null && secondary.id === cur.primary_rack_id && primary === undefined) {
          throw invalid({ __all__: [`${secondary.system_id} is already set as the primary rack controller`] });
        }
        if (next.primary_rack_id !== null && next.primary_rack_id === next.secondary_rack_id) {
          throw invalid({ __all__: ['The primary and secondary rack must be different'] });
        }
        if (secondary && next.primary_rack_id !== null && next.primary_rack_id === cur.primary_rack_id && secondary.id !== cur.secondary_rack_id) {
          if ((await this.repo.rackStatus(em, next.primary_rack_id)) === 'dead') {
            throw invalid({
              __all__: [
                'The primary rack controller must be up and running to set a secondary rack controller. Without the primary ' +
                  'the secondary DHCP service will not be able to synchronize, preventing it from responding to DHCP requests.',
              ],
            });
          }
        }
        const dhcpOn = boolField(p, 'dhcp_on');
        if (dhcpOn !== undefined) next.dhcp_on = dhcpOn;
        if (next.dhcp_on && next.primary_rack_id === null) {
          throw invalid({ __all__: ['dhcp can only be turned on when a primary rack controller is set.'] });
        }
        if (next.dhcp_on) {
          const n = await this.repo.countDynamicRangesOfVlan(em, id);
          if (n === 0) throw fieldError('dhcp_on', 'dhcp can only be turned on when a dynamic IP range is defined.');
        }
        if (p.relay_vlan !== undefined) {
          const key = p.relay_vlan?.trim();
          if (!key) next.relay_vlan_id = null;
          else {
            const target = /^\d+$/.test(key) ? await this.repo.vlan(em, Number(key)) : null;
            const allowed =
              target !== null &&
              target.id !== id &&
              target.relay_vlan_id === null &&
              (!cur.dhcp_on || target.id === cur.relay_vlan_id);
            if (!allowed) throw fieldError('relay_vlan', 'Select a valid choice. That choice is not one of the available choices.');
            next.relay_vlan_id = target.id;
          }
        }
        // A VLAN whose own racks serve DHCP is not relayed.
        if (next.dhcp_on) next.relay_vlan_id = null;
        await this.repo.updateVlan(em, id, next);
      },
    );
  }

  async deleteVlan(id: number): Promise<void> {
    const v = await this.vlanOr404(id);
    if (v.vid === 0) throw invalid(`The untagged VLAN of fabric ${v.fabric_name} cannot be deleted.`);
    await this.change(
      async () => [id],
      async (em) => {
        const n = await this.repo.countSubnetsOfVlan(em, id);
        if (n > 0) throw invalid(`Cannot delete VLAN ${v.vid}: ${n} subnet(s) are still on it.`);
        await this.repo.deleteVlan(em, id);
      },
    );
  }

  // ---- subnets ---------------------------------------------------------------------------------

  async subnetOr404(key: string, em?: EntityManager): Promise<SubnetRow> {
    const s = await this.repo.subnetByKey(em, key);
    if (!s) throw notFound('No Subnet matches the given query.');
    return s;
  }

  /** The VLAN a subnet form names: vlan (id), or fabric (+ vid), or the default fabric's untagged VLAN. */
  private async targetVlan(em: EntityManager, p: Fields, fallback: number | null): Promise<number> {
    if (p.vlan) {
      const key = p.vlan!.trim();
      const v = /^\d+$/.test(key) ? await this.repo.vlan(em, Number(key)) : null;
      if (!v) throw fieldError('vlan', 'Select a valid choice. That choice is not one of the available choices.');
      return v.id;
    }
    if (p.fabric) {
      const key = p.fabric!.trim();
      const f = await this.repo.fabricByKey(em, key);
      if (!f) throw fieldError('fabric', 'Select a valid choice. That choice is not one of the available choices.');
      const vid = intField(p, 'vid', 0, 4094) ?? 0;
      const v = await this.repo.vlanByFabricVid(em, f.id, vid);
      if (!v) throw fieldError('vid', `No VLAN with vid ${vid} in fabric ${key}.`);
      return v.id;
    }
    if (fallback !== null) return fallback;
    return this.repo.ensureDefaultVlan(em);
  }

  private subnetSettings(p: Fields, cidr: Cidr, current: SubnetRow | null) {
    let gateway: string | null | undefined;
    if (p.gateway_ip !== undefined) {
      const ip = ipField(p, 'gateway_ip', false);
      if (ip && !cidrContains(cidr, ip)) throw fieldError('gateway_ip', 'Gateway IP must be within CIDR range.');
      gateway = ip ? text(ip) : null;
    } else if (current?.gateway_ip) {
      const ip = parseIp(current.gateway_ip)!;
      if (!cidrContains(cidr, ip)) throw fieldError('gateway_ip', 'Gateway IP must be within CIDR range.');
    }
    const dns = listField(p, 'dns_servers')?.map((d) => {
      const ip = parseIp(d);
      if (!ip) throw fieldError('dns_servers', `${d} is not a valid IP address.`);
      return text(ip);
    });
    const arches = listField(p, 'disabled_boot_architectures')?.map((a) => {
      const name = bootArchitectureName(a);
      if (!name) throw fieldError('disabled_boot_architectures', `Unknown boot architecture ${a}`);
      return name;
    });
    return {
      gateway,
      dns,
      arches: arches ? [...new Set(arches)] : undefined,
      rdnsMode: intField(p, 'rdns_mode', 0, 2),
      allowDns: boolField(p, 'allow_dns'),
      allowProxy: boolField(p, 'allow_proxy'),
      managed: boolField(p, 'managed'),
      activeDiscovery: boolField(p, 'active_discovery'),
    };
  }

  private cidrField(p: Fields): Cidr {
    const raw = p.cidr;
    if (!raw) throw fieldError('cidr', 'This field is required.');
    const c = parseCidr(raw);
    if (!c) throw fieldError('cidr', 'Required format: <network>/<prefixlen>.');
    return c;
  }

  async createSubnet(p: SubnetInput): Promise<number> {
    const cidr = this.cidrField(p);
    const name = p.name?.trim() || cidr.text;
    const s = this.subnetSettings(p, cidr, null);
    let vlanId = 0;
    return this.change(
      async (em) => [(vlanId = await this.targetVlan(em, p, null))],
      (em) =>
        this.repo.insertSubnet(em, {
          name,
          description: p.description ?? '',
          vlanId,
          cidr: cidr.text,
          gatewayIp: s.gateway ?? null,
          dnsServers: s.dns ?? [],
          rdnsMode: s.rdnsMode ?? 2,
          allowDns: s.allowDns ?? true,
          allowProxy: s.allowProxy ?? true,
          managed: s.managed ?? true,
          activeDiscovery: s.activeDiscovery ?? false,
          disabledBootArchitectures: s.arches ?? [],
        }),
    );
  }

  async updateSubnet(key: string, p: SubnetInput): Promise<number> {
    const cur = await this.subnetOr404(key);
    let vlanId = cur.vlan_id;
    return this.change(
      async (em) => [cur.vlan_id, (vlanId = await this.targetVlan(em, p, cur.vlan_id))],
      async (em) => {
        const cidr = p.cidr !== undefined ? this.cidrField(p) : parseCidr(cur.cidr)!;
        const s = this.subnetSettings(p, cidr, cur);
        if (cidr.text !== cur.cidr) {
          const outside = [
            ...(await this.repo.ranges(em, { subnetId: cur.id })).flatMap((r) => [r.start_ip, r.end_ip]),
            ...(await this.repo.staticIps(em, { subnetId: cur.id })).map((x) => x.ip),
          ].filter((ip) => !cidrContains(cidr, parseIp(ip)!));
          if (outside.length) throw fieldError('cidr', `Addresses in use fall outside the new CIDR: ${outside.slice(0, 5).join(', ')}`);
        }
        await this.repo.updateSubnet(em, cur.id, {
          name: p.name !== undefined ? p.name.trim() || cidr.text : cur.name,
          description: p.description ?? cur.description,
          vlanId,
          cidr: cidr.text,
          gatewayIp: s.gateway !== undefined ? s.gateway : cur.gateway_ip,
          dnsServers: s.dns ?? cur.dns_servers,
          rdnsMode: s.rdnsMode ?? cur.rdns_mode,
          allowDns: s.allowDns ?? cur.allow_dns,
          allowProxy: s.allowProxy ?? cur.allow_proxy,
          managed: s.managed ?? cur.managed,
          activeDiscovery: s.activeDiscovery ?? cur.active_discovery,
          disabledBootArchitectures: s.arches ?? cur.disabled_boot_architectures,
        });
        if (vlanId !== cur.vlan_id) await this.refuseDhcpWithoutDynamicRange(em, cur.vlan_id, `move subnet ${cur.name}`);
        return cur.id;
      },
    );
  }

  async deleteSubnet(key: string): Promise<void> {
    const cur = await this.subnetOr404(key);
    await this.change(
      async () => [cur.vlan_id],
      async (em) => {
        await this.repo.deleteSubnet(em, cur.id);
        await this.refuseDhcpWithoutDynamicRange(em, cur.vlan_id, `delete subnet ${cur.name}`);
      },
    );
  }

  /** After a change: a VLAN with DHCP on must keep a dynamic range (the rule that lets DHCP be turned on). */
  private async refuseDhcpWithoutDynamicRange(em: EntityManager, vlanId: number, what: string): Promise<void> {
    const row = await this.repo.dhcpVlanDynamicRanges(em, vlanId);
    if (row && row.n === 0) {
      throw invalid(`Cannot ${what}: VLAN ${row.vid} has DHCP on and would be left without a dynamic IP range. Turn DHCP off first.`);
    }
  }

  // ---- IP ranges -------------------------------------------------------------------------------

  async rangeOr404(id: number): Promise<RangeRow> {
    const [r] = await this.repo.ranges(undefined, { id });
    if (!r) throw notFound('No IPRange matches the given query.');
    return r;
  }

  private async rangeSubnet(em: EntityManager, p: Fields, start: Ip, fallback: number | null): Promise<SubnetRow> {
    const key = p.subnet?.trim();
    if (key) {
      const s = await this.repo.subnetByKey(em, key);
      if (!s) throw fieldError('subnet', 'Select a valid choice. That choice is not one of the available choices.');
      return s;
    }
    if (fallback !== null) return (await this.repo.subnets(em, { id: fallback }))[0];
    const s = await this.repo.subnetContaining(em, text(start));
    if (!s) throw fieldError('subnet', `No subnet contains ${text(start)}; create the subnet first.`);
    return s;
  }

  /** Validates a range against its subnet and the other ranges and addresses of the subnet. */
  private async checkRange(em: EntityManager, subnet: SubnetRow, type: string, start: Ip, end: Ip, selfId: number | null) {
    const cidr = parseCidr(subnet.cidr)!;
    if (!cidrContains(cidr, start)) throw fieldError('start_ip', `Start IP address must be within subnet: ${subnet.cidr}.`);
    if (!cidrContains(cidr, end)) throw fieldError('end_ip', `End IP address must be within subnet: ${subnet.cidr}.`);
    if (end.value < start.value) throw fieldError('end_ip', 'End IP address must not be less than Start IP address.');
    const usable = usableRange(cidr);
    if (start.value < usable.first || end.value > usable.last) {
      throw invalid({ __all__: [`The range may not include the network or broadcast address of ${subnet.cidr}.`] });
    }
    for (const r of await this.repo.ranges(em, { subnetId: subnet.id })) {
      if (r.id === selfId) continue;
      const rs = parseIp(r.start_ip)!.value;
      const re = parseIp(r.end_ip)!.value;
      if (start.value <= re && rs <= end.value) {
        throw invalid({ __all__: [`Requested ${type} range conflicts with an existing ${r.type} range ${r.start_ip}-${r.end_ip}.`] });
      }
    }
    if (type === 'dynamic') {
      const inside = (ip: string) => {
        const v = parseIp(ip)!.value;
        return v >= start.value && v <= end.value;
      };
      if (subnet.gateway_ip && inside(subnet.gateway_ip)) {
        throw invalid({ __all__: [`A dynamic range cannot contain the subnet's gateway IP ${subnet.gateway_ip}.`] });
      }
      const taken = (await this.repo.staticIps(em, { subnetId: subnet.id })).filter((x) => inside(x.ip));
      if (taken.length) {
        throw invalid({ __all__: [`A dynamic range cannot contain reserved or static addresses: ${taken.map((x) => x.ip).join(', ')}.`] });
      }
    }
  }

  private rangeType(p: Fields, required: boolean): 'dynamic' | 'reserved' | undefined {
    const t = p.type?.trim();
    if (!t) {
      if (required) throw fieldError('type', 'This field is required.');
      return undefined;
    }
    if (t !== 'dynamic' && t !== 'reserved') throw fieldError('type', `Select a valid choice. ${t} is not one of the available choices.`);
    return t;
  }

  async createRange(p: RangeInput, user: RangeActor): Promise<number> {
    const type = this.rangeType(p, true)!;
    if (type === 'dynamic' && !user.isAdmin) throw forbidden('Only administrators can create dynamic IP ranges.');
    const start = ipField(p, 'start_ip', true)!;
    const end = ipField(p, 'end_ip', true)!;
    let subnet: SubnetRow;
    return this.change(
      async (em) => [(subnet = await this.rangeSubnet(em, p, start, null)).vlan_id],
      async (em) => {
        await this.checkRange(em, subnet, type, start, end, null);
        return this.repo.insertRange(em, { subnetId: subnet.id, type, startIp: text(start), endIp: text(end), comment: p.comment ?? '', userId: user.id });
      },
    );
  }

  private mayEditRange(r: RangeRow, user: RangeActor) {
    if (!user.isAdmin && (r.type === 'dynamic' || r.user_id !== user.id)) {
      throw forbidden('Only administrators and the owner of a reserved range can change it.');
    }
  }

  async updateRange(id: number, p: RangeInput, user: RangeActor): Promise<number> {
    const cur = await this.rangeOr404(id);
    this.mayEditRange(cur, user);
    const type = this.rangeType(p, false) ?? cur.type;
    if (type === 'dynamic' && !user.isAdmin) throw forbidden('Only administrators can create dynamic IP ranges.');
    const start = ipField(p, 'start_ip', false) ?? parseIp(cur.start_ip)!;
    const end = ipField(p, 'end_ip', false) ?? parseIp(cur.end_ip)!;
    let subnet: SubnetRow;
    const [old] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    return this.change(
      async (em) => [old.vlan_id, (subnet = await this.rangeSubnet(em, p, start, cur.subnet_id)).vlan_id],
      async (em) => {
        await this.checkRange(em, subnet, type, start, end, id);
        await this.repo.updateRange(em, id, { subnetId: subnet.id, type, startIp: text(start), endIp: text(end), comment: p.comment ?? cur.comment });
        await this.refuseDhcpWithoutDynamicRange(em, old.vlan_id, `change range ${cur.start_ip}-${cur.end_ip}`);
        return id;
      },
    );
  }

  async deleteRange(id: number, user: RangeActor): Promise<void> {
    const cur = await this.rangeOr404(id);
    this.mayEditRange(cur, user);
    const [subnet] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    await this.change(
      async () => [subnet.vlan_id],
      async (em) => {
        await this.repo.deleteRange(em, id);
        await this.refuseDhcpWithoutDynamicRange(em, subnet.vlan_id, `delete the dynamic range ${cur.start_ip}-${cur.end_ip}`);
      },
    );
  }

  // ---- reserved IPs (DHCP reservations) --------------------------------------------------------

  async staticIpOr404(id: number) {
    const [s] = await this.repo.staticIps(undefined, { id });
    if (!s) throw notFound('No ReservedIP matches the given query.');
    return s;
  }

  private macField(p: Fields): string | null | undefined {
    if (p.mac_address === undefined) return undefined;
    const raw = (p.mac_address ?? '').trim();
    if (!raw) return null;
    if (!/^[0-9a-fA-F]{2}([:-]?)[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(raw)) throw fieldError('mac_address', `'${raw}' is not a valid MAC address.`);
    const hex = raw.replace(/[:-]/g, '').toLowerCase();
    return hex.match(/../g)!.join(':');
  }

  private async checkStaticIp(em: EntityManager, subnet: SubnetRow, ip: Ip) {
    const cidr = parseCidr(subnet.cidr)!;
    const usable = usableRange(cidr);
    if (!cidrContains(cidr, ip) || ip.value < usable.first || ip.value > usable.last) {
      throw fieldError('ip', `The ip ${text(ip)} must be a usable address of subnet ${subnet.cidr}.`);
    }
    for (const r of await this.repo.ranges(em, { subnetId: subnet.id })) {
      if (r.type === 'dynamic' && ip.value >= parseIp(r.start_ip)!.value && ip.value <= parseIp(r.end_ip)!.value) {
        throw fieldError('ip', `The ip ${text(ip)} is inside the dynamic range ${r.start_ip}-${r.end_ip}.`);
      }
    }
  }

  async createReservedIp(p: ReservedIpInput): Promise<number> {
    const ip = ipField(p, 'ip', true)!;
    const mac = this.macField(p) ?? null;
    let subnet: SubnetRow;
    return this.change(
      async (em) => [(subnet = await this.rangeSubnet(em, p, ip, null)).vlan_id],
      async (em) => {
        await this.checkStaticIp(em, subnet, ip);
        return this.repo.insertReservedIp(em, { ip: text(ip), subnetId: subnet.id, mac, comment: p.comment ?? '' });
      },
    );
  }

  async updateReservedIp(id: number, p: ReservedIpInput): Promise<number> {
    const cur = await this.staticIpOr404(id);
    const ip = ipField(p, 'ip', false) ?? parseIp(cur.ip)!;
    const mac = this.macField(p);
    const [subnet] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    return this.change(
      async () => [subnet.vlan_id],
      async (em) => {
        await this.checkStaticIp(em, subnet, ip);
        const nextMac = mac === undefined ? cur.mac_address : mac;
        await this.repo.updateReservedIp(em, id, { ip: text(ip), mac: nextMac, comment: p.comment ?? cur.comment });
        return id;
      },
    );
  }

  async deleteReservedIp(id: number): Promise<void> {
    const cur = await this.staticIpOr404(id);
    const [subnet] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    await this.change(
      async () => [subnet.vlan_id],
      async (em) => {
        await this.repo.deleteStaticIp(em, id);
      },
    );
  }
}
