import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { MachineEntity } from '@kiln/db';
import { NodeStatus } from '@kiln/lifecycle';
import { SCRIPT_STATUS_CODES, SCRIPT_TYPE_CODES } from '@kiln/scripts';
import { invalid } from '../common/domain.error';
import { parseBool } from '../common/values';
import { log } from '../logging/logger';
import { NodeTokenRow, RunDisk, RunInterface, RunnableScript, ScriptRunsRepository } from './script-runs.repository';

/** What a commission or test request asked for (values as sent). */
export interface RunRequest {
  enableSsh?: string;
  skipBmcConfig?: string;
  skipNetworking?: string;
  skipStorage?: string;
  /** Comma-separated script names and tags. */
  commissioningScripts?: string;
  /** Comma-separated script names and tags; `none` runs no tests. */
  testingScripts?: string;
  /** Script parameters: `<param>=value` or `<script>_<param>=value` (e.g. `storage=sda`). */
  parameters?: [string, string][];
  /** Release with disk erasing: the wipe-disks options, already resolved against the settings. */
  erase?: EraseOptions;
  /** Release scripts (comma-separated names and tags) run before the machine is Ready again. */
  releaseScripts?: string;
}

/** How wipe-disks erases (MAAS: secure erase when the drive has it, else quick or full zeroing). */
export interface EraseOptions {
  secureErase: boolean;
  quickErase: boolean;
}

/** The built-in release script a release with disk erasing runs. */
export const WIPE_DISKS = 'wipe-disks';

/** result_type of script_sets. */
export const RESULT_TYPE = { commissioning: 0, installation: 1, testing: 2, release: 3, deployment: 4 } as const;

/** Purposes of node tokens that a commissioning or testing run hands out. */
const RUN_PURPOSES = ['commissioning', 'testing', 'enlisting'];
/** Statuses in which a machine runs the scripts of its runs and uses the run's token. */
const RUNNING_STATUSES: readonly number[] = [NodeStatus.COMMISSIONING, NodeStatus.TESTING];
/** Statuses of the ephemeral environment booted for a release or for rescue mode (token purposes in purposeOf). */
const EPHEMERAL_STATUSES: readonly number[] = [
  NodeStatus.RELEASING,
  NodeStatus.DISK_ERASING,
  NodeStatus.ENTERING_RESCUE_MODE,
  NodeStatus.RESCUE_MODE,
  NodeStatus.EXITING_RESCUE_MODE,
];

const BMC_CONFIG_TAG = 'bmc-config';

type Selected = { script: RunnableScript; params: Record<string, string> };

/**
 * Creates the runs of scripts a commission or test starts (MAAS ScriptSet and its results, one per
 * script, and per disk or interface for scripts with such a parameter) and the node token the
 * machine uses for them; aborts and revokes them when the run's purpose ends. Called by the
 * lifecycle in the transaction of the status change.
 */
@Injectable()
export class ScriptRunsService {
  constructor(private readonly runs: ScriptRunsRepository) {}

  /**
   * Commissioning: built-in commissioning scripts plus the requested custom ones (all custom ones
   * when none are named; for an enlisting machine, those tagged `enlisting`), and a testing set
   * for the tests that follow. Mutates the machine row (current sets, options); the caller saves it.
   */
  async startCommissioning(em: EntityManager, m: MachineEntity, req: RunRequest = {}, opts: { enlisting?: boolean; keepToken?: boolean } = {}): Promise<void> {
    const errors: Record<string, string[]> = {};
    const flag = (field: string, v: string | undefined) => {
      if (v === undefined || v === '') return false;
      const b = parseBool(v);
      if (b === undefined) (errors[field] ??= []).push(`'${v}' is not a valid boolean.`);
      return b === true;
    };
    const enableSsh = flag('enable_ssh', req.enableSsh);
    const skipBmc = flag('skip_bmc_config', req.skipBmcConfig);
    const skipNetworking = flag('skip_networking', req.skipNetworking);
    const skipStorage = flag('skip_storage', req.skipStorage);

    const all = await this.runs.scriptsOfType(em, SCRIPT_TYPE_CODES.commissioning);
    const requested = splitList(req.commissioningScripts);
    let chosen: RunnableScript[];
    if (opts.enlisting) chosen = all.filter((s) => s.isDefault || s.tags.includes('enlisting'));
    else if (!requested.length) chosen = all;
    else {
      const picked = select(all, requested, 'commissioning_scripts', errors);
      chosen = all.filter((s) => s.isDefault || picked.has(s.id));
    }
    const tests = await this.chooseTests(em, req.testingScripts, m.status === NodeStatus.DEPLOYED, errors);
    const disks = await this.runs.disksOf(em, m.id);
    const ifaces = await this.runs.interfacesOf(em, m.id);
    const withParams = [...chosen, ...(tests ?? [])];
    const params = parameterValues(withParams, req.parameters ?? [], disks, ifaces, errors);
    if (Object.keys(errors).length) throw invalid(errors);

    const setId = await this.runs.createSet(em, m.id, RESULT_TYPE.commissioning, requested);
    for (const s of chosen) {
      const skipped = skipBmc && s.tags.includes(BMC_CONFIG_TAG);
      await this.addResults(em, setId, { script: s, params: params.get(s.id) ?? {} }, disks, ifaces, skipped);
    }
    m.currentCommissioningScriptSetId = setId;
    if (tests !== null) {
      const testSet = await this.runs.createSet(em, m.id, RESULT_TYPE.testing, splitList(req.testingScripts));
      for (const s of tests) await this.addResults(em, testSet, { script: s, params: params.get(s.id) ?? {} }, disks, ifaces, false);
      m.currentTestingScriptSetId = testSet;
    }
    m.enableSsh = enableSsh;
    m.skipNetworking = skipNetworking;
    m.skipStorage = skipStorage;
    // keepToken: the machine asked for this run with the token it holds, which stays its token.
    if (!opts.keepToken) await this.issueToken(em, m.id, opts.enlisting ? 'enlisting' : 'commissioning');
  }

  /** Whether a script set still has results pending or running. */
  async isLive(em: EntityManager, setId: number | null): Promise<boolean> {
    return setId !== null && this.runs.hasUnfinished(em, setId);
  }

  /** Testing: the requested testing scripts (those tagged `commissioning` by default). */
  async startTesting(em: EntityManager, m: MachineEntity, req: RunRequest = {}, deployed = false): Promise<void> {
    const errors: Record<string, string[]> = {};
    const enableSsh = req.enableSsh !== undefined && req.enableSsh !== '' ? parseBool(req.enableSsh) : false;
    if (enableSsh === undefined) errors.enable_ssh = [`'${req.enableSsh}' is not a valid boolean.`];
    const tests = (await this.chooseTests(em, req.testingScripts, deployed, errors)) ?? [];
    if (Object.keys(errors).length) throw invalid(errors);
    if (!tests.length) throw invalid('No testing scripts found!');
    const disks = await this.runs.disksOf(em, m.id);
    const ifaces = await this.runs.interfacesOf(em, m.id);
    const params = parameterValues(tests, req.parameters ?? [], disks, ifaces, errors);
    if (Object.keys(errors).length) throw invalid(errors);
    const setId = await this.runs.createSet(em, m.id, RESULT_TYPE.testing, splitList(req.testingScripts));
    for (const s of tests) await this.addResults(em, setId, { script: s, params: params.get(s.id) ?? {} }, disks, ifaces, false);
    m.currentTestingScriptSetId = setId;
    m.enableSsh = enableSsh === true;
    await this.issueToken(em, m.id, 'testing');
  }

  /**
   * A release run: the release scripts asked for (names and tags of release scripts, with their
   * parameters as for tests) and, with disk erasing, the built-in wipe-disks with its options; a
   * token for the ephemeral environment that runs them. Mutates the machine row. A name that is
   * no release script is a 400 naming it (the transaction, and the release, roll back).
   */
  async startRelease(em: EntityManager, m: MachineEntity, req: RunRequest): Promise<void> {
    const all = await this.runs.scriptsOfType(em, SCRIPT_TYPE_CODES.release);
    const errors: Record<string, string[]> = {};
    const asked = splitList(req.releaseScripts).filter((w) => w !== 'none');
    const picked = select(all, asked, 'scripts', errors);
    const wipe = all.find((s) => s.name === WIPE_DISKS);
    if (req.erase) {
      if (!wipe) throw invalid(`The built-in release script ${WIPE_DISKS} is missing; disks cannot be erased.`);
      picked.add(wipe.id);
    }
    if (Object.keys(errors).length) throw invalid(errors);
    const scripts = all.filter((s) => picked.has(s.id));
    if (!scripts.length) throw invalid({ scripts: ['No release scripts found!'] });
    const disks = await this.runs.disksOf(em, m.id);
    const ifaces = await this.runs.interfacesOf(em, m.id);
    const params = parameterValues(scripts, req.parameters ?? [], disks, ifaces, errors);
    if (Object.keys(errors).length) throw invalid(errors);
    const requested = [...new Set([...(req.erase ? [WIPE_DISKS] : []), ...asked])];
    const setId = await this.runs.createSet(em, m.id, RESULT_TYPE.release, requested);
    for (const s of scripts) {
      const own = params.get(s.id) ?? {};
      // wipe-disks erases as the release asked (erase, secure_erase, quick_erase or the settings).
      const values = s.id === wipe?.id && req.erase ? { ...own, secure_erase: String(req.erase.secureErase), quick_erase: String(req.erase.quickErase) } : own;
      await this.addResults(em, setId, { script: s, params: values }, disks, ifaces, false);
    }
    m.currentReleaseScriptSetId = setId;
    await this.issueToken(em, m.id, 'release');
  }

  /** Pending and running results of the machine's current runs become Aborted. */
  async abort(em: EntityManager, m: MachineEntity): Promise<number> {
    const sets = [m.currentCommissioningScriptSetId, m.currentTestingScriptSetId, m.currentReleaseScriptSetId].filter((s): s is number => s !== null);
    return this.runs.abortUnfinished(em, sets);
  }

  /** A status change ends the run's purpose when the machine stops running scripts: its tokens are revoked. */
  async statusChanged(em: EntityManager, m: MachineEntity, from: number, to: number): Promise<void> {
    if (EPHEMERAL_STATUSES.includes(from) && !EPHEMERAL_STATUSES.includes(to)) {
      // The release or rescue environment is done with: its token goes with it.
      const n = await this.runs.revokeTokens(em, m.id);
      if (n) log().info({ systemId: m.systemId, tokens: n }, 'node tokens revoked: the ephemeral environment is done with');
      return;
    }
    if (!RUNNING_STATUSES.includes(from) || RUNNING_STATUSES.includes(to)) return;
    const n = await this.runs.revokeTokens(em, m.id, RUN_PURPOSES);
    if (n) log().info({ systemId: m.systemId, tokens: n }, 'node tokens revoked: the run ended');
  }

  /**
   * Results for the scripts of a testing set that need a disk or an interface the machine did not
   * have when the set was created: commissioning has discovered them since (MAAS regenerates the
   * testing set the same way). Only scripts without any result yet are added.
   */
  async completeDeviceResults(em: EntityManager, machineId: number, setId: number): Promise<void> {
    const requested = await this.runs.requestedScripts(em, setId);
    const have = new Set(await this.runs.resultNames(em, setId));
    const errors: Record<string, string[]> = {};
    const tests = (await this.testsFor(em, requested, false, errors)).filter((s) => !have.has(s.name) && deviceParam(s) !== null);
    if (!tests.length) return;
    const disks = await this.runs.disksOf(em, machineId);
    const ifaces = await this.runs.interfacesOf(em, machineId);
    for (const s of tests) await this.addResults(em, setId, { script: s, params: {} }, disks, ifaces, false);
  }

  private async chooseTests(em: EntityManager, raw: string | undefined, deployed: boolean, errors: Record<string, string[]>): Promise<RunnableScript[] | null> {
    const names = splitList(raw);
    if (names.length === 1 && names[0] === 'none') return null;
    return this.testsFor(em, names, deployed, errors);
  }

  private async testsFor(em: EntityManager, names: string[], deployed: boolean, errors: Record<string, string[]>): Promise<RunnableScript[]> {
    const all = await this.runs.scriptsOfType(em, SCRIPT_TYPE_CODES.testing);
    const picked = names.length ? select(all, names, 'testing_scripts', errors) : new Set(all.filter((s) => s.tags.includes('commissioning')).map((s) => s.id));
    const tests = all.filter((s) => picked.has(s.id));
    if (deployed && tests.some((s) => s.destructive)) {
      (errors.testing_scripts ??= []).push('Unable to run destructive test while deployed!');
    }
    return tests;
  }

  private async addResults(em: EntityManager, setId: number, sel: Selected, disks: RunDisk[], ifaces: RunInterface[], skipped: boolean): Promise<void> {
    const { script: s, params } = sel;
    const status = skipped ? SCRIPT_STATUS_CODES.skipped : SCRIPT_STATUS_CODES.pending;
    const base: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(s.parameters)) {
      if (spec.type === 'storage' || spec.type === 'interface') continue;
      const value = params[name] ?? spec.default;
      base[name] = { ...spec, value: value === undefined ? '' : value };
    }
    const device = deviceParam(s);
    const common = { scriptSetId: setId, scriptId: s.id, scriptVersionId: s.currentVersionId, scriptName: s.name, status };
    if (!device) {
      await this.runs.addResult(em, { ...common, parameters: base });
      return;
    }
    const [pname, spec] = device;
    const wanted = params[pname];
    if (spec.type === 'storage') {
      for (const d of pickDevices(disks, wanted, (x) => [x.name, String(x.id)])) {
        const value = { id: d.id, name: d.name, model: d.model, serial: d.serial, id_path: d.idPath ?? '', physical_blockdevice_id: d.id };
        await this.runs.addResult(em, { ...common, parameters: { ...base, [pname]: { ...spec, value } }, blockDeviceId: d.id });
      }
    } else {
      for (const i of pickDevices(ifaces, wanted, (x) => [x.name, x.macAddress, String(x.id)])) {
        const value = { id: i.id, name: i.name, mac_address: i.macAddress, vendor: i.vendor ?? '', product: i.product ?? '' };
        await this.runs.addResult(em, { ...common, parameters: { ...base, [pname]: { ...spec, value } }, interfaceId: i.id });
      }
    }
  }

  /** A fresh token for a boot that has no run's token (rescue, release...). */
  async issueTokenFor(em: EntityManager, machineId: number, purpose: string): Promise<NodeTokenRow> {
    await this.issueToken(em, machineId, purpose);
    return (await this.runs.liveToken(em, machineId))!;
  }

  private async issueToken(em: EntityManager, machineId: number, purpose: string): Promise<void> {
    await this.runs.revokeTokens(em, machineId);
    await this.runs.createToken(em, machineId, {
      consumerKey: keyPart(18),
      tokenKey: keyPart(18),
      tokenSecret: keyPart(32),
      purpose,
    });
  }
}

function keyPart(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Scripts named, or carrying a tag named; an unknown word is a field error. */
function select(all: RunnableScript[], words: string[], field: string, errors: Record<string, string[]>): Set<number> {
  const picked = new Set<number>();
  for (const w of words) {
    const hits = all.filter((s) => s.name === w || String(s.id) === w || s.tags.includes(w));
    if (!hits.length) (errors[field] ??= []).push(`Select a valid choice. ${w} is not one of the available choices.`);
    for (const h of hits) picked.add(h.id);
  }
  return picked;
}

function deviceParam(s: RunnableScript): [string, Record<string, unknown>] | null {
  for (const [name, spec] of Object.entries(s.parameters)) if (spec.type === 'storage' || spec.type === 'interface') return [name, spec];
  return null;
}

function pickDevices<T>(devices: T[], wanted: string | undefined, keys: (d: T) => string[]): T[] {
  if (wanted === undefined || wanted === '' || wanted === 'all') return devices;
  const words = splitList(wanted);
  return devices.filter((d) => keys(d).some((k) => words.includes(k)));
}

/**
 * Parameter values by script id from `<param>=value` / `<script>_<param>=value` fields. A storage
 * or interface value naming no device of the machine is a field error.
 */
function parameterValues(
  scripts: RunnableScript[],
  fields: [string, string][],
  disks: RunDisk[],
  ifaces: RunInterface[],
  errors: Record<string, string[]>,
): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>();
  for (const s of scripts) {
    for (const [pname, spec] of Object.entries(s.parameters)) {
      const hit = fields.find(([k]) => k === `${s.name}_${pname}`) ?? fields.find(([k]) => k === pname);
      if (!hit) continue;
      const value = hit[1];
      if (spec.type === 'storage' && value !== 'all' && !pickDevices(disks, value, (d) => [d.name, String(d.id)]).length) {
        (errors[hit[0]] ??= []).push(`Unknown storage device for ${s.name}: ${value}`);
      }
      if (spec.type === 'interface' && value !== 'all' && !pickDevices(ifaces, value, (i) => [i.name, i.macAddress, String(i.id)]).length) {
        (errors[hit[0]] ??= []).push(`Unknown interface for ${s.name}: ${value}`);
      }
      const cur = out.get(s.id) ?? {};
      cur[pname] = value;
      out.set(s.id, cur);
    }
  }
  return out;
}
