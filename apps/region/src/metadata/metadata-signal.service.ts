import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { MachineEntity } from '@kiln/db';
import { type LifecycleEvent, NodeStatus, statusName } from '@kiln/lifecycle';
import {
  classifyUploadedFile,
  codeToName,
  nextScriptStatus,
  parseResultYaml,
  SCRIPT_STATUS_CODES,
  SCRIPT_STATUS_NAMES,
  SIGNAL_STATUSES,
  type ScriptResultYaml,
  type ScriptStatus,
  type SignalStatus,
} from '@kiln/scripts';
import { conflict, invalid, notFound } from '../common/domain.error';
import { CommissioningInventoryService, POST_PROCESSED_SCRIPTS } from '../commissioning/commissioning-inventory.service';
import { MachineEvents } from '../events/event-types.catalogue';
import { EventsRepository } from '../events/events.repository';
import { BmcService } from '../machines/bmc.service';
import { EffectJob, MachineLifecycleService } from '../machines/machine-lifecycle.service';
import { MachinesRepository } from '../machines/machines.repository';
import { validatePowerParameters } from '../power/power-types.catalogue';
import { ScriptRunsRepository } from '../scripts/script-runs.repository';
import { ScriptRunsService } from '../scripts/script-runs.service';
import type { NodeCaller } from './node-caller';

/** A file part of a signal. */
export interface SignalFile {
  name: string;
  data: Buffer;
}

/** `op=signal` as sent (reference maas-api.md §4.8). */
export interface SignalInput {
  status?: string;
  error?: string;
  scriptResultId?: string;
  name?: string;
  exitStatus?: string;
  runtime?: string;
  scriptVersionId?: string;
  powerType?: string;
  powerParameters?: string;
  files: SignalFile[];
}

/** How much of a failed release script's output its machine's error description carries. */
const RELEASE_OUTPUT_TAIL = 400;

/** The most one uploaded output file may hold. */
export const RESULT_FILE_LIMIT = 8 * 1024 * 1024;

/** Scripts whose output describes the hardware: the inventory is taken from their stdout. */
/** Scripts whose output the region reads into the machine's inventory (the inventory service's own list). */
export const INVENTORY_SCRIPTS: ReadonlySet<string> = new Set(POST_PROCESSED_SCRIPTS);

/** Statuses whose signals are accepted and ignored (a runner still talking after the fact). */
const IGNORED: readonly number[] = [NodeStatus.BROKEN, NodeStatus.FAILED_COMMISSIONING, NodeStatus.FAILED_DEPLOYMENT, NodeStatus.READY, NodeStatus.FAILED_TESTING];
/** Statuses in which a runner reports (everything else is refused). */
const SIGNALLING: readonly number[] = [
  NodeStatus.NEW,
  NodeStatus.COMMISSIONING,
  NodeStatus.TESTING,
  NodeStatus.DEPLOYING,
  NodeStatus.DEPLOYED,
  NodeStatus.DISK_ERASING,
  NodeStatus.RELEASING,
  NodeStatus.ENTERING_RESCUE_MODE,
  NodeStatus.RESCUE_MODE,
];

interface ParsedSignal {
  status: SignalStatus;
  exitStatus?: number;
  runtime?: number;
  resultId?: number;
  versionId?: number;
  outputs: Partial<Record<'combined' | 'stdout' | 'stderr' | 'result', Buffer>>;
  resultYaml: ScriptResultYaml | null;
  /** Why the result YAML sent could not be read (the result is stored and fails). */
  resultYamlError?: string;
  power: { type: string; params: Record<string, string> } | null;
}

/**
 * The runner's signals (reference §4.8): results stored with their files, heartbeats that push
 * the deadline back, BMC credentials, and the status a run's end moves the machine to. One
 * transaction per signal: bad input changes nothing.
 */
@Injectable()
export class MetadataSignalService {
  constructor(
    private readonly machines: MachinesRepository,
    private readonly lifecycle: MachineLifecycleService,
    private readonly runs: ScriptRunsRepository,
    private readonly bmcs: BmcService,
    private readonly inventory: CommissioningInventoryService,
    private readonly events: EventsRepository,
    private readonly scriptRuns: ScriptRunsService,
  ) {}

  async signal(node: NodeCaller, input: SignalInput): Promise<void> {
    const parsed = parse(input);
    const jobs = await this.runs.transaction(async (em) => {
      const m = await this.machines.lockBySystemId(em, node.systemId);
      if (!m || m.id !== node.machineId) throw notFound('No Machine matches the given query.');
      if (IGNORED.includes(m.status)) return [];
      if (!SIGNALLING.includes(m.status)) throw conflict(`Machine status isn't valid (status is ${statusName(m.status as NodeStatus)})`);
      return this.apply(em, m, input, parsed);
    });
    await this.lifecycle.enqueue(jobs);
  }

  private async apply(em: EntityManager, m: MachineEntity, input: SignalInput, s: ParsedSignal): Promise<EffectJob[]> {
    const sets = [m.currentCommissioningScriptSetId, m.currentTestingScriptSetId, ...this.releaseSet(m)].filter((x): x is number => x !== null);
    await this.runs.pingSets(em, sets);
    if (m.status === NodeStatus.NEW) {
      // MAAS ignores everything but COMMISSIONING here.
      if (s.status === 'COMMISSIONING') await this.commissionFromNew(em, m);
      return [];
    }

    if (input.scriptResultId !== undefined || input.name !== undefined || Object.keys(s.outputs).length) {
      await this.storeResult(em, m, sets, input, s);
    }
    if (s.power) await this.storeBmc(em, m, s.power);

    const failed = await this.failedScripts(em, m);
    const event = this.transitionFor(m, s.status, failed, input.error);
    if (!event && s.status === 'OK' && m.status === NodeStatus.DISK_ERASING) {
      // Reference: OK while erasing is an event; Ready follows from cloud-init's final event.
      await this.events.append(
        { machineId: m.id, systemId: m.systemId, hostname: m.hostname, ...MachineEvents.DISK_ERASING, description: 'Disks erased' },
        em,
      );
    }
    if (s.status === 'WORKING' || s.status === 'TESTING' || s.status === 'TIMEDOUT' || event) this.lifecycle.extendDeadline(m);
    if (event) {
      const t = await this.lifecycle.transition(em, m, event, null);
      if (t.decision) return t.jobs;
    }
    await this.machines.save(em, m);
    return [];
  }

  /**
   * A New machine asking to be commissioned (MAAS's _process_new): it gets a run of the built-in
   * commissioning scripts unless it has one pending or running, keeps the token it asked with,
   * and is Commissioning with a deadline. Nothing is powered: the machine is already up.
   */
  private async commissionFromNew(em: EntityManager, m: MachineEntity): Promise<void> {
    const fresh = !(await this.scriptRuns.isLive(em, m.currentCommissioningScriptSetId));
    if (fresh) await this.scriptRuns.startCommissioning(em, m, {}, { enlisting: true, keepToken: true });
    m.previousStatus = m.status;
    m.status = NodeStatus.COMMISSIONING;
    this.lifecycle.extendDeadline(m);
    await this.machines.save(em, m);
    await this.events.append(
      {
        machineId: m.id,
        systemId: m.systemId,
        hostname: m.hostname,
        ...MachineEvents.COMMISSIONING,
        description: `The machine asked to be commissioned${fresh ? ': a run of the built-in commissioning scripts started' : ' (its pending run goes on)'}`,
      },
      em,
    );
  }

  private async failedScripts(em: EntityManager, m: MachineEntity): Promise<string[]> {
    if (m.status === NodeStatus.COMMISSIONING) return this.runs.failedResults(em, m.currentCommissioningScriptSetId);
    if (m.status === NodeStatus.TESTING) return this.runs.failedResults(em, m.currentTestingScriptSetId);
    if (m.status === NodeStatus.DISK_ERASING || m.status === NodeStatus.RELEASING) {
      // The reason names the script and ends with its output, so the operator sees why.
      const rows = await this.runs.failedResultTails(em, m.currentReleaseScriptSetId, RELEASE_OUTPUT_TAIL);
      return rows.map((r) => (r.tail.trim() ? `${r.script_name} (${r.tail.trim().split('\n').slice(-5).join(' | ')})` : r.script_name));
    }
    return [];
  }

  /** The release run is the machine's only while it is being released. */
  private releaseSet(m: MachineEntity): (number | null)[] {
    return m.status === NodeStatus.DISK_ERASING || m.status === NodeStatus.RELEASING ? [m.currentReleaseScriptSetId] : [];
  }

  /** The lifecycle signal a run's end (or a phase change) means in the machine's status, if any. */
  private transitionFor(m: MachineEntity, status: SignalStatus, failed: string[], error: string | undefined): LifecycleEvent | null {
    const why = (what: string) => {
      const names = failed.length ? `${what} failed: ${failed.join(', ')}` : '';
      return [error, names].filter(Boolean).join('; ') || undefined;
    };
    switch (m.status) {
      case NodeStatus.COMMISSIONING:
        if (status === 'OK' || status === 'TESTING') {
          if (failed.length) return { type: 'commissioningFailed', reason: why('commissioning scripts') };
          return { type: 'commissioningSucceeded', thenTesting: status === 'TESTING' };
        }
        if (status === 'FAILED') return { type: 'commissioningFailed', reason: why('commissioning scripts') };
        return null;
      case NodeStatus.TESTING:
        if (status === 'OK') return failed.length ? { type: 'testingFailed', reason: why('tests') } : { type: 'testingSucceeded' };
        if (status === 'FAILED') return { type: 'testingFailed', reason: why('tests') };
        return null;
      case NodeStatus.DEPLOYING:
        return status === 'FAILED' ? { type: 'deploymentFailed', reason: error } : null;
      case NodeStatus.RELEASING:
      case NodeStatus.DISK_ERASING:
        if (status === 'FAILED' || (status === 'OK' && failed.length)) return { type: 'releaseFailed', reason: why('release scripts') };
        return null;
      case NodeStatus.ENTERING_RESCUE_MODE:
        if (status === 'OK' || status === 'WORKING') return { type: 'rescueEntered' };
        return null;
      default:
        return null;
    }
  }

  private async storeResult(em: EntityManager, m: MachineEntity, sets: number[], input: SignalInput, s: ParsedSignal): Promise<void> {
    let row = s.resultId !== undefined ? await this.runs.lockResult(em, sets, s.resultId) : null;
    if (s.resultId !== undefined && !row) {
      throw notFound(`Script result ${s.resultId} is not part of a current run of machine ${m.systemId}.`);
    }
    const name = input.name ?? scriptNameOfFiles(input.files);
    if (!row && name) row = await this.runs.lockResultByName(em, sets, name);
    if (!row && name && m.enlisting && m.currentCommissioningScriptSetId !== null) {
      // An enlisting machine reports the scripts it ran before it existed by name.
      const script = await this.runs.scriptByName(em, name);
      const id = await this.runs.addResult(em, {
        scriptSetId: m.currentCommissioningScriptSetId,
        scriptId: script?.id ?? null,
        scriptVersionId: script?.currentVersionId ?? null,
        scriptName: name,
        status: SCRIPT_STATUS_CODES.running,
        parameters: {},
      });
      row = await this.runs.lockResult(em, sets, id);
    }
    if (!row) throw notFound(`Machine ${m.systemId} has no script result for ${name ? `script '${name}'` : 'this signal'} in its current runs.`);

    const current = codeToName(SCRIPT_STATUS_CODES, row.status) ?? 'pending';
    let next: ScriptStatus = nextScriptStatus({
      signal: s.status,
      current,
      resultYaml: s.resultYaml,
      ...(s.exitStatus !== undefined ? { exitStatus: s.exitStatus } : {}),
    });
    const finished = s.exitStatus !== undefined || s.status === 'TIMEDOUT';
    if (s.resultYamlError) {
      next = 'failed';
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          ...MachineEvents.SCRIPT_RESULT_FAILED,
          description: `${row.script_name}: ${s.resultYamlError}`,
        },
        em,
      );
    }
    const stdout = s.outputs.stdout;
    if (finished && stdout && INVENTORY_SCRIPTS.has(row.script_name) && next === 'passed') {
      try {
        await this.inventory.apply(em, m.id, row.script_name, stdout);
        // apply() writes the machine row itself; the locked entity this signal saves must carry that.
        await this.machines.refreshInventoryColumns(em, m);
      } catch (e) {
        next = 'failed';
        await this.events.append(
          {
            machineId: m.id,
            systemId: m.systemId,
            hostname: m.hostname,
            ...MachineEvents.SCRIPT_RESULT_FAILED,
            description: `${row.script_name}: its output could not be processed: ${(e as Error).message}`,
          },
          em,
        );
      }
    }
    await this.runs.updateResult(em, row.id, {
      status: SCRIPT_STATUS_CODES[next],
      ...(s.exitStatus !== undefined ? { exitStatus: s.exitStatus } : s.status === 'TIMEDOUT' ? { exitStatus: 124 } : {}),
      ...(s.runtime !== undefined ? { runtime: s.runtime } : {}),
      ...(s.versionId !== undefined ? { scriptVersionId: s.versionId } : {}),
      ...(s.outputs.combined ? { output: s.outputs.combined } : {}),
      ...(s.outputs.stdout ? { stdout: s.outputs.stdout } : {}),
      ...(s.outputs.stderr ? { stderr: s.outputs.stderr } : {}),
      ...(s.outputs.result ? { result: s.outputs.result } : {}),
      started: true,
      ended: finished,
    });
    if (s.resultYaml?.linkConnected !== undefined && row.interface_id !== null) {
      await this.runs.setLinkConnected(em, row.interface_id, s.resultYaml.linkConnected);
    }
    if (finished) {
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          ...MachineEvents.SCRIPT_RESULT,
          description: `${row.script_name}: ${SCRIPT_STATUS_NAMES[next]}${s.exitStatus !== undefined ? ` (exit status ${s.exitStatus})` : ''}`,
        },
        em,
      );
    }
  }

  private async storeBmc(em: EntityManager, m: MachineEntity, power: { type: string; params: Record<string, string> }): Promise<void> {
    // Only commissioning may change how Kiln reaches the machine's BMC.
    if (m.status !== NodeStatus.COMMISSIONING) return;
    if (power.type === 'webhook') {
      // As at anonymous enlistment: the rack would call these URLs on the machine's say-so. The
      // signal is still taken (a refusal would stop the machine's runner); the report is not.
      await this.events.append(
        {
          machineId: m.id,
          systemId: m.systemId,
          hostname: m.hostname,
          ...MachineEvents.BMC_REPORTED,
          level: 'WARNING',
          description: 'The machine reported webhook power URLs, which only an administrator sets: not taken',
        },
        em,
      );
      return;
    }
    const current = await this.bmcs.find(em, m.bmcId);
    let type = power.type;
    let params = power.params;
    if (current?.powerType === 'redfish' && type === 'ipmi') {
      // A Redfish BMC is not downgraded to IPMI: only the address and credentials are taken.
      type = 'redfish';
      const keep = ['power_address', 'power_user', 'power_pass', 'node_id'];
      params = { ...this.bmcs.open(current.powerParameters), ...Object.fromEntries(Object.entries(params).filter(([k]) => keep.includes(k))) };
    } else if (current?.powerType === type) {
      params = { ...this.bmcs.open(current.powerParameters), ...m.instancePowerParameters, ...params };
    }
    const checked = validatePowerParameters(type, params, true);
    if (!checked.ok) throw invalid('Bad power_type');
    const previous = m.bmcId;
    m.bmcId = await this.bmcs.save(em, type, checked.params, previous);
    m.instancePowerParameters = this.bmcs.nodeScoped(type, checked.params);
    await this.events.append(
      {
        machineId: m.id,
        systemId: m.systemId,
        hostname: m.hostname,
        ...MachineEvents.BMC_REPORTED,
        description: `Commissioning reported ${type} BMC credentials${checked.params.power_address ? ` for ${checked.params.power_address}` : ''}`,
      },
      em,
    );
  }
}

/** Checks everything the request says before anything is stored. */
function parse(input: SignalInput): ParsedSignal {
  const status = input.status;
  if (status === undefined || status === '') throw invalid({ status: ['This field is required.'] });
  if (!(SIGNAL_STATUSES as readonly string[]).includes(status)) throw invalid(`Unknown status: '${status}'`);
  const int = (field: string, v: string | undefined): number | undefined => {
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d+$/.test(v.trim())) throw invalid({ [field]: [`'${v}' is not an integer.`] });
    return Number(v);
  };
  const out: ParsedSignal = { status: status as SignalStatus, outputs: {}, resultYaml: null, power: null };
  const exit = int('exit_status', input.exitStatus);
  if (exit !== undefined) out.exitStatus = exit;
  const rid = int('script_result_id', input.scriptResultId);
  if (rid !== undefined) out.resultId = rid;
  const vid = int('script_version_id', input.scriptVersionId);
  if (vid !== undefined) out.versionId = vid;
  if (input.runtime !== undefined && input.runtime !== '') {
    const rt = Number(input.runtime);
    if (!Number.isFinite(rt) || rt < 0) throw invalid({ runtime: [`'${input.runtime}' is not a number of seconds.`] });
    out.runtime = rt;
  }
  for (const f of input.files) {
    if (f.data.length > RESULT_FILE_LIMIT) {
      throw invalid(`Result file '${f.name}' is ${f.data.length} bytes; the most one file may hold is ${RESULT_FILE_LIMIT} bytes.`);
    }
    const { kind } = classifyUploadedFile(f.name);
    out.outputs[kind] = f.data;
  }
  if (out.outputs.result) {
    const parsed = parseResultYaml(out.outputs.result);
    // MAAS stores such a result and only logs an event; Kiln stores it too (the runner goes on),
    // but fails it with the reason, since the script's own verdict cannot be read.
    if (!parsed.ok) out.resultYamlError = `result YAML '${input.files.find((f) => f.name.endsWith('.yaml'))?.name}' is not valid: ${parsed.errors.map((e) => e.message).join('; ')}`;
    else out.resultYaml = parsed.value;
  }
  if (input.powerType !== undefined && input.powerType !== '') {
    let params: unknown = {};
    if (input.powerParameters) {
      try {
        params = JSON.parse(input.powerParameters);
      } catch {
        throw invalid({ power_parameters: ['Power parameters must be a JSON object.'] });
      }
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) throw invalid({ power_parameters: ['Power parameters must be a JSON object.'] });
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) flat[k] = v === null || v === undefined ? '' : String(v);
    if (!validatePowerParameters(input.powerType, flat, true).ok) throw invalid('Bad power_type');
    out.power = { type: input.powerType, params: flat };
  }
  return out;
}

/** The script a signal's files belong to, when it names none. */
function scriptNameOfFiles(files: SignalFile[]): string | undefined {
  return files.length ? classifyUploadedFile(files[0].name).script : undefined;
}
