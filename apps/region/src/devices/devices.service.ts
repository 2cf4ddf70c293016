import { Injectable } from '@nestjs/common';
import type { Actor } from '../common/actor';
import { forbidden, invalid, notFound } from '../common/domain.error';
import { normalizeMac } from '../common/mac';
import type { ParamBag } from '../common/param-bag';
import { isValidHostname, newHostname, newSystemId } from '../machines/names';
import { DeviceFilter, DeviceRow, DevicesRepository, DeviceValues } from './devices.repository';

export interface DeviceInput {
  hostname?: string;
  description?: string;
  domain?: string;
  zone?: string;
  parent?: string;
  mac_addresses?: string[];
}

/** The listing filters devices/ takes (MAAS's node filters that apply to a device). */
export const DEVICE_FILTERS = ['id', 'hostname', 'mac_address', 'domain', 'zone'] as const;

/**
 * Devices (MAAS node_type 1): nodes known by their MAC addresses, not deployed. Whoever creates a
 * device owns it; a user sees devices they own and devices without an owner, and changes only their
 * own; administrators see and change every device.
 */
@Injectable()
export class DevicesService {
  constructor(private readonly repo: DevicesRepository) {}

  private canEdit(actor: Actor, d: DeviceRow): boolean {
    return actor.isAdmin || d.owner_id === actor.id;
  }

  /** The device, if the caller may see it (404 when it does not exist, 403 when it is another user's). */
  async get(systemId: string, actor: Actor): Promise<DeviceRow> {
    const d = await this.repo.bySystemId(systemId);
    if (!d) throw notFound('No Device matches the given query.');
    if (!actor.isAdmin && d.owner_id !== null && d.owner_id !== actor.id) throw forbidden('You do not have permission to view this device.');
    return d;
  }

  private async editable(systemId: string, actor: Actor): Promise<DeviceRow> {
    const d = await this.get(systemId, actor);
    if (!this.canEdit(actor, d)) throw forbidden('You do not have permission to change this device.');
    return d;
  }

  async list(params: ParamBag, actor: Actor): Promise<DeviceRow[]> {
    const f: DeviceFilter = { visibleTo: actor.isAdmin ? null : actor.id };
    const all = (n: string) => (params.has(n) ? params.getAll(n) : undefined);
    const macs = all('mac_address');
    if (macs) {
      const bad = macs.filter((m) => !normalizeMac(m));
      if (bad.length) throw invalid(`Invalid MAC address(es): ${bad.join(', ')}`);
      f.macs = macs.map((m) => normalizeMac(m)!);
    }
    const ids = all('id');
    if (ids) f.systemIds = ids;
    const hostnames = all('hostname');
    if (hostnames) f.hostnames = hostnames;
    const domains = all('domain');
    if (domains) f.domains = domains;
    const zones = all('zone');
    if (zones) f.zones = zones;
    return this.repo.list(f);
  }

  /** MAAS's DeviceForm: hostname, description, domain, zone, parent; field errors all at once. */
  private async values(p: DeviceInput, cur: DeviceRow | null, actor: Actor, errors: Record<string, string[]>): Promise<DeviceValues> {
    let hostname = cur?.hostname ?? '';
    if (p.hostname !== undefined && p.hostname.trim() !== '') {
      hostname = p.hostname.trim();
      if (!isValidHostname(hostname)) errors.hostname = [`Invalid hostname: '${hostname}'.`];
      else if (await this.repo.hostnameTaken(hostname, cur?.id ?? null)) errors.hostname = [`Node with hostname "${hostname}" already exists`];
    } else if (!cur) {
      do hostname = newHostname();
      while (await this.repo.hostnameTaken(hostname, null));
    }
    const ref = async (table: 'domains' | 'zones', field: string, name: string | undefined, current: number | undefined, dflt: () => Promise<number | null>) => {
      if (name === undefined || name.trim() === '') return current ?? (await dflt()) ?? 0;
      const id = await this.repo.idByName(table, name.trim());
      if (id === null) errors[field] = [`Select a valid choice. ${name} is not one of the available choices.`];
      return id ?? 0;
    };
    const domainId = await ref('domains', 'domain', p.domain, cur?.domain_id, () => this.repo.defaultDomainId());
    const zoneId = await ref('zones', 'zone', p.zone, cur?.zone_id, () => this.repo.idByName('zones', 'default'));
    let parentId = cur?.parent_id ?? null;
    if (p.parent !== undefined) {
      const key = p.parent.trim();
      if (key === '') parentId = null;
      else {
        parentId = await this.repo.machineIdBySystemId(key);
        if (parentId === null) errors.parent = [`Select a valid choice. ${key} is not one of the available choices.`];
      }
    }
    return { hostname, description: p.description ?? cur?.description ?? '', domainId, zoneId, parentId, ownerId: cur ? cur.owner_id : actor.id };
  }

  async create(p: DeviceInput, actor: Actor): Promise<DeviceRow> {
    const errors: Record<string, string[]> = {};
    const raw = (p.mac_addresses ?? []).flatMap((m) => m.split(/[\s,]+/)).filter(Boolean);
    const macs: string[] = [];
    if (!raw.length) errors.mac_addresses = ['This field is required.'];
    for (const m of raw) {
      const mac = normalizeMac(m);
      if (!mac) (errors.mac_addresses ??= []).push(`'${m}' is not a valid MAC address.`);
      else if (!macs.includes(mac)) macs.push(mac);
    }
    if (macs.length) {
      for (const o of await this.repo.macOwners(macs, null)) (errors.mac_addresses ??= []).push(`MAC address ${o.mac} already in use on ${o.hostname}.`);
    }
    const values = await this.values(p, null, actor, errors);
    if (Object.keys(errors).length) throw invalid(errors);
    let systemId = newSystemId();
    while (await this.repo.systemIdTaken(systemId)) systemId = newSystemId();
    await this.repo.transaction(async (em) => {
      const id = await this.repo.insert(em, systemId, values);
      await this.repo.insertInterfaces(em, id, macs);
    });
    return (await this.repo.bySystemId(systemId))!;
  }

  async update(systemId: string, p: DeviceInput, actor: Actor): Promise<DeviceRow> {
    const d = await this.editable(systemId, actor);
    const errors: Record<string, string[]> = {};
    const values = await this.values(p, d, actor, errors);
    if (Object.keys(errors).length) throw invalid(errors);
    await this.repo.update(d.id, values);
    return (await this.repo.bySystemId(systemId))!;
  }

  async delete(systemId: string, actor: Actor): Promise<void> {
    await this.repo.delete((await this.editable(systemId, actor)).id);
  }

  /** set_workload_annotations / set_owner_data: key=value pairs; an empty value deletes the key. */
  async setOwnerData(systemId: string, pairs: [string, string][], actor: Actor): Promise<DeviceRow> {
    const d = await this.editable(systemId, actor);
    const data = { ...d.owner_data };
    for (const [k, v] of pairs) {
      if (v === '') delete data[k];
      else data[k] = v;
    }
    await this.repo.setOwnerData(d.id, data);
    return (await this.repo.bySystemId(systemId))!;
  }

  /** restore_networking_configuration / restore_default_configuration: one physical interface per MAC, as created. */
  async restoreNetworking(systemId: string, actor: Actor): Promise<DeviceRow> {
    const d = await this.editable(systemId, actor);
    await this.repo.transaction((em) => this.repo.resetInterfaces(em, d.id));
    return d;
  }

  /** set_zone (administrators): the zone of every device named; an unknown zone or device is refused. */
  async setZone(zone: string | undefined, systemIds: string[]): Promise<void> {
    if (!zone) throw invalid({ zone: ['This field is required.'] });
    const zoneId = await this.repo.idByName('zones', zone);
    if (zoneId === null) throw invalid({ zone: [`Select a valid choice. ${zone} is not one of the available choices.`] });
    const found = new Set((await this.repo.list({ systemIds, visibleTo: null })).map((d) => d.system_id));
    const unknown = systemIds.filter((id) => !found.has(id));
    if (unknown.length) throw invalid(`Unknown device(s): ${unknown.join(', ')}.`);
    await this.repo.setZone(systemIds, zoneId);
  }

  /** is_registered: whether a device has this MAC address. */
  async isRegistered(raw: string | undefined): Promise<boolean> {
    const mac = raw ? normalizeMac(raw) : null;
    if (!mac) throw invalid({ mac_address: ['This field is required and must be a MAC address.'] });
    return this.repo.macRegistered(mac);
  }

  interfaces(deviceIds: number[]) {
    return this.repo.interfaces(deviceIds);
  }
}
