import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NodeStatus } from '@kiln/lifecycle';
import type { Actor } from '../common/actor';
import { conflict, forbidden, invalid, notFound } from '../common/domain.error';
import { parseSize } from '../common/values';
import { MachineEvents } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { validatePowerParameters } from '../power/power-types.catalogue';
import { BmcService } from './bmc.service';
import { MachineAccess } from './machine.access';
import { architectureFrom, boolField, type PlacementInput, powerParamsFrom, type PowerSettingsInput, resolvePlacement } from './machine.fields';
import { MachineRecord, MachinesRepository } from './machines.repository';
import { isValidHostname } from './names';

/** More cores than any machine has: the machine JSON lists every core (numanode_set). */
const MAX_CPU_COUNT = 65536;

/** The largest value of a Postgres integer column (machine memory is MiB in one). */
const MAX_INT4 = 2147483647;

/** The fields an update sets (values as sent; absent ones are left as they are). */
export interface UpdateMachineInput extends PlacementInput {
  hostname?: string;
  description?: string;
  architecture?: string;
  subarchitecture?: string;
  minHweKernel?: string;
  cpuCount?: string;
  cpuSpeed?: string;
  /** Bare numbers are MiB; suffixes accepted. */
  memory?: string;
  /** Bytes, suffixes accepted; '' clears it. */
  swapSize?: string;
  disableIpv4?: string;
  power: PowerSettingsInput;
  /** Names of the parameters sent, for the event log. */
  changed: string[];
}

/**
 * Changing machines: their fields and power settings (BMC records, secrets through BmcService),
 * deleting them, moving them between zones, their owner's workload annotations, and reading
 * their power parameters.
 */
@Injectable()
export class MachineEditingService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: MachinesRepository,
    private readonly bmcs: BmcService,
    private readonly access: MachineAccess,
    private readonly events: EventsRepository,
  ) {}

  /** Administrators only (the API says so); a locked machine refuses. */
  async update(systemId: string, input: UpdateMachineInput, actor: Actor): Promise<MachineRecord> {
    const errors: Record<string, string[]> = {};
    const refs = await resolvePlacement(this.repo, input, errors, true);
    await this.ds.transaction(async (em) => {
      const m = await this.repo.lockBySystemId(em, systemId);
      if (!m) throw notFound('No Machine matches the given query.');
      this.access.requireUnlocked(m);
      const hostname = input.hostname?.split('.')[0];
      if (hostname !== undefined) {
        if (!isValidHostname(hostname)) errors.hostname = [`Invalid hostname: '${hostname}'.`];
        else if (await this.repo.hostnameTaken(hostname, m.id)) errors.hostname = [`Node with hostname "${hostname}" already exists`];
        else m.hostname = hostname;
      }
      if (input.description !== undefined) m.description = input.description;
      if (input.architecture !== undefined) {
        const a = architectureFrom(input.architecture, input.subarchitecture);
        if (a) m.architecture = a;
      }
      if (input.minHweKernel !== undefined) m.minHweKernel = input.minHweKernel;
      for (const [field, value, key] of [
        ['cpu_count', input.cpuCount, 'cpuCount'],
        ['cpu_speed', input.cpuSpeed, 'cpuSpeed'],
      ] as const) {
        if (value === undefined) continue;
        if (!/^\d+$/.test(value)) errors[field] = ['Enter a whole number.'];
        else if (field === 'cpu_count' && Number(value) > MAX_CPU_COUNT) errors[field] = [`Ensure this value is less than or equal to ${MAX_CPU_COUNT}.`];
        else m[key] = Number(value);
      }
      const mem = input.memory;
      if (mem !== undefined) {
        const mib = parseSize(mem, 'M');
        if (mib === null) errors.memory = ['Enter a size such as 4096, 4G or 4096M.'];
        else if (Math.round(mib / (1024 * 1024)) > MAX_INT4) errors.memory = [`Ensure this value is at most ${MAX_INT4} MiB.`];
        else m.memory = Math.round(mib / (1024 * 1024));
      }
      const swap = input.swapSize;
      if (swap !== undefined) {
        const bytes = swap === '' ? null : parseSize(swap, '');
        if (swap !== '' && bytes === null) errors.swap_size = ['Enter a size in bytes, optionally with K, M, G or T.'];
        else if (bytes !== null && bytes > Number.MAX_SAFE_INTEGER) {
          errors.swap_size = [`Ensure this value is at most ${Number.MAX_SAFE_INTEGER} bytes.`];
        } else m.swapSize = bytes === null ? null : String(bytes);
      }
      if (input.disableIpv4 !== undefined && boolField('disable_ipv4', input.disableIpv4, false)) {
        errors.disable_ipv4 = ['Kiln (like MAAS 2.0) cannot disable IPv4.'];
      }
      if (refs.domainId !== undefined && input.domain !== undefined) m.domainId = refs.domainId;
      if (input.zone !== undefined) m.zoneId = refs.zoneId;
      if (input.pool !== undefined) m.poolId = refs.poolId;
      const newParams = powerParamsFrom(input.power);
      if (input.power.type !== undefined || newParams) {
        const current = await this.bmcs.find(em, m.bmcId);
        const type = input.power.type ?? current?.powerType ?? '';
        const merged = {
          ...(current && current.powerType === type ? this.bmcs.open(current.powerParameters) : {}),
          ...(current && current.powerType === type ? m.instancePowerParameters : {}),
          ...(newParams ?? {}),
        };
        const checked = validatePowerParameters(type, merged, boolField('power_parameters_skip_check', input.power.skipCheck, false));
        if (!checked.ok) Object.assign(errors, checked.errors);
        else if (!type) {
          m.bmcId = null;
          m.instancePowerParameters = {};
        } else {
          const previous = m.bmcId;
          m.bmcId = null;
          await this.repo.save(em, m);
          m.bmcId = await this.bmcs.save(em, type, checked.params, previous);
          m.instancePowerParameters = this.bmcs.nodeScoped(type, checked.params);
        }
      }
      if (Object.keys(errors).length) throw invalid(errors);
      await this.repo.save(em, m);
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          ...MachineEvents.UPDATED,
          description: `Changed by ${actor.username}: ${input.changed.join(', ')}`,
          username: actor.username,
        },
        em,
      );
    });
    return (await this.repo.findBySystemId(systemId))!;
  }

  /** Administrators only (the API says so). A deployed or busy machine needs `force`. */
  async delete(systemId: string, actor: Actor, force: boolean): Promise<void> {
    const rec = await this.repo.findBySystemId(systemId);
    if (!rec) throw notFound('No Machine matches the given query.');
    const r = rec.row;
    this.access.require(actor, 'see', { ownerId: r.owner_id });
    this.access.requireUnlocked(r);
    const inFlight = [NodeStatus.DEPLOYING, NodeStatus.COMMISSIONING, NodeStatus.TESTING, NodeStatus.DISK_ERASING];
    if (!force && r.owner_id !== null && r.status === NodeStatus.DEPLOYED) {
      throw conflict(`Cannot delete machine ${r.hostname}: it is deployed. Release it first, or pass force=true.`);
    }
    if (!force && (inFlight as number[]).includes(r.status)) {
      throw conflict(`Cannot delete machine ${r.hostname} while it is ${r.status === NodeStatus.DEPLOYING ? 'deploying' : 'busy'}; abort it first, or pass force=true.`);
    }
    await this.events.append({
      machineId: r.id,
      systemId,
      hostname: r.hostname,
      ...MachineEvents.DELETED,
      description: `Machine deleted by ${actor.username}`,
      username: actor.username,
    });
    await this.repo.delete(r.id);
  }

  /** Administrators only (the API says so). Locked machines stay where they are. */
  async setZone(zone: string | undefined, systemIds: string[], actor: Actor): Promise<void> {
    if (!zone) throw invalid({ zone: ['This field is required.'] });
    const zoneId = await this.repo.idByName('zones', zone);
    if (zoneId === null) throw invalid({ zone: [`Select a valid choice. ${zone} is not one of the available choices.`] });
    const rows = await this.repo.summaries(systemIds);
    const unknown = systemIds.filter((id) => !rows.some((r) => r.system_id === id));
    if (unknown.length) throw invalid(`Unknown machine(s): ${unknown.join(', ')}.`);
    const locked = rows.filter((r) => r.locked).map((r) => r.system_id);
    if (locked.length) throw forbidden(`Locked machine(s): ${locked.join(', ')}.`);
    await this.repo.setZone(systemIds, zoneId);
    for (const id of systemIds) {
      const r = rows.find((x) => x.system_id === id)!;
      await this.events.append({
        machineId: r.id,
        systemId: id,
        hostname: r.hostname,
        ...MachineEvents.ZONE_CHANGED,
        description: `Moved to zone ${zone} by ${actor.username}`,
        username: actor.username,
      });
    }
  }

  /** Sets the owner's key=value annotations; an empty value deletes the key. */
  async setOwnerData(systemId: string, annotations: ReadonlyArray<readonly [string, string]>, actor: Actor): Promise<MachineRecord> {
    await this.ds.transaction(async (em) => {
      const m = await this.repo.lockBySystemId(em, systemId);
      if (!m) throw notFound('No Machine matches the given query.');
      if (m.ownerId === null) throw conflict("Cannot set workload annotation: it hasn't been acquired.");
      this.access.require(actor, 'own', m);
      this.access.requireUnlocked(m);
      const data = { ...m.ownerData };
      for (const [k, v] of annotations) {
        if (v === '') delete data[k];
        else data[k] = v;
      }
      m.ownerData = data;
      await this.repo.save(em, m);
    });
    return (await this.repo.findBySystemId(systemId))!;
  }

  /** Power parameters (secrets opened) of the machines named, or of every machine. Administrators only (the API says so). */
  powerParameters(systemIds: string[] | null): Promise<Record<string, Record<string, string>>> {
    return this.bmcs.powerParameters(systemIds);
  }
}
