import { Inject, Injectable } from '@nestjs/common';
import { retryOnConflict } from '../database/transaction.retry';
import { DataSource, EntityManager } from 'typeorm';
import { BmcEntity, InterfaceEntity, MachineEntity } from '@kiln/db';
import { LifecycleEvent, NodeStatus, statusName } from '@kiln/lifecycle';
import type { AuthUser } from '../api/api.types';
import { BadRequestError, ConflictError, ForbiddenError, HttpError, NotFoundError, ServiceUnavailableError } from '../api/http/http.errors';
import { normalizeMac } from '../api/http/mac';
import { parseBool, RequestParams } from '../api/http/params';
import { EventsRepository } from '../events/events.repository';
import { isSecretField, powerType, validatePowerParameters } from '../power/power-types.catalogue';
import { PowerClient, PowerFailure } from '../power/power.client';
import { SECRET_BOX, SecretBox } from '../power/secret-box';
import { ALLOCATE_CONSTRAINTS, ALLOCATE_OPTIONS, buildWhere, LIST_FILTERS, SqlWhere } from './machine.filters';
import { MachineJsonCache } from './machine-json.cache';
import { MachineLifecycleService } from './machine-lifecycle.service';
import { MachineRecord, MachinesRepository } from './machines.repository';
import { isValidHostname, newHostname, newSystemId } from './names';
import { matchStorage, parseStorageConstraint } from './storage.constraint';


const REMOVED_OPTIONS: Record<string, string> = {
  install_kvm: 'Support for install_kvm allocation parameter has been removed.',
  install_rackd: 'Support for install_rackd allocation parameter has been removed.',
  register_vmhost: 'Support for register_vmhost allocation parameter has been removed.',
};

function requireParams(p: RequestParams): void {
  for (const [name, msg] of Object.entries(REMOVED_OPTIONS)) {
    if (parseBool(p.get(name)) === true) throw new BadRequestError(msg);
  }
}

/**
 * Who may say how a machine is powered (MAAS: administrators manage BMCs). A user who is not an
 * administrator may not set a power type or power parameters at all; an anonymous enlistment may
 * report the BMC its commissioning scripts found, but never a webhook, whose URLs the rack would
 * then call on the enlisting machine's say-so.
 */
function refusePowerSettingsFrom(user: AuthUser | null, type: string, p: RequestParams): void {
  const setsPower = type !== '' || p.has('power_parameters') || p.names().some((n) => n.startsWith('power_parameters_') && n !== 'power_parameters_skip_check');
  if (user && !user.isAdmin && setsPower) {
    throw new ForbiddenError('Only administrators may set the power type or power parameters (BMC settings) of a machine.');
  }
  if (!user && type === 'webhook') {
    throw new ForbiddenError('An enlisting machine may not set webhook power URLs; an administrator sets them.');
  }
}

/** Power parameters from `power_parameters_<name>` fields or one `power_parameters` JSON string. */
function powerParamsFrom(p: RequestParams): Record<string, string> | null {
  const out: Record<string, string> = {};
  let any = false;
  const json = p.get('power_parameters');
  if (json !== undefined) {
    any = true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new BadRequestError({ power_parameters: ['Must be a JSON object.'] });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new BadRequestError({ power_parameters: ['Must be a JSON object.'] });
    }
    for (const [k, v] of Object.entries(parsed)) out[k] = String(v);
  }
  for (const name of p.names()) {
    if (name.startsWith('power_parameters_') && name !== 'power_parameters_skip_check') {
      any = true;
      out[name.slice('power_parameters_'.length)] = p.get(name) ?? '';
    }
  }
  return any ? out : null;
}

function boolParam(p: RequestParams, name: string, dflt: boolean): boolean {
  const raw = p.get(name);
  if (raw === undefined || raw === '') return dflt;
  const b = parseBool(raw);
  if (b === undefined) throw new BadRequestError({ [name]: [`'${raw}' is not a boolean.`] });
  return b;
}

/** Architecture as MAAS stores it: 'amd64' -> 'amd64/generic'; HWE kernels are refused. */
function architectureFrom(p: RequestParams): string | null {
  const arch = p.get('architecture');
  const sub = p.get('subarchitecture');
  if (!arch) return null;
  for (const v of [arch, sub ?? '']) {
    if (/^(hwe|ga)-/.test(v.split('/').pop() ?? '')) {
      throw new BadRequestError({ architecture: ['Subarchitecture cannot be a HWE or GA kernel; use min_hwe_kernel.'] });
    }
  }
  const full = arch.includes('/') ? arch : `${arch}/${sub || 'generic'}`;
  if (!/^[a-z0-9_]+\/[a-z0-9_.-]+$/.test(full)) {
    throw new BadRequestError({ architecture: [`'${full}' is not a valid architecture.`] });
  }
  return full;
}

@Injectable()
export class MachinesService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: MachinesRepository,
    private readonly lifecycle: MachineLifecycleService,
    private readonly events: EventsRepository,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
    private readonly jsonCache: MachineJsonCache,
    private readonly power: PowerClient,
  ) {}

  // ---- reads -------------------------------------------------------------------------------

  async list(params: RequestParams, user: AuthUser): Promise<MachineRecord[]> {
    const where = buildWhere(params, LIST_FILTERS);
    this.restrictToVisible(where, user);
    const recs = await this.repo.list(where);
    const storage = params.get('storage');
    if (storage) {
      const wanted = parseStorageConstraint(storage);
      return recs.filter((r) => matchStorage(wanted, r.blockDevices) !== null);
    }
    return recs;
  }

  /**
   * The listing as JSON chunks: one query for ids and render keys, then full records only for
   * machines whose cached rendering is stale (three more queries, whatever their number).
   */
  async listJson(params: RequestParams, user: AuthUser): Promise<Buffer[]> {
    if (params.get('storage')) {
      return [Buffer.from('['), ...joinChunks((await this.list(params, user)).map((r) => this.jsonCache.render(r))), Buffer.from(']')];
    }
    const where = buildWhere(params, LIST_FILTERS);
    this.restrictToVisible(where, user);
    const keys = await this.repo.listRenderKeys(where);
    const out = new Array<Buffer | undefined>(keys.length);
    const missing: number[] = [];
    keys.forEach((k, i) => {
      out[i] = this.jsonCache.get(k.id, k.render_key);
      if (!out[i]) missing.push(k.id);
    });
    if (missing.length) {
      const w = new SqlWhere();
      w.add('m.id = ANY(?)', missing);
      const fresh = new Map((await this.repo.list(w)).map((r) => [r.row.id, r]));
      keys.forEach((k, i) => {
        if (out[i]) return;
        const rec = fresh.get(k.id);
        if (rec) out[i] = this.jsonCache.render(rec);
      });
    }
    if (!params.names().some((n) => n !== 'op') && user.isAdmin) this.jsonCache.retainOnly(new Set(keys.map((k) => k.id)));
    return [Buffer.from('['), ...joinChunks(out.filter((b): b is Buffer => !!b)), Buffer.from(']')];
  }

  async get(systemId: string, user: AuthUser | null): Promise<MachineRecord> {
    const rec = await this.repo.findBySystemId(systemId);
    if (!rec) throw new NotFoundError('No Machine matches the given query.');
    if (user && !user.isAdmin && rec.row.owner_id !== null && rec.row.owner_id !== user.id) {
      throw new ForbiddenError('You do not have permission to view this machine.');
    }
    return rec;
  }

  private restrictToVisible(where: SqlWhere, user: AuthUser): void {
    if (!user.isAdmin) where.add('(m.owner_id IS NULL OR m.owner_id = ?)', user.id);
  }

  // ---- create / update / delete ------------------------------------------------------------

  async create(p: RequestParams, user: AuthUser | null): Promise<MachineRecord> {
    const errors: Record<string, string[]> = {};
    const architecture = architectureFrom(p);
    const rawMacs = p.getAll('mac_addresses').flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean);
    const macs: string[] = [];
    for (const raw of rawMacs) {
      const mac = normalizeMac(raw);
      if (!mac) (errors.mac_addresses ??= []).push(`'${raw}' is not a valid MAC address.`);
      else if (!macs.includes(mac)) macs.push(mac);
    }
    const type = p.get('power_type') ?? '';
    refusePowerSettingsFrom(user, type, p);
    const deployed = boolParam(p, 'deployed', false);
    if (!macs.length && !rawMacs.length && !(type === 'ipmi' || (deployed && type === ''))) {
      errors.mac_addresses = ['This field is required.'];
    }
    if (!architecture && macs.length && !deployed) errors.architecture = ['This field is required.'];
    const powerParams = powerParamsFrom(p) ?? {};
    const skip = boolParam(p, 'power_parameters_skip_check', false);
    const checked = validatePowerParameters(type, powerParams, skip);
    if (!checked.ok) Object.assign(errors, checked.errors);

    if (!user && !Object.keys(errors).length) {
      // An enlisting machine that Kiln already knows (by a MAC, or by the BMC an operator
      // registered it with) completes that record instead of becoming a second machine.
      const reported = checked.ok ? checked.params : {};
      const match = await this.findEnlistmentMatch(macs, type, reported);
      if (match) {
        await this.enlistInto(match, { macs, architecture, type, params: reported });
        if (boolParam(p, 'commission', false)) await this.startCommissioning(match.systemId, null, [NodeStatus.NEW]);
        return (await this.repo.findBySystemId(match.systemId))!;
      }
    }

    let hostname = p.get('hostname')?.split('.')[0];
    if (hostname !== undefined && hostname !== '' && !isValidHostname(hostname)) {
      errors.hostname = [`Invalid hostname: '${hostname}'.`];
    } else if (hostname && (await this.repo.hostnameTaken(hostname))) {
      errors.hostname = [`Node with hostname "${hostname}" already exists`];
    }
    const owners = await this.repo.macOwners(macs);
    for (const o of owners) (errors.mac_addresses ??= []).push(`MAC address ${o.mac_address} already in use on ${o.hostname}.`);
    const refs = await this.resolveRefs(p, errors);
    if (Object.keys(errors).length) throw new BadRequestError(errors);

    if (!hostname) {
      do hostname = newHostname();
      while (await this.repo.hostnameTaken(hostname));
    }
    let systemId = newSystemId();
    while (await this.repo.systemIdTaken(systemId)) systemId = newSystemId();
    const isAdmin = !!user?.isAdmin;
    const commission = boolParam(p, 'commission', isAdmin) && !deployed;

    await this.ds.transaction(async (em) => {
      const bmcId = type ? await this.saveBmc(em, type, checked.ok ? checked.params : {}, null) : null;
      const nodeScoped = type ? this.nodeScopedParams(type, checked.ok ? checked.params : {}) : {};
      const m = em.getRepository(MachineEntity).create({
        systemId,
        hostname,
        description: p.get('description') ?? '',
        domainId: refs.domainId,
        zoneId: refs.zoneId,
        poolId: refs.poolId,
        architecture: architecture ?? '',
        minHweKernel: p.get('min_hwe_kernel') ?? '',
        status: deployed ? NodeStatus.DEPLOYED : NodeStatus.NEW,
        ownerId: deployed && user ? user.id : null,
        bmcId,
        instancePowerParameters: nodeScoped,
        enlisting: !user,
        powerState: 'unknown',
      });
      const saved = await em.getRepository(MachineEntity).save(m);
      if (macs.length) {
        await this.repo.saveInterfaces(
          em,
          macs.map((mac, i) => ({ machineId: saved.id, name: `eth${i}`, macAddress: mac, isBoot: i === 0 })),
        );
      }
      await this.events.append(
        {
          machineId: saved.id,
          systemId,
          hostname: hostname!,
          type: deployed ? 'Deployed' : 'Created',
          level: 'INFO',
          description: `${deployed ? 'Adopted as already deployed' : 'Machine created'} by ${user?.username ?? 'enlistment'}${
            type ? ` with power type '${type}'` : ' without a power type'
          }`,
          username: user?.username ?? '',
        },
        em,
      );
    });
    if (commission) await this.startCommissioning(systemId, user);
    return (await this.repo.findBySystemId(systemId))!;
  }

  /** Starts commissioning a machine just created or enlisted; a refusal becomes an event, not an error. */
  private async startCommissioning(systemId: string, user: AuthUser | null, onlyFrom?: number[]): Promise<void> {
    const rec = await this.repo.findBySystemId(systemId);
    if (!rec || (onlyFrom && !onlyFrom.includes(rec.row.status))) return;
    try {
      await this.lifecycle.apply(systemId, { type: 'commission' }, user);
    } catch (e) {
      // The machine exists; say why it did not start commissioning instead of failing the request.
      await this.events.append({
        machineId: rec.row.id,
        systemId,
        hostname: rec.row.hostname,
        type: 'Not commissioned',
        level: 'WARNING',
        description: `Commissioning did not start: ${(e as Error).message}`,
        username: user?.username ?? '',
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
  private async findEnlistmentMatch(
    macs: string[],
    type: string,
    params: Record<string, string>,
  ): Promise<{ systemId: string; by: string } | null> {
    const statuses = [NodeStatus.NEW, NodeStatus.COMMISSIONING];
    if (macs.length) {
      const rows: { system_id: string; mac_address: string }[] = await this.ds.query(
        `SELECT m.system_id, i.mac_address FROM machines m JOIN interfaces i ON i.machine_id = m.id
          WHERE i.mac_address = ANY($1) AND m.status = ANY($2)`,
        [macs, statuses],
      );
      const ids = new Set(rows.map((r) => r.system_id));
      if (ids.size === 1) return { systemId: rows[0].system_id, by: `MAC ${rows[0].mac_address}` };
      if (ids.size > 1) return null;
    }
    const address = (params.power_address ?? '').trim();
    if (!type || !address) return null;
    const rows: { system_id: string; node: Record<string, string> }[] = await this.ds.query(
      `SELECT m.system_id, m.instance_power_parameters AS node FROM machines m JOIN bmcs b ON b.id = m.bmc_id
        WHERE b.power_type = $1 AND lower(b.power_address) = lower($2) AND m.status = ANY($3)`,
      [type, address, statuses],
    );
    const nodeScoped = this.nodeScopedParams(type, params);
    const fits = rows.filter((r) => Object.entries(nodeScoped).every(([k, v]) => (r.node?.[k] ?? '') === v));
    return fits.length === 1 ? { systemId: fits[0].system_id, by: `BMC ${type} ${address}` } : null;
  }

  /** Adds an enlisting machine's MACs, architecture and BMC report to the machine it matched. */
  private async enlistInto(
    match: { systemId: string; by: string },
    report: { macs: string[]; architecture: string | null; type: string; params: Record<string, string> },
  ): Promise<void> {
    await this.ds.transaction(async (em) => {
      const m = await this.repo.lockBySystemId(em, match.systemId);
      if (!m || !([NodeStatus.NEW, NodeStatus.COMMISSIONING] as number[]).includes(m.status)) {
        throw new ConflictError(`Machine ${match.systemId} changed state while enlisting; enlist again.`);
      }
      const owners: { mac_address: string; machine_id: number; hostname: string }[] = report.macs.length
        ? await em.query(
            `SELECT i.mac_address, i.machine_id, m.hostname FROM interfaces i JOIN machines m ON m.id = i.machine_id
              WHERE i.mac_address = ANY($1)`,
            [report.macs],
          )
        : [];
      const foreign = owners.filter((o) => o.machine_id !== m.id);
      if (foreign.length) {
        throw new BadRequestError({ mac_addresses: foreign.map((o) => `MAC address ${o.mac_address} already in use on ${o.hostname}.`) });
      }
      const existing = await em.getRepository(InterfaceEntity).findBy({ machineId: m.id });
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
        const current = m.bmcId ? await em.getRepository(BmcEntity).findOneBy({ id: m.bmcId }) : null;
        if (!current || current.powerType === report.type) {
          // An anonymous report only fills in what the machine's BMC record lacks: it never moves
          // the BMC to another address nor replaces (or blanks) credentials an operator stored.
          const stored: Record<string, string> = { ...(current ? this.openParams(current.powerParameters) : {}), ...m.instancePowerParameters };
          const merged = { ...stored };
          const kept: string[] = [];
          for (const [k, v] of Object.entries(report.params)) {
            if ((stored[k] ?? '') === '') merged[k] = v;
            else if (stored[k] !== v) kept.push(k);
          }
          if (kept.length) notes.push(`kept the stored ${kept.sort().join(', ')}`);
          const previous = m.bmcId;
          m.bmcId = null;
          await em.getRepository(MachineEntity).save(m);
          m.bmcId = await this.saveBmc(em, report.type, merged, previous);
          m.instancePowerParameters = this.nodeScopedParams(report.type, merged);
          notes.push(`BMC credentials from the machine (${report.type} ${merged.power_address ?? ''})`);
        } else {
          notes.push(`kept power type '${current.powerType}' (the machine reported '${report.type}')`);
        }
      }
      await em.getRepository(MachineEntity).save(m);
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          type: 'Enlisted',
          level: 'INFO',
          description: `Enlisting machine matched by ${match.by}: ${notes.join('; ')}`,
          username: '',
        },
        em,
      );
    });
  }

  async update(systemId: string, p: RequestParams, user: AuthUser): Promise<MachineRecord> {
    const errors: Record<string, string[]> = {};
    const refs = await this.resolveRefs(p, errors, true);
    await this.ds.transaction(async (em) => {
      const m = await this.repo.lockBySystemId(em, systemId);
      if (!m) throw new NotFoundError('No Machine matches the given query.');
      if (m.locked) throw new ForbiddenError(`Machine ${m.hostname} is locked.`);
      const hostname = p.get('hostname')?.split('.')[0];
      if (hostname !== undefined) {
        if (!isValidHostname(hostname)) errors.hostname = [`Invalid hostname: '${hostname}'.`];
        else if (await this.repo.hostnameTaken(hostname, m.id)) errors.hostname = [`Node with hostname "${hostname}" already exists`];
        else m.hostname = hostname;
      }
      if (p.has('description')) m.description = p.get('description') ?? '';
      if (p.has('architecture')) {
        const a = architectureFrom(p);
        if (a) m.architecture = a;
      }
      if (p.has('min_hwe_kernel')) m.minHweKernel = p.get('min_hwe_kernel') ?? '';
      for (const [field, key] of [
        ['cpu_count', 'cpuCount'],
        ['cpu_speed', 'cpuSpeed'],
      ] as const) {
        const v = p.get(field);
        if (v === undefined) continue;
        if (!/^\d+$/.test(v)) errors[field] = ['Enter a whole number.'];
        else if (field === 'cpu_count' && Number(v) > MAX_CPU_COUNT) errors[field] = [`Ensure this value is less than or equal to ${MAX_CPU_COUNT}.`];
        else m[key] = Number(v);
      }
      const mem = p.get('memory');
      if (mem !== undefined) {
        const mib = parseSize(mem, 'M');
        if (mib === null) errors.memory = ['Enter a size such as 4096, 4G or 4096M.'];
        else if (Math.round(mib / (1024 * 1024)) > MAX_INT4) errors.memory = [`Ensure this value is at most ${MAX_INT4} MiB.`];
        else m.memory = Math.round(mib / (1024 * 1024));
      }
      const swap = p.get('swap_size');
      if (swap !== undefined) {
        const bytes = swap === '' ? null : parseSize(swap, '');
        if (swap !== '' && bytes === null) errors.swap_size = ['Enter a size in bytes, optionally with K, M, G or T.'];
        else if (bytes !== null && bytes > Number.MAX_SAFE_INTEGER) {
          errors.swap_size = [`Ensure this value is at most ${Number.MAX_SAFE_INTEGER} bytes.`];
        } else m.swapSize = bytes === null ? null : String(bytes);
      }
      if (p.has('disable_ipv4') && boolParam(p, 'disable_ipv4', false)) {
        errors.disable_ipv4 = ['Kiln (like MAAS 2.0) cannot disable IPv4.'];
      }
      if (refs.domainId !== undefined && p.has('domain')) m.domainId = refs.domainId;
      if (p.has('zone')) m.zoneId = refs.zoneId;
      if (p.has('pool')) m.poolId = refs.poolId;
      const newParams = powerParamsFrom(p);
      if (p.has('power_type') || newParams) {
        const current = m.bmcId ? await em.getRepository(BmcEntity).findOneBy({ id: m.bmcId }) : null;
        const type = p.get('power_type') ?? current?.powerType ?? '';
        const merged = {
          ...(current && current.powerType === type ? this.openParams(current.powerParameters) : {}),
          ...(current && current.powerType === type ? m.instancePowerParameters : {}),
          ...(newParams ?? {}),
        };
        const checked = validatePowerParameters(type, merged, boolParam(p, 'power_parameters_skip_check', false));
        if (!checked.ok) Object.assign(errors, checked.errors);
        else if (!type) {
          m.bmcId = null;
          m.instancePowerParameters = {};
        } else {
          const previous = m.bmcId;
          m.bmcId = null;
          await em.getRepository(MachineEntity).save(m);
          m.bmcId = await this.saveBmc(em, type, checked.params, previous);
          m.instancePowerParameters = this.nodeScopedParams(type, checked.params);
        }
      }
      if (Object.keys(errors).length) throw new BadRequestError(errors);
      await em.getRepository(MachineEntity).save(m);
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          type: 'Updated',
          level: 'DEBUG',
          description: `Changed by ${user.username}: ${p.names().filter((n) => n !== 'op').join(', ')}`,
          username: user.username,
        },
        em,
      );
    });
    return (await this.repo.findBySystemId(systemId))!;
  }

  async delete(systemId: string, user: AuthUser, force: boolean): Promise<void> {
    const rec = await this.get(systemId, user);
    if (rec.row.locked) throw new ForbiddenError(`Machine ${rec.row.hostname} is locked.`);
    const inFlight = [NodeStatus.DEPLOYING, NodeStatus.COMMISSIONING, NodeStatus.TESTING, NodeStatus.DISK_ERASING];
    if (!force && rec.row.owner_id !== null && rec.row.status === NodeStatus.DEPLOYED) {
      throw new ConflictError(`Cannot delete machine ${rec.row.hostname}: it is deployed. Release it first, or pass force=true.`);
    }
    if (!force && (inFlight as number[]).includes(rec.row.status)) {
      throw new ConflictError(
        `Cannot delete machine ${rec.row.hostname} while it is ${rec.row.status === NodeStatus.DEPLOYING ? 'deploying' : 'busy'}; abort it first, or pass force=true.`,
      );
    }
    await this.events.append({
      machineId: rec.row.id,
      systemId,
      hostname: rec.row.hostname,
      type: 'Deleted',
      level: 'WARNING',
      description: `Machine deleted by ${user.username}`,
      username: user.username,
    });
    await this.repo.delete(rec.row.id);
  }

  // ---- lifecycle operations ----------------------------------------------------------------

  async act(
    systemId: string,
    event: LifecycleEvent,
    user: AuthUser,
    mutate?: (m: MachineEntity, em: EntityManager) => Promise<void> | void,
  ): Promise<MachineRecord> {
    await this.get(systemId, user);
    await this.lifecycle.apply(systemId, event, user, mutate);
    return (await this.repo.findBySystemId(systemId))!;
  }

  async deploy(systemId: string, p: RequestParams, user: AuthUser): Promise<MachineRecord> {
    requireParams(p);
    const series = (p.get('distro_series') ?? 'jammy').trim();
    const parsed = parseSeries(series);
    if (!parsed) throw new BadRequestError({ distro_series: [`'${series}' is not a valid distro_series.`] });
    const userData = p.get('user_data');
    return this.act(systemId, { type: 'deploy' }, user, (m) => {
      m.osystem = parsed.osystem;
      m.distroSeries = parsed.series;
      m.hweKernel = p.get('hwe_kernel') ?? m.hweKernel ?? null;
      if (p.has('agent_name')) m.agentName = p.get('agent_name') ?? '';
      m.ephemeralDeploy = boolParam(p, 'ephemeral_deploy', false);
      if (userData) m.userData = decodeMaybeBase64(userData);
    });
  }

  async allocate(p: RequestParams, user: AuthUser): Promise<{ rec: MachineRecord; storage: Record<string, number[]> | null }> {
    requireParams(p);
    const where = buildWhere(p, ALLOCATE_CONSTRAINTS, ALLOCATE_OPTIONS);
    where.add('m.status = ?', NodeStatus.READY);
    where.add('m.owner_id IS NULL');
    where.add('NOT m.locked');
    const storage = p.get('storage') ? parseStorageConstraint(p.get('storage')!) : null;
    const dryRun = boolParam(p, 'dry_run', false);
    // Concurrent allocations can deadlock in Postgres (rows locked in different orders by the
    // lifecycle's writes): the loser's transaction is simply run again.
    const result = await retryOnConflict(() => this.ds.transaction(async (em) => {
      // Cheapest first (MAAS: cpu_count + memory/1024). SKIP LOCKED: concurrent allocations
      // never wait on each other and never get the same machine.
      const order = '(m.cpu_count + m.memory / 1024.0), m.id';
      const limit = storage ? 200 : 1;
      let candidates = await this.repo.list(where, { limit, forUpdate: dryRun ? undefined : 'skip-locked', orderBy: order }, em);
      if (!candidates.length && !dryRun) {
        // Every match may be locked for a moment by an unrelated write (an event, a power state):
        // wait for those rows, and let Postgres re-check them against the constraints once free.
        candidates = await this.repo.list(where, { limit, forUpdate: 'wait', orderBy: order }, em);
      }
      for (const c of candidates) {
        const mapping = storage ? matchStorage(storage, c.blockDevices) : null;
        if (storage && !mapping) continue;
        if (dryRun) return { systemId: c.row.system_id, storage: mapping, jobs: [] };
        const m = (await em.getRepository(MachineEntity).findOneBy({ id: c.row.id }))!;
        const t = await this.lifecycle.transition(em, m, { type: 'allocate' }, user, (mm) => {
          if (p.has('agent_name')) mm.agentName = p.get('agent_name') ?? '';
        });
        return { systemId: c.row.system_id, storage: mapping, jobs: t.jobs };
      }
      return null;
    }));
    if (!result) {
      const sid = p.get('system_id');
      if (sid && p.names().filter((n) => !ALLOCATE_OPTIONS.has(n)).length === 1) {
        throw new ConflictError(`No machine with system ID ${sid} available.`);
      }
      const given = p.names().filter((n) => !ALLOCATE_OPTIONS.has(n));
      if (!given.length) throw new ConflictError('No machine available.');
      const text = given.map((n) => `${n}=${p.getAll(n).join(',')}`).join(', ');
      throw new ConflictError(`No available machine matches constraints: [${text}]`);
    }
    await this.lifecycle.enqueue(result.jobs);
    return { rec: (await this.repo.findBySystemId(result.systemId))!, storage: result.storage };
  }

  async releaseMany(p: RequestParams, user: AuthUser): Promise<string[]> {
    const ids = p.getAll('machines');
    const unknown: string[] = [];
    const recs: MachineRecord[] = [];
    for (const id of ids) {
      const r = await this.repo.findBySystemId(id);
      if (!r) unknown.push(id);
      else recs.push(r);
    }
    if (unknown.length) throw new BadRequestError(`Unknown machine(s): ${unknown.join(', ')}.`);
    const forbidden = recs.filter((r) => !user.isAdmin && r.row.owner_id !== user.id && r.row.owner_id !== null);
    if (forbidden.length) {
      throw new ForbiddenError(`You don't have the required permission to release the following machine(s): ${forbidden.map((r) => r.row.system_id).join(', ')}.`);
    }
    const releasable = new Set<number>([
      NodeStatus.ALLOCATED,
      NodeStatus.RESERVED,
      NodeStatus.BROKEN,
      NodeStatus.DEPLOYING,
      NodeStatus.DEPLOYED,
      NodeStatus.FAILED_DEPLOYMENT,
      NodeStatus.FAILED_DISK_ERASING,
      NodeStatus.FAILED_RELEASING,
      NodeStatus.READY,
      NodeStatus.RELEASING,
    ]);
    const bad = recs.filter((r) => !releasable.has(r.row.status));
    if (bad.length) {
      throw new ConflictError(
        `Machine(s) cannot be released in their current state: ${bad
          .map((r) => `${r.row.system_id} ('${statusName(r.row.status as NodeStatus)}')`)
          .join(', ')}.`,
      );
    }
    const released: string[] = [];
    for (const r of recs) {
      if (r.row.status === NodeStatus.READY) continue;
      await this.lifecycle.apply(r.row.system_id, { type: 'release' }, user);
      released.push(r.row.system_id);
    }
    return released;
  }

  /** Asks the BMC now, through a rack; records and returns what it says. */
  async queryPowerState(systemId: string, user: AuthUser): Promise<string> {
    const rec = await this.get(systemId, user);
    const target = await this.power.target(systemId);
    if (!target || target.power_type === 'manual' || target.power_type === '') return 'unknown';
    try {
      const r = await this.power.run(target, { kind: 'query' }, 55_000);
      await this.repo.setPowerState(rec.row.id, r.state, null);
      return r.state;
    } catch (e) {
      const f = e as PowerFailure;
      await this.repo.setPowerState(rec.row.id, 'error', f.message);
      await this.events.append({
        machineId: rec.row.id,
        systemId,
        hostname: rec.row.hostname,
        type: 'Power query failed',
        level: 'WARNING',
        description: `BMC query failed (${f.code}): ${f.message}`,
        action: 'query_power_state',
        username: user.username,
      });
      if (f.code === 'TIMEOUT' || f.code === 'BMC_TIMEOUT') throw new HttpError(504, `Timed out querying the BMC of ${rec.row.hostname}: ${f.message}`);
      throw new ServiceUnavailableError(`Unable to query the power state of ${rec.row.hostname} (${f.code}): ${f.message}`);
    }
  }

  /** NEW machines start commissioning; Ready or Commissioning ones are fine as they are. */
  async accept(systemIds: string[], user: AuthUser): Promise<MachineRecord[]> {
    const out: MachineRecord[] = [];
    const recs: MachineRecord[] = [];
    for (const id of systemIds) {
      const rec = await this.repo.findBySystemId(id);
      if (!rec) throw new BadRequestError(`Unknown machine(s): ${id}.`);
      recs.push(rec);
    }
    for (const rec of recs) {
      const t = await this.lifecycle.apply(rec.row.system_id, { type: 'accept' }, user);
      if (t.decision) out.push((await this.repo.findBySystemId(rec.row.system_id))!);
    }
    return out;
  }

  async setZone(zone: string | undefined, systemIds: string[], user: AuthUser): Promise<void> {
    if (!zone) throw new BadRequestError({ zone: ['This field is required.'] });
    const [z] = await this.ds.query('SELECT id FROM zones WHERE name = $1', [zone]);
    if (!z) throw new BadRequestError({ zone: [`Select a valid choice. ${zone} is not one of the available choices.`] });
    const rows: { system_id: string; locked: boolean }[] = await this.ds.query(
      'SELECT system_id, locked FROM machines WHERE system_id = ANY($1)',
      [systemIds],
    );
    const unknown = systemIds.filter((id) => !rows.some((r) => r.system_id === id));
    if (unknown.length) throw new BadRequestError(`Unknown machine(s): ${unknown.join(', ')}.`);
    const locked = rows.filter((r) => r.locked).map((r) => r.system_id);
    if (locked.length) throw new ForbiddenError(`Locked machine(s): ${locked.join(', ')}.`);
    await this.ds.query('UPDATE machines SET zone_id = $1 WHERE system_id = ANY($2)', [z.id, systemIds]);
    for (const id of systemIds) {
      const rec = await this.repo.findBySystemId(id);
      await this.events.append({
        machineId: rec!.row.id,
        systemId: id,
        hostname: rec!.row.hostname,
        type: 'Zone changed',
        level: 'DEBUG',
        description: `Moved to zone ${zone} by ${user.username}`,
        username: user.username,
      });
    }
  }

  async setOwnerData(systemId: string, p: RequestParams, user: AuthUser): Promise<MachineRecord> {
    await this.ds.transaction(async (em) => {
      const m = await this.repo.lockBySystemId(em, systemId);
      if (!m) throw new NotFoundError('No Machine matches the given query.');
      if (m.ownerId === null) throw new ConflictError("Cannot set workload annotation: it hasn't been acquired.");
      if (m.ownerId !== user.id && !user.isAdmin) throw new ForbiddenError('Only the owner may annotate this machine.');
      if (m.locked) throw new ForbiddenError(`Machine ${m.hostname} is locked.`);
      const data = { ...m.ownerData };
      for (const k of p.names()) {
        if (k === 'op') continue;
        const v = p.get(k) ?? '';
        if (v === '') delete data[k];
        else data[k] = v;
      }
      m.ownerData = data;
      await em.getRepository(MachineEntity).save(m);
    });
    return (await this.repo.findBySystemId(systemId))!;
  }

  // ---- power parameters --------------------------------------------------------------------

  async powerParameters(systemIds: string[] | null): Promise<Record<string, Record<string, string>>> {
    const rows: { system_id: string; power_type: string | null; power_parameters: Record<string, string> | null; instance: Record<string, string> }[] =
      await this.ds.query(
        `SELECT m.system_id, b.power_type, b.power_parameters, m.instance_power_parameters AS instance
           FROM machines m LEFT JOIN bmcs b ON b.id = m.bmc_id
          ${systemIds ? 'WHERE m.system_id = ANY($1)' : ''} ORDER BY m.id`,
        systemIds ? [systemIds] : [],
      );
    const out: Record<string, Record<string, string>> = {};
    for (const r of rows) out[r.system_id] = { ...this.openParams(r.power_parameters ?? {}), ...(r.instance ?? {}) };
    return out;
  }

  private openParams(params: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) out[k] = typeof v === 'string' ? this.secrets.open(v) : String(v);
    return out;
  }

  private nodeScopedParams(type: string, params: Record<string, string>): Record<string, string> {
    const def = powerType(type);
    const out: Record<string, string> = {};
    for (const f of def?.fields ?? []) if (f.scope === 'node' && params[f.name] !== undefined) out[f.name] = params[f.name];
    return out;
  }

  /**
   * BMC-scoped parameters live on a BMC row, shared by every machine whose BMC has the same
   * power type and the same BMC-scoped parameters (a chassis with several nodes differs only in
   * node-scoped ones, such as node_id). Different credentials for the same address make a
   * different BMC record, as in MAAS. Secrets are sealed before they reach the database.
   */
  private async saveBmc(em: EntityManager, type: string, params: Record<string, string>, previousId: number | null): Promise<number> {
    const def = powerType(type);
    const plain: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (def?.fields.find((f) => f.name === k)?.scope === 'node') continue;
      plain[k] = v;
    }
    const address = params.power_address ?? '';
    const repo = em.getRepository(BmcEntity);
    const candidates = await repo.findBy({ powerType: type, powerAddress: address });
    const same = candidates.find((b) => {
      const open = this.openParams(b.powerParameters);
      const keys = new Set([...Object.keys(open), ...Object.keys(plain)]);
      return [...keys].every((k) => (open[k] ?? '') === (plain[k] ?? ''));
    });
    let id: number;
    if (same) id = same.id;
    else {
      const sealed: Record<string, string> = {};
      for (const [k, v] of Object.entries(plain)) sealed[k] = isSecretField(type, k) && v ? this.secrets.seal(v) : v;
      id = (await repo.save(repo.create({ powerType: type, powerAddress: address, powerParameters: sealed }))).id;
    }
    if (previousId && previousId !== id) {
      // The machine moved to another BMC record: forget the old one if nothing else uses it.
      await em.query('DELETE FROM bmcs b WHERE b.id = $1 AND NOT EXISTS (SELECT 1 FROM machines m WHERE m.bmc_id = b.id AND m.id IS NOT NULL)', [
        previousId,
      ]);
    }
    return id;
  }

  private async resolveRefs(p: RequestParams, errors: Record<string, string[]>, partial = false) {
    const one = async (table: string, name: string | undefined, field: string, dflt: string) => {
      const wanted = name || (partial ? undefined : dflt);
      if (wanted === undefined) return undefined;
      const rows = await this.ds.query(`SELECT id FROM ${table} WHERE name = $1`, [wanted]);
      if (!rows.length) {
        errors[field] = [`Select a valid choice. ${wanted} is not one of the available choices.`];
        return undefined;
      }
      return rows[0].id as number;
    };
    const [defaultDomain] = await this.ds.query('SELECT name FROM domains WHERE is_default ORDER BY id LIMIT 1');
    return {
      domainId: (await one('domains', p.get('domain'), 'domain', defaultDomain?.name ?? 'maas'))!,
      zoneId: (await one('zones', p.get('zone'), 'zone', 'default'))!,
      poolId: (await one('resource_pools', p.get('pool'), 'pool', 'default')) ?? null,
    };
  }

  async interfaceCount(em: EntityManager, machineId: number): Promise<number> {
    return em.getRepository(InterfaceEntity).countBy({ machineId });
  }
}

/** More cores than any machine has: the machine JSON lists every core (numanode_set). */
const MAX_CPU_COUNT = 65536;

/** The largest value of a Postgres integer column (machine memory is MiB in one). */
const MAX_INT4 = 2147483647;

/** '4096', '4G', '512M', '1.5T' -> bytes. `unit` is the unit of a bare number ('' = bytes). */
export function parseSize(value: string, unit: '' | 'M'): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(value.trim());
  if (!m) return null;
  const mult: Record<string, number> = { '': unit === 'M' ? 1024 ** 2 : 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2].toUpperCase()]);
}

const SERIES_BY_VERSION: Record<string, string> = {
  '18.04': 'bionic',
  '20.04': 'focal',
  '22.04': 'jammy',
  '24.04': 'noble',
};

export function parseSeries(value: string): { osystem: string; series: string } | null {
  const [os, rest] = value.includes('/') ? value.split('/', 2) : ['ubuntu', value];
  if (!/^[a-z0-9-]+$/.test(os) || !rest || !/^[a-z0-9.-]+$/.test(rest)) return null;
  return { osystem: os, series: SERIES_BY_VERSION[rest] ?? rest };
}

/** MAAS decodes base64 user_data when it is valid base64, else keeps the bytes as sent. */
function decodeMaybeBase64(v: string): Buffer {
  const compact = v.replace(/\s+/g, '');
  if (compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return Buffer.from(compact, 'base64');
  return Buffer.from(v, 'utf8');
}

const COMMA = Buffer.from(',');

function joinChunks(parts: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i) out.push(COMMA);
    out.push(p);
  });
  return out;
}
