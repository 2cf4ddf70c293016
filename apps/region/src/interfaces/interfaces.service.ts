import { Injectable } from '@nestjs/common';
import { NodeStatus, statusName } from '@kiln/lifecycle';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../common/actor';
import { conflict, forbidden, invalid, notFound } from '../common/domain.error';
import { MachineAccess, type MachineRight } from '../machines/machine.access';
import { interfaceJson } from '../machines/machine.serializer';
import type { InterfaceNetRows, InterfaceRow } from '../machines/machines.repository';
import { AddressAllocator } from '../networking/address.allocator';
import { cidrContains, formatIp, parseCidr, parseIp, sameIp, usableRange } from '../networking/ip.address';
import { NetworkingRepository, type SubnetRow } from '../networking/networking.repository';
import { InterfaceChanges, InterfaceNodeRow, InterfacesRepository } from './interfaces.repository';

/** Form fields as the request sent them (first value of each). */
export type InterfaceForm = Readonly<Record<string, string | undefined>>;

type Errors = Record<string, string[]>;
type Params = Record<string, string | number | boolean>;

/** MAAS's allowed states for interface edits on a machine (api/interfaces.py ALLOWED_STATES). */
const EDITABLE_STATUSES: readonly number[] = [NodeStatus.NEW, NodeStatus.READY, NodeStatus.FAILED_TESTING, NodeStatus.ALLOCATED, NodeStatus.BROKEN];

export const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const;
export const BOND_XMIT_HASH_POLICIES = ['layer2', 'layer2+3', 'layer3+4', 'encap2+3', 'encap3+4'] as const;
export const BOND_LACP_RATES = ['fast', 'slow'] as const;
export const BRIDGE_TYPES = ['standard', 'ovs'] as const;
export const LINK_MODES = ['auto', 'dhcp', 'static', 'link_up'] as const;

const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const NAME = /^[\w\-.:]+$/;
const truthy = (raw: string) => ['true', '1', 'on', 'yes'].includes(raw.toLowerCase());

function fail(errors: Errors): void {
  if (Object.keys(errors).length) throw invalid(errors);
}

function intField(errors: Errors, field: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^-?\d+$/.test(raw.trim())) {
    errors[field] = ['Enter a whole number.'];
    return undefined;
  }
  const n = Number(raw.trim());
  if (n < min || n > max) {
    errors[field] = [`Ensure this value is between ${min} and ${max}.`];
    return undefined;
  }
  return n;
}

function choiceField<T extends string>(errors: Errors, field: string, raw: string | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim() as T;
  if (!choices.includes(v)) {
    errors[field] = [`Select a valid choice. ${raw} is not one of the available choices.`];
    return undefined;
  }
  return v;
}

/** The interfaces of one machine or device as loaded, with lookups. */
export class InterfaceSet {
  constructor(
    readonly machine: InterfaceNodeRow,
    readonly interfaces: InterfaceRow[],
    readonly net: InterfaceNetRows,
  ) {}

  byId(id: number): InterfaceRow | undefined {
    return this.interfaces.find((i) => i.id === id);
  }

  byName(name: string): InterfaceRow | undefined {
    return this.interfaces.find((i) => i.name === name);
  }

  json(i: InterfaceRow) {
    return interfaceJson(this.machine.system_id, i, this.net);
  }
}

/**
 * A machine's or device's network interfaces (MAAS api/interfaces.py and its forms): physical, bond, bridge
 * and VLAN interfaces, and their links to subnets with sticky static addresses.
 */
@Injectable()
export class InterfacesService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: InterfacesRepository,
    private readonly networks: NetworkingRepository,
    private readonly access: MachineAccess,
    private readonly addresses: AddressAllocator,
  ) {}

  private machineOf(m: InterfaceNodeRow | undefined): InterfaceNodeRow {
    if (!m) throw notFound('No Node matches the given query.');
    return m;
  }

  /**
   * A device's interfaces (MAAS): anyone who may see the device reads them; its owner and
   * administrators change them, at any time (a device has no lifecycle).
   */
  private static requireDevice(actor: Actor, d: InterfaceNodeRow, right: MachineRight): void {
    const owner = d.owner_id !== null && d.owner_id === actor.id;
    if (right === 'see' ? !(actor.isAdmin || owner || d.owner_id === null) : !(actor.isAdmin || owner)) {
      throw forbidden(right === 'see' ? 'You do not have permission to view this device.' : 'You do not have permission to change this device.');
    }
  }

  private static subject(m: InterfaceNodeRow) {
    return { ownerId: m.owner_id, hostname: m.hostname, locked: m.locked };
  }

  /** The machine's interfaces for a caller who may see it. */
  async view(systemId: string, actor: Actor): Promise<InterfaceSet> {
    const m = this.machineOf(await this.repo.node(systemId));
    if (m.kind === 'device') InterfacesService.requireDevice(actor, m, 'see');
    else this.access.require(actor, 'see', InterfacesService.subject(m));
    const { interfaces, net } = await this.repo.load(m);
    return new InterfaceSet(m, interfaces, net);
  }

  iface(set: InterfaceSet, rawId: string): InterfaceRow {
    const i = /^\d+$/.test(rawId) ? set.byId(Number(rawId)) : undefined;
    if (!i) throw notFound('No Interface matches the given query.');
    return i;
  }

  /**
   * Runs an edit inside a transaction holding the machine's row lock, after MAAS's checks: the
   * right (admin for structure and tags, edit for links), not locked, and a status that allows
   * interface edits (New, Ready, Failed testing, Allocated, Broken; `extra` adds more).
   */
  private async edit<T>(systemId: string, actor: Actor, right: MachineRight, what: string, fn: (set: InterfaceSet, em: EntityManager) => Promise<T>, extra: readonly number[] = []): Promise<T> {
    return this.ds.transaction(async (em) => {
      const m = this.machineOf(await this.repo.node(systemId, em, true));
      if (m.kind === 'device') {
        InterfacesService.requireDevice(actor, m, 'see');
        InterfacesService.requireDevice(actor, m, 'edit');
      } else {
        const subject = InterfacesService.subject(m);
        this.access.require(actor, 'see', subject);
        this.access.require(actor, right, subject);
        this.access.requireUnlocked(subject);
        if (!EDITABLE_STATUSES.includes(m.status!) && !extra.includes(m.status!)) {
          throw conflict(`Cannot ${what} interface because the machine is not New, Ready, Allocated, or Broken (it is ${statusName(m.status as NodeStatus)}).`);
        }
      }
      const { interfaces, net } = await this.repo.load(m, em);
      return fn(new InterfaceSet(m, interfaces, net), em);
    });
  }

  private nameField(errors: Errors, set: InterfaceSet, raw: string | undefined, self: number | null, fallback?: string): string | undefined {
    const name = (raw ?? fallback ?? '').trim();
    if (!name) {
      errors.name = ['This field is required.'];
      return undefined;
    }
    if (!NAME.test(name) || name.length > 255) {
      errors.name = ['Interface name must contain only letters, digits, "-", "_", ".", ":".'];
      return undefined;
    }
    if (set.interfaces.some((i) => i.name === name && i.id !== self)) {
      errors.name = [`Node ${set.machine.hostname} already has an interface named '${name}'.`];
      return undefined;
    }
    return name;
  }

  private async macField(errors: Errors, em: EntityManager, raw: string | undefined, required: boolean, self: number | null, physical: boolean): Promise<string | undefined> {
    if (raw === undefined || raw.trim() === '') {
      if (required) errors.mac_address = ['This field is required.'];
      return undefined;
    }
    if (!MAC.test(raw.trim())) {
      errors.mac_address = [`'${raw}' is not a valid MAC address.`];
      return undefined;
    }
    const mac = raw.trim().toLowerCase().replace(/-/g, ':');
    if (physical) {
      const owner = await this.repo.macOwner(em, mac, self);
      if (owner) {
        errors.mac_address = [`MAC address ${mac} already in use on ${owner}.`];
        return undefined;
      }
    }
    return mac;
  }

  private async vlanField(errors: Errors, em: EntityManager, raw: string | undefined): Promise<number | null | undefined> {
    if (raw === undefined) return undefined;
    if (raw.trim() === '') return null;
    const v = /^\d+$/.test(raw.trim()) ? await this.repo.vlan(em, Number(raw.trim())) : null;
    if (!v) {
      errors.vlan = [`Select a valid choice. ${raw} is not one of the available choices.`];
      return undefined;
    }
    return v.id;
  }

  private static tags(raw: string | undefined): string[] | undefined {
    if (raw === undefined) return undefined;
    return raw.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  }

  /** Bond params from the form over the current ones (MAAS BondInterfaceForm defaults). */
  private static bondParams(errors: Errors, f: InterfaceForm, base: Params): Params {
    const p: Params = { bond_mode: 'balance-rr', bond_miimon: 100, bond_downdelay: 0, bond_updelay: 0, bond_lacp_rate: 'slow', bond_xmit_hash_policy: 'layer2', bond_num_grat_arp: 1, ...base };
    const mode = choiceField(errors, 'bond_mode', f.bond_mode, BOND_MODES);
    if (mode) p.bond_mode = mode;
    const policy = choiceField(errors, 'bond_xmit_hash_policy', f.bond_xmit_hash_policy, BOND_XMIT_HASH_POLICIES);
    if (policy) p.bond_xmit_hash_policy = policy;
    const rate = choiceField(errors, 'bond_lacp_rate', f.bond_lacp_rate, BOND_LACP_RATES);
    if (rate) p.bond_lacp_rate = rate;
    for (const [k, min, max] of [['bond_miimon', 0, 1_000_000], ['bond_downdelay', 0, 1_000_000], ['bond_updelay', 0, 1_000_000], ['bond_num_grat_arp', 0, 255]] as const) {
      const n = intField(errors, k, f[k], min, max);
      if (n !== undefined) p[k] = n;
    }
    return p;
  }

  private static bridgeParams(errors: Errors, f: InterfaceForm, base: Params): Params {
    const p: Params = { bridge_type: 'standard', bridge_stp: false, bridge_fd: 15, ...base };
    const type = choiceField(errors, 'bridge_type', f.bridge_type, BRIDGE_TYPES);
    if (type) p.bridge_type = type;
    if (f.bridge_stp !== undefined) p.bridge_stp = truthy(f.bridge_stp);
    const fd = intField(errors, 'bridge_fd', f.bridge_fd, 0, 1000);
    if (fd !== undefined) p.bridge_fd = fd;
    return p;
  }

  private static parentsOf(errors: Errors, set: InterfaceSet, raw: readonly string[], field: string, self: number | null): InterfaceRow[] {
    const out: InterfaceRow[] = [];
    for (const r of raw) {
      const p = /^\d+$/.test(r) ? set.byId(Number(r)) : undefined;
      if (!p || p.id === self) {
        errors[field] = [`Select a valid choice. ${r} is not one of the available choices.`];
        return [];
      }
      if (!out.includes(p)) out.push(p);
    }
    return out;
  }

  // ---- create ---------------------------------------------------------------------------------

  async createPhysical(systemId: string, f: InterfaceForm, actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'admin', 'create', async (set, em) => {
      const errors: Errors = {};
      const mac = await this.macField(errors, em, f.mac_address, true, null, true);
      const name = this.nameField(errors, set, f.name, null, `eth${set.interfaces.filter((i) => i.type === 'physical').length}`);
      const vlanId = await this.vlanField(errors, em, f.vlan);
      const mtu = intField(errors, 'mtu', f.mtu, 552, 65535);
      fail(errors);
      return this.repo.insertInterface(em, set.machine, { name: name!, type: 'physical', macAddress: mac!, vlanId: vlanId ?? null, mtu: mtu ?? 1500, tags: InterfacesService.tags(f.tags) ?? [], params: {}, enabled: true }, []);
    });
  }

  async createBond(systemId: string, f: InterfaceForm, parentIds: readonly string[], actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'admin', 'create bond', async (set, em) => {
      const errors: Errors = {};
      const name = this.nameField(errors, set, f.name, null);
      if (!parentIds.length) errors.parents = ['A bond interface must have one or more parents.'];
      const parents = InterfacesService.parentsOf(errors, set, parentIds, 'parents', null);
      for (const p of parents) {
        if (p.type !== 'physical') errors.parents = [`${p.name} is a ${p.type} interface; only physical interfaces can be bonded.`];
        else if (p.children?.length) errors.parents = [`${p.name} is already in use by ${p.children.join(', ')}.`];
      }
      const mac = (await this.macField(errors, em, f.mac_address, false, null, false)) ?? parents[0]?.mac_address;
      const vlanId = await this.vlanField(errors, em, f.vlan);
      const mtu = intField(errors, 'mtu', f.mtu, 552, 65535);
      const params = InterfacesService.bondParams(errors, f, {});
      fail(errors);
      return this.repo.insertInterface(
        em,
        set.machine,
        { name: name!, type: 'bond', macAddress: mac!, vlanId: vlanId === undefined ? (parents[0].vlan_id ?? null) : vlanId, mtu: mtu ?? 1500, tags: InterfacesService.tags(f.tags) ?? [], params, enabled: true },
        parents.map((p) => p.id),
      );
    });
  }

  async createBridge(systemId: string, f: InterfaceForm, actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'admin', 'create bridge', async (set, em) => {
      const errors: Errors = {};
      const [parent] = f.parent === undefined ? [] : InterfacesService.parentsOf(errors, set, [f.parent], 'parent', null);
      if (f.parent === undefined) errors.parent = ['This field is required.'];
      if (parent?.type === 'bridge') errors.parent = ['A bridge cannot be built on another bridge.'];
      else if (parent?.children?.some((c) => set.byName(c)?.type !== 'vlan')) errors.parent = [`${parent.name} is already in use by ${parent.children.join(', ')}.`];
      const name = this.nameField(errors, set, f.name, null, parent ? `br-${parent.name}` : undefined);
      const mac = (await this.macField(errors, em, f.mac_address, false, null, false)) ?? parent?.mac_address;
      const vlanId = await this.vlanField(errors, em, f.vlan);
      const mtu = intField(errors, 'mtu', f.mtu, 552, 65535);
      const params = InterfacesService.bridgeParams(errors, f, {});
      fail(errors);
      return this.repo.insertInterface(
        em,
        set.machine,
        { name: name!, type: 'bridge', macAddress: mac!, vlanId: vlanId === undefined ? (parent.vlan_id ?? null) : vlanId, mtu: mtu ?? 1500, tags: InterfacesService.tags(f.tags) ?? [], params, enabled: true },
        [parent.id],
      );
    });
  }

  async createVlan(systemId: string, f: InterfaceForm, actor: Actor): Promise<number> {
    return this.edit(systemId, actor, 'admin', 'create VLAN', async (set, em) => {
      const errors: Errors = {};
      const [parent] = f.parent === undefined ? [] : InterfacesService.parentsOf(errors, set, [f.parent], 'parent', null);
      if (f.parent === undefined) errors.parent = ['This field is required.'];
      if (parent?.type === 'vlan') errors.parent = ['A VLAN interface cannot be built on another VLAN interface.'];
      if (f.vlan === undefined || f.vlan.trim() === '') errors.vlan = ['This field is required.'];
      const vlanId = await this.vlanField(errors, em, f.vlan);
      const vlan = vlanId ? await this.repo.vlan(em, vlanId) : null;
      if (vlan && parent && !errors.parent) {
        const parentVlan = parent.vlan_id !== null && parent.vlan_id !== undefined ? await this.repo.vlan(em, parent.vlan_id) : null;
        if (vlan.vid === 0) errors.vlan = ['A VLAN interface can only belong to a tagged VLAN.'];
        else if (!parentVlan) errors.parent = [`${parent.name} is not connected to a VLAN; connect it to the fabric first.`];
        else if (parentVlan.fabric_id !== vlan.fabric_id) errors.vlan = ['A VLAN interface can only belong to a VLAN on the same fabric as its parent.'];
        else if (set.interfaces.some((i) => i.type === 'vlan' && i.vlan_id === vlan.id && i.parents?.includes(parent.name))) errors.vlan = ['A VLAN interface for this parent and VLAN already exists.'];
      }
      const name = errors.vlan || errors.parent ? undefined : this.nameField(errors, set, f.name, null, `${parent.name}.${vlan!.vid}`);
      const mtu = intField(errors, 'mtu', f.mtu, 552, 65535);
      fail(errors);
      return this.repo.insertInterface(
        em,
        set.machine,
        { name: name!, type: 'vlan', macAddress: parent.mac_address, vlanId: vlan!.id, mtu: mtu ?? vlan!.mtu, tags: InterfacesService.tags(f.tags) ?? [], params: {}, enabled: true },
        [parent.id],
      );
    });
  }

  // ---- update / delete --------------------------------------------------------------------------

  /** PUT: name, mac_address, vlan, mtu, tags, enabled and the type's params; a Deployed machine takes name and mac_address only. */
  async update(systemId: string, rawId: string, f: InterfaceForm, parentIds: readonly string[] | undefined, actor: Actor): Promise<void> {
    await this.edit(
      systemId,
      actor,
      'admin',
      'update',
      async (set, em) => {
        const i = this.iface(set, rawId);
        const errors: Errors = {};
        const c: InterfaceChanges = {};
        if (f.name !== undefined) c.name = this.nameField(errors, set, f.name, i.id);
        if (f.mac_address !== undefined) {
          if (i.type === 'vlan') errors.mac_address = ["A VLAN interface's MAC address is its parent's."];
          else c.mac_address = await this.macField(errors, em, f.mac_address, true, i.id, i.type === 'physical');
        }
        let parents: InterfaceRow[] | undefined;
        if (set.machine.status !== NodeStatus.DEPLOYED) {
          if (f.vlan !== undefined) {
            const vlanId = await this.vlanField(errors, em, f.vlan);
            if (i.type === 'vlan' && vlanId !== undefined) {
              const parentName = i.parents?.[0];
              const parent = parentName ? set.byName(parentName) : undefined;
              const [v, pv] = [vlanId === null ? null : await this.repo.vlan(em, vlanId), parent?.vlan_id ? await this.repo.vlan(em, parent.vlan_id) : null];
              if (!v || v.vid === 0) errors.vlan = ['A VLAN interface can only belong to a tagged VLAN.'];
              else if (pv && pv.fabric_id !== v.fabric_id) errors.vlan = ['A VLAN interface can only belong to a VLAN on the same fabric as its parent.'];
            }
            if (vlanId !== undefined && !errors.vlan) c.vlan_id = vlanId;
          }
          const mtu = intField(errors, 'mtu', f.mtu, 552, 65535);
          if (mtu !== undefined) c.mtu = mtu;
          const tags = InterfacesService.tags(f.tags);
          if (tags) c.tags = tags;
          if (f.enabled !== undefined) c.enabled = truthy(f.enabled);
          if (i.type === 'bond') c.params = InterfacesService.bondParams(errors, f, i.params ?? {});
          if (i.type === 'bridge') c.params = InterfacesService.bridgeParams(errors, f, i.params ?? {});
          if (parentIds?.length && i.type === 'bond') {
            parents = InterfacesService.parentsOf(errors, set, parentIds, 'parents', i.id);
            for (const p of parents) if (p.type !== 'physical') errors.parents = [`${p.name} is a ${p.type} interface; only physical interfaces can be bonded.`];
          }
        }
        fail(errors);
        await this.repo.updateInterface(em, i.id, c);
        if (parents) await this.repo.setParents(em, i.id, parents.map((p) => p.id));
      },
      [NodeStatus.DEPLOYED],
    );
  }

  /** Deletes the interface, and the VLAN interfaces and bridges built on it alone; frees their static addresses. */
  async delete(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'admin', 'delete', async (set, em) => {
      const i = this.iface(set, rawId);
      const doomed = new Set<number>([i.id]);
      let grew = true;
      while (grew) {
        grew = false;
        for (const x of set.interfaces) {
          if (doomed.has(x.id) || !x.parents?.length) continue;
          if (x.parents.every((p) => doomed.has(set.byName(p)!.id))) {
            doomed.add(x.id);
            grew = true;
          }
        }
      }
      await this.repo.deleteInterfaces(em, [...doomed]);
    });
  }

  async tag(systemId: string, rawId: string, tag: string | undefined, add: boolean, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'admin', add ? 'add tag to' : 'remove tag from', async (set, em) => {
      const i = this.iface(set, rawId);
      if (!tag?.trim()) throw invalid({ tag: ['This field is required.'] });
      const t = tag.trim();
      const tags = add ? (i.tags.includes(t) ? i.tags : [...i.tags, t]) : i.tags.filter((x) => x !== t);
      await this.repo.updateInterface(em, i.id, { tags });
    });
  }

  // ---- links -----------------------------------------------------------------------------------

  /** Checks a requested static address: in the subnet, outside dynamic ranges, not taken. */
  private async checkStaticIp(errors: Errors, em: EntityManager, subnet: SubnetRow, raw: string): Promise<string | undefined> {
    const ip = parseIp(raw);
    const cidr = parseCidr(subnet.cidr)!;
    if (!ip) {
      errors.ip_address = [`'${raw}' is not a valid IP address.`];
      return undefined;
    }
    if (ip.family !== cidr.family || !cidrContains(cidr, ip)) {
      errors.ip_address = [`IP address ${raw} is not in the given subnet '${subnet.cidr}'.`];
      return undefined;
    }
    const { first, last } = usableRange(cidr);
    if (ip.value < first || ip.value > last) {
      errors.ip_address = [`IP address ${raw} is not a usable host address of '${subnet.cidr}'.`];
      return undefined;
    }
    const dynamic = (await this.networks.ranges(em, { subnetId: subnet.id })).find((r) => r.type === 'dynamic' && ip.value >= parseIp(r.start_ip)!.value && ip.value <= parseIp(r.end_ip)!.value);
    if (dynamic) {
      errors.ip_address = [`IP address ${raw} is inside a dynamic range ${dynamic.start_ip}-${dynamic.end_ip}.`];
      return undefined;
    }
    const text = formatIp(ip);
    if ((await this.addresses.taken(em, subnet)).some((t) => { const p = parseIp(t); return !!p && sameIp(p, ip); })) {
      errors.ip_address = [`IP address ${text} is already in use.`];
      return undefined;
    }
    return text;
  }

  /** link_subnet: mode AUTO, DHCP, STATIC or LINK_UP on a subnet (MAAS InterfaceLinkForm). */
  async linkSubnet(systemId: string, rawId: string, f: InterfaceForm, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'edit', 'link subnet', async (set, em) => {
      const i = this.iface(set, rawId);
      const errors: Errors = {};
      const mode = f.mode === undefined || f.mode.trim() === '' ? undefined : choiceField(errors, 'mode', f.mode.trim().toLowerCase(), LINK_MODES);
      if (f.mode === undefined || f.mode.trim() === '') errors.mode = ['This field is required.'];
      else if (mode === 'auto' && set.machine.kind === 'device') errors.mode = ['AUTO is for machines, whose address is picked when they deploy; link a device STATIC (with or without ip_address), DHCP or LINK_UP.'];
      let subnet: SubnetRow | null = null;
      if (f.subnet !== undefined && f.subnet.trim() !== '') {
        subnet = await this.networks.subnetByKey(em, f.subnet.trim());
        if (!subnet) errors.subnet = [`Select a valid choice. ${f.subnet} is not one of the available choices.`];
      } else if (mode === 'auto' || mode === 'static') errors.subnet = ['This field is required.'];
      if (subnet && i.vlan_id !== null && i.vlan_id !== undefined && subnet.vlan_id !== i.vlan_id) {
        errors.subnet = [`Subnet ${subnet.cidr} is not on the VLAN of ${i.name}; disconnect the interface or change its VLAN first.`];
      }
      if (f.ip_address !== undefined && f.ip_address.trim() !== '' && mode !== 'static') errors.ip_address = [`Cannot set an IP address in mode '${mode ?? ''}'.`];
      const wantsGateway = f.default_gateway !== undefined && truthy(f.default_gateway);
      if (wantsGateway && mode !== 'auto' && mode !== 'static') errors.default_gateway = [`Cannot use in mode '${mode ?? ''}'.`];
      else if (wantsGateway && subnet && !subnet.gateway_ip) errors.default_gateway = ['Subnet has no gateway IP defined; cannot set it as the default gateway.'];
      if (mode === 'link_up' && i.links?.length) errors.mode = ['Cannot configure LINK_UP on an interface that has other links.'];
      if (mode && mode !== 'link_up' && subnet && i.links?.some((l) => l.subnet_id === subnet!.id)) errors.subnet = [`${i.name} is already linked to subnet ${subnet.cidr}.`];
      let ip: string | undefined;
      if (mode === 'static' && subnet && !Object.keys(errors).length) {
        await this.addresses.lock(em, subnet.id);
        if (f.ip_address !== undefined && f.ip_address.trim() !== '') ip = await this.checkStaticIp(errors, em, subnet, f.ip_address.trim());
        else {
          ip = (await this.addresses.firstFree(em, subnet)) ?? undefined;
          if (!ip) errors.ip_address = [`No free address is left on subnet ${subnet.cidr}.`];
        }
      }
      fail(errors);
      // A LINK_UP link gives way to a real one, as in MAAS.
      const linkUp = (i.links ?? []).filter((l) => l.mode === 'link_up').map((l) => l.id);
      if (linkUp.length && mode !== 'link_up') await this.repo.deleteLinks(em, linkUp);
      if (subnet && (i.vlan_id === null || i.vlan_id === undefined)) await this.repo.updateInterface(em, i.id, { vlan_id: subnet.vlan_id });
      const staticIpId = ip ? await this.repo.insertStaticIp(em, { ip, subnetId: subnet!.id, interfaceId: i.id }) : null;
      const linkId = await this.repo.insertLink(em, { interfaceId: i.id, mode: mode!, subnetId: subnet?.id ?? null, staticIpId });
      if (wantsGateway && subnet) await this.repo.setDefaultGateway(em, set.machine, linkId, parseCidr(subnet.cidr)!.family);
    });
  }

  async unlinkSubnet(systemId: string, rawId: string, rawLink: string | undefined, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'edit', 'unlink subnet', async (set, em) => {
      const i = this.iface(set, rawId);
      if (rawLink === undefined || rawLink.trim() === '') throw invalid({ id: ['This field is required.'] });
      const link = /^\d+$/.test(rawLink.trim()) ? i.links?.find((l) => l.id === Number(rawLink.trim())) : undefined;
      if (!link) throw invalid({ id: [`Select a valid choice. ${rawLink} is not one of the available choices.`] });
      await this.repo.deleteLinks(em, [link.id]);
    });
  }

  /** set_default_gateway: the given link (or the interface's AUTO/STATIC links with a gateway, one per family). */
  async setDefaultGateway(systemId: string, rawId: string, rawLink: string | undefined, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'edit', 'set default gateway for', async (set, em) => {
      const i = this.iface(set, rawId);
      const usable = (i.links ?? []).filter((l) => (l.mode === 'auto' || l.mode === 'static') && l.subnet_id !== null && set.net.subnets.get(l.subnet_id)?.gateway_ip);
      let chosen = usable;
      if (rawLink !== undefined && rawLink.trim() !== '') {
        const link = /^\d+$/.test(rawLink.trim()) ? i.links?.find((l) => l.id === Number(rawLink.trim())) : undefined;
        if (!link) throw invalid({ link_id: [`Select a valid choice. ${rawLink} is not one of the available choices.`] });
        if (!usable.includes(link)) throw invalid({ link_id: ['This link has no gateway to route through: it must be an AUTO or STATIC link on a subnet with a gateway IP.'] });
        chosen = [link];
      }
      if (!chosen.length) throw invalid({ __all__: ['This interface has no AUTO or STATIC link to a subnet with a gateway IP.'] });
      const done = new Set<number>();
      for (const l of chosen) {
        const family = parseCidr(set.net.subnets.get(l.subnet_id!)!.cidr)!.family;
        if (done.has(family)) continue;
        done.add(family);
        await this.repo.setDefaultGateway(em, set.machine, l.id, family);
      }
    });
  }

  /** disconnect: drops every link (freeing static addresses) and the VLAN. */
  async disconnect(systemId: string, rawId: string, actor: Actor): Promise<void> {
    await this.edit(systemId, actor, 'edit', 'disconnect', async (set, em) => {
      const i = this.iface(set, rawId);
      if (i.links?.length) await this.repo.deleteLinks(em, i.links.map((l) => l.id));
      await this.repo.updateInterface(em, i.id, { vlan_id: null });
    });
  }
}
