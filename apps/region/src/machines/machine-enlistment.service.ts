import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NodeStatus } from '@kiln/lifecycle';
import type { Actor } from '../common/actor';
import { conflict, invalid } from '../common/domain.error';
import { normalizeMac } from '../common/mac';
import { MachineEvents } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { validatePowerParameters } from '../power/power-types.catalogue';
import { BmcService } from './bmc.service';
import { MachineAccess } from './machine.access';
import {
  architectureFrom,
  boolField,
  type PlacementInput,
  powerParamsFrom,
  type PowerSettingsInput,
  resolvePlacement,
  setsPower,
} from './machine.fields';
import { MachineLifecycleService } from './machine-lifecycle.service';
import { MachineRecord, MachinesRepository } from './machines.repository';
import { isValidHostname, newHostname, newSystemId } from './names';
import { ScriptRunsService } from '../scripts/script-runs.service';

/** A new machine, as sent by an administrator, a user or an enlisting machine (values as sent; see machine.fields.ts). */
export interface CreateMachineInput extends PlacementInput {
  architecture?: string;
  subarchitecture?: string;
  /** `mac_addresses` values; each may hold several MACs separated by commas. */
  macAddresses: string[];
  hostname?: string;
  description?: string;
  minHweKernel?: string;
  power: PowerSettingsInput;
  commission?: string;
  deployed?: string;
}

interface EnlistmentMatch {
  systemId: string;
  by: string;
}

interface EnlistmentReport {
  macs: string[];
  architecture: string | null;
  type: string;
  params: Record<string, string>;
}

/**
 * New machines: created by an administrator or a user, adopted as already deployed, or enlisted
 * by the machine itself (anonymously), which completes a record Kiln already has when it can
 * match one; and accepting New machines into commissioning.
 */
@Injectable()
export class MachineEnlistmentService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: MachinesRepository,
    private readonly bmcs: BmcService,
    private readonly access: MachineAccess,
    private readonly lifecycle: MachineLifecycleService,
    private readonly events: EventsRepository,
    private readonly runs: ScriptRunsService,
  ) {}

  /**
   * Creates (or, for an enlisting machine, completes) a machine. `actor` null: an enlisting machine.
   * Two requests for the same machine at once (an enlisting machine's runner retrying, or two
   * boots) can both find no record and both insert: the second then hits a unique index (a MAC,
   * the hostname, the system id) and is tried again, when it finds the record the first one made
   * and completes it as any enlisting machine would. A user's request that loses such a race is
   * told which field is taken, as if it had come second.
   */
  async create(input: CreateMachineInput, actor: Actor | null): Promise<MachineRecord> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createOnce(input, actor);
      } catch (e) {
        if (!isUniqueViolation(e) || attempt >= 3) {
          if (isUniqueViolation(e)) throw invalid(uniqueViolationDetail(e));
          throw e;
        }
      }
    }
  }

  private async createOnce(input: CreateMachineInput, actor: Actor | null): Promise<MachineRecord> {
    const errors: Record<string, string[]> = {};
    const architecture = architectureFrom(input.architecture, input.subarchitecture);
    const rawMacs = input.macAddresses.flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean);
    const macs: string[] = [];
    for (const raw of rawMacs) {
      const mac = normalizeMac(raw);
      if (!mac) (errors.mac_addresses ??= []).push(`'${raw}' is not a valid MAC address.`);
      else if (!macs.includes(mac)) macs.push(mac);
    }
    const type = input.power.type ?? '';
    this.access.requirePowerSettings(actor, type, setsPower(input.power));
    const deployed = boolField('deployed', input.deployed, false);
    if (!macs.length && !rawMacs.length && !(type === 'ipmi' || (deployed && type === ''))) {
      errors.mac_addresses = ['This field is required.'];
    }
    if (!architecture && macs.length && !deployed) errors.architecture = ['This field is required.'];
    const powerParams = powerParamsFrom(input.power) ?? {};
    const skip = boolField('power_parameters_skip_check', input.power.skipCheck, false);
    const checked = validatePowerParameters(type, powerParams, skip);
    if (!checked.ok) Object.assign(errors, checked.errors);

    if (!actor && !Object.keys(errors).length) {
      // An enlisting machine that Kiln already knows (by a MAC, or by the BMC an operator
      // registered it with) completes that record instead of becoming a second machine.
      const reported = checked.ok ? checked.params : {};
      const match = await this.findEnlistmentMatch(macs, type, reported);
      if (match) {
        await this.enlistInto(match, { macs, architecture, type, params: reported }, boolField('commission', input.commission, false));
        return (await this.repo.findBySystemId(match.systemId))!;
      }
    }

    let hostname = input.hostname?.split('.')[0];
    if (hostname !== undefined && hostname !== '' && !isValidHostname(hostname)) {
      errors.hostname = [`Invalid hostname: '${hostname}'.`];
    } else if (hostname && (await this.repo.hostnameTaken(hostname))) {
      errors.hostname = [`Node with hostname "${hostname}" already exists`];
    }
    const owners = await this.repo.macOwners(macs);
    for (const o of owners) (errors.mac_addresses ??= []).push(`MAC address ${o.mac_address} already in use on ${o.hostname}.`);
    const refs = await resolvePlacement(this.repo, input, errors);
    if (Object.keys(errors).length) throw invalid(errors);

    if (!hostname) {
      do hostname = newHostname();
      while (await this.repo.hostnameTaken(hostname));
    }
    let systemId = newSystemId();
    while (await this.repo.systemIdTaken(systemId)) systemId = newSystemId();
    const isAdmin = !!actor?.isAdmin;
    const commission = boolField('commission', input.commission, isAdmin) && !deployed;
    // An enlisting machine that asks to commission is created commissioning, with its run and
    // token, whatever its power type: it is already running the commissioning environment.
    const selfCommissioning = !actor && commission;

    await this.ds.transaction(async (em) => {
      const bmcId = type ? await this.bmcs.save(em, type, checked.ok ? checked.params : {}, null) : null;
      const nodeScoped = type ? this.bmcs.nodeScoped(type, checked.ok ? checked.params : {}) : {};
      const saved = await this.repo.insert(em, {
        systemId,
        hostname,
        description: input.description ?? '',
        domainId: refs.domainId,
        zoneId: refs.zoneId,
        poolId: refs.poolId,
        architecture: architecture ?? '',
        minHweKernel: input.minHweKernel ?? '',
        status: deployed ? NodeStatus.DEPLOYED : NodeStatus.NEW,
        ownerId: deployed && actor ? actor.id : null,
        bmcId,
        instancePowerParameters: nodeScoped,
        enlisting: !actor,
        powerState: 'unknown',
      });
      if (macs.length) {
        await this.repo.saveInterfaces(
          em,
          macs.map((mac, i) => ({ machineId: saved.id, name: `eth${i}`, macAddress: mac, isBoot: i === 0 })),
        );
      }
      if (selfCommissioning) {
        saved.status = NodeStatus.COMMISSIONING;
        saved.previousStatus = NodeStatus.NEW;
        this.lifecycle.extendDeadline(saved);
        await this.runs.startCommissioning(em, saved, {}, { enlisting: true });
        await this.repo.save(em, saved);
      }
      await this.events.append(
        {
          machineId: saved.id,
          systemId,
          hostname: hostname!,
          ...(deployed ? MachineEvents.DEPLOYED : MachineEvents.CREATED),
          description: `${deployed ? 'Adopted as already deployed' : 'Machine created'} by ${actor?.username ?? 'enlistment'}${
            type ? ` with power type '${type}'` : ' without a power type'
          }${selfCommissioning ? '; enlistment commissioning started' : ''}`,
          username: actor?.username ?? '',
        },
        em,
      );
    });
    if (commission && !selfCommissioning) await this.startCommissioning(systemId, actor);
    return (await this.repo.findBySystemId(systemId))!;
  }

  /** NEW machines start commissioning; Ready or Commissioning ones are fine as they are. */
  async accept(systemIds: string[], actor: Actor): Promise<MachineRecord[]> {
    const out: MachineRecord[] = [];
    const recs: MachineRecord[] = [];
    for (const id of systemIds) {
      const rec = await this.repo.findBySystemId(id);
      if (!rec) throw invalid(`Unknown machine(s): ${id}.`);
      recs.push(rec);
    }
    for (const rec of recs) {
      const t = await this.lifecycle.apply(rec.row.system_id, { type: 'accept' }, actor);
      if (t.decision) out.push((await this.repo.findBySystemId(rec.row.system_id))!);
    }
    return out;
  }

  /** Starts commissioning a machine just created or enlisted; a refusal becomes an event, not an error. */
  private async startCommissioning(systemId: string, actor: Actor | null, onlyFrom?: number[]): Promise<void> {
    const rec = await this.repo.findBySystemId(systemId);
    if (!rec || (onlyFrom && !onlyFrom.includes(rec.row.status))) return;
    try {
      await this.lifecycle.apply(systemId, { type: 'commission' }, actor);
    } catch (e) {
      // The machine exists; say why it did not start commissioning instead of failing the request.
      await this.events.append({
        machineId: rec.row.id,
        systemId,
        hostname: rec.row.hostname,
        ...MachineEvents.NOT_COMMISSIONED,
        description: `Commissioning did not start: ${(e as Error).message}`,
        username: actor?.username ?? '',
      });
    }
  }

  /**
   * The machine an enlisting machine already is, as MAAS decides it: a New or Commissioning
   * machine that has one of the reported MACs, or else one whose BMC has the reported power type
   * and address (a machine an operator added with BMC credentials only, now PXE-booted by
   * commissioning). Several candidates on one BMC (a chassis) are told apart by their node-scoped
   * parameters; when that still leaves more than one, nothing is matched.
   */
  private async findEnlistmentMatch(macs: string[], type: string, params: Record<string, string>): Promise<EnlistmentMatch | null> {
    const statuses = [NodeStatus.NEW, NodeStatus.COMMISSIONING];
    if (macs.length) {
      const rows = await this.repo.machinesWithMacs(macs, statuses);
      const ids = new Set(rows.map((r) => r.system_id));
      if (ids.size === 1) return { systemId: rows[0].system_id, by: `MAC ${rows[0].mac_address}` };
      if (ids.size > 1) return null;
    }
    const address = (params.power_address ?? '').trim();
    if (!type || !address) return null;
    const rows = await this.repo.machinesOnBmc(type, address, statuses);
    const nodeScoped = this.bmcs.nodeScoped(type, params);
    const fits = rows.filter((r) => Object.entries(nodeScoped).every(([k, v]) => (r.node?.[k] ?? '') === v));
    return fits.length === 1 ? { systemId: fits[0].system_id, by: `BMC ${type} ${address}` } : null;
  }

  /** Adds an enlisting machine's MACs, architecture and BMC report to the machine it matched. */
  private async enlistInto(match: EnlistmentMatch, report: EnlistmentReport, commission: boolean): Promise<void> {
    await this.ds.transaction(async (em) => {
      const m = await this.repo.lockBySystemId(em, match.systemId);
      if (!m || !([NodeStatus.NEW, NodeStatus.COMMISSIONING] as number[]).includes(m.status)) {
        throw conflict(`Machine ${match.systemId} changed state while enlisting; enlist again.`);
      }
      const owners = await this.repo.macOwners(report.macs, em);
      const foreign = owners.filter((o) => o.machine_id !== m.id);
      if (foreign.length) {
        throw invalid({ mac_addresses: foreign.map((o) => `MAC address ${o.mac_address} already in use on ${o.hostname}.`) });
      }
      const existing = await this.repo.interfacesOf(em, m.id);
      const added = report.macs.filter((mac) => !existing.some((e) => e.macAddress === mac));
      const names = new Set(existing.map((e) => e.name));
      let n = 0;
      const nextName = () => {
        while (names.has(`eth${n}`)) n++;
        names.add(`eth${n}`);
        return `eth${n}`;
      };
      const hasBoot = existing.some((e) => e.isBoot);
      if (added.length) {
        await this.repo.saveInterfaces(
          em,
          added.map((mac, i) => ({ machineId: m.id, name: nextName(), macAddress: mac, isBoot: !hasBoot && i === 0 })),
        );
      }
      const notes: string[] = [added.length ? `added ${added.join(', ')}` : 'no new MAC'];
      if (report.architecture && !m.architecture) {
        m.architecture = report.architecture;
        notes.push(`architecture ${report.architecture}`);
      }
      if (report.type && Object.keys(report.params).length) {
        const current = await this.bmcs.find(em, m.bmcId);
        if (!current || current.powerType === report.type) {
          // An anonymous report only fills in what the machine's BMC record lacks: it never moves
          // the BMC to another address nor replaces (or blanks) credentials an operator stored.
          const stored: Record<string, string> = { ...(current ? this.bmcs.open(current.powerParameters) : {}), ...m.instancePowerParameters };
          const merged = { ...stored };
          const kept: string[] = [];
          for (const [k, v] of Object.entries(report.params)) {
            if ((stored[k] ?? '') === '') merged[k] = v;
            else if (stored[k] !== v) kept.push(k);
          }
          if (kept.length) notes.push(`kept the stored ${kept.sort().join(', ')}`);
          const previous = m.bmcId;
          m.bmcId = null;
          await this.repo.save(em, m);
          m.bmcId = await this.bmcs.save(em, report.type, merged, previous);
          m.instancePowerParameters = this.bmcs.nodeScoped(report.type, merged);
          notes.push(`BMC credentials from the machine (${report.type} ${merged.power_address ?? ''})`);
        } else {
          notes.push(`kept power type '${current.powerType}' (the machine reported '${report.type}')`);
        }
      }
      if (commission && m.status === NodeStatus.NEW) {
        // The machine is running the enlistment environment: it commissions itself, as a new one would.
        m.status = NodeStatus.COMMISSIONING;
        m.previousStatus = NodeStatus.NEW;
        m.enlisting = true;
        this.lifecycle.extendDeadline(m);
        await this.runs.startCommissioning(em, m, {}, { enlisting: true });
        notes.push('enlistment commissioning started');
      }
      await this.repo.save(em, m);
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          ...MachineEvents.ENLISTED,
          description: `Enlisting machine matched by ${match.by}: ${notes.join('; ')}`,
          username: '',
        },
        em,
      );
    });
  }
}

/** Postgres's unique_violation (23505), as TypeORM hands it on. */
function isUniqueViolation(e: unknown): e is { code: string; detail?: string; constraint?: string } {
  const err = e as { code?: string; driverError?: { code?: string } };
  return err?.code === '23505' || err?.driverError?.code === '23505';
}

/** The field a unique violation is about, as a MAAS field error. */
function uniqueViolationDetail(e: { detail?: string; constraint?: string; driverError?: { detail?: string } }): Record<string, string[]> {
  const detail = e.detail ?? e.driverError?.detail ?? '';
  if (/mac_address/.test(detail)) return { mac_addresses: ['A MAC address of this machine was registered by another request at the same time.'] };
  if (/hostname/.test(detail)) return { hostname: ['This hostname was taken by another request at the same time.'] };
  return { __all__: ['Another request created this machine at the same time; try again.'] };
}
