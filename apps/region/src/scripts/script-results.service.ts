import { Injectable } from '@nestjs/common';
import { writeTar } from '@kiln/scripts';
import type { Actor } from '../common/actor';
import { invalid, notFound } from '../common/domain.error';
import { MachineAccess } from '../machines/machine.access';
import { formatDuration, HARDWARE_TYPE_ERROR, RESULT_TYPE_ERROR, RESULT_TYPE_NAMES, translateHardwareType, translateResultType } from './script.names';
import {
  PassedRunRow,
  ResultsMachineRow,
  ScriptResultRow,
  ScriptResultsRepository,
  ScriptSetRow,
} from './script-results.repository';
import { xzCompress } from './xz.compressor';

export interface ResultView extends ScriptResultRow {
  /** MAAS's runtime string ("0:01:05"), empty until the result has started and ended. */
  runtime: string;
  estimatedRuntime: string;
}

/** A run with the results a request selected. */
export interface SetView {
  machine: ResultsMachineRow;
  set: ScriptSetRow;
  runtime: string;
  results: ResultView[];
}

/** Which results of a run a request asks about (MAAS: `hardware_type`, `filters`, `include_output`). */
export interface ResultSelection {
  hardwareType?: string;
  /** Script names, script tags or result ids. */
  filters?: string[];
  includeOutput: boolean;
}

export interface DownloadRequest {
  hardwareType?: string;
  filters?: string[];
  /** combined (default), stdout, stderr, result or all. */
  output: string;
  /** txt (default) or tar.xz. */
  filetype: string;
}

export interface Download {
  data: Buffer;
  contentType: string;
}

const NO_NODE = 'No Node matches the given query.';
const CURRENT = {
  'current-commissioning': 'current_commissioning_script_set_id',
  'current-testing': 'current_testing_script_set_id',
  'current-installation': 'current_installation_script_set_id',
} as const;
const BINARY_NAME = /.+\.tar(\..+)?/;

/**
 * A machine's script runs and their results as operators read them (MAAS NodeScriptResults
 * handlers): listing, one run by id or as the machine's current commissioning, testing or
 * installation run, suppressing results, deleting runs, and downloading outputs as text or a
 * tar.xz. Callers see only the results of machines they may see.
 */
@Injectable()
export class ScriptResultsService {
  constructor(
    private readonly repo: ScriptResultsRepository,
    private readonly access: MachineAccess,
  ) {}

  async list(systemId: string, actor: Actor, type: string | undefined, sel: ResultSelection): Promise<SetView[]> {
    const machine = await this.machine(systemId, actor);
    let resultType: number | undefined;
    if (type !== undefined) {
      resultType = translateResultType(type);
      if (resultType === undefined) throw invalid(RESULT_TYPE_ERROR);
    }
    const hardwareType = hardwareTypeOf(sel.hardwareType);
    const sets = await this.repo.sets(machine.id, resultType);
    return this.views(machine, sets, sel, hardwareType);
  }

  async get(systemId: string, id: string, actor: Actor, sel: ResultSelection): Promise<SetView> {
    const machine = await this.machine(systemId, actor);
    const hardwareType = hardwareTypeOf(sel.hardwareType);
    const [view] = await this.views(machine, [await this.set(machine, id)], sel, hardwareType);
    return view;
  }

  /** Sets `suppressed` on the selected results of a run (all of them without filters). */
  async update(systemId: string, id: string, actor: Actor, sel: ResultSelection, suppressed: boolean | undefined): Promise<SetView> {
    const machine = await this.machine(systemId, actor);
    const hardwareType = hardwareTypeOf(sel.hardwareType);
    const set = await this.set(machine, id);
    if (suppressed !== undefined) {
      const selected = select(await this.repo.results([set.id], false), sel.filters, hardwareType);
      await this.repo.setSuppressed(
        selected.map((r) => r.id),
        suppressed,
      );
    }
    const fresh = (await this.repo.set(machine.id, set.id)) ?? set;
    const [view] = await this.views(machine, [fresh], sel, hardwareType);
    return view;
  }

  /** The current commissioning and installation runs hold what Kiln knows of the machine: they stay. */
  async delete(systemId: string, id: string, actor: Actor): Promise<void> {
    const machine = await this.machine(systemId, actor);
    const set = await this.set(machine, id);
    if (set.id === machine.current_commissioning_script_set_id || set.id === machine.current_installation_script_set_id) {
      const kind = RESULT_TYPE_NAMES[set.result_type]?.toLowerCase() ?? 'current';
      throw invalid(`Unable to delete the current ${kind} script set for node: ${machine.fqdn}`);
    }
    await this.repo.deleteSet(machine.id, set.id);
  }

  /**
   * The outputs of a run's results: one output piped as it is, several as text sections, or a
   * tar.xz with one file per output under `<hostname>-<type>-<run id>/`.
   */
  async download(systemId: string, id: string, actor: Actor, req: DownloadRequest): Promise<Download> {
    const machine = await this.machine(systemId, actor);
    const hardwareType = hardwareTypeOf(req.hardwareType);
    const set = await this.set(machine, id);
    if (req.filetype !== 'txt' && req.filetype !== 'tar.xz') throw invalid(`Unknown filetype "${req.filetype}" must be txt or tar.xz`);
    const results = select(await this.repo.results([set.id], true), req.filters, hardwareType);
    const files = new Map<string, { data: Buffer; mtime: Date }>();
    const add = (r: ScriptResultRow, ext: string | null, data: Buffer | null | undefined) =>
      files.set(fileTitle(r, req.filetype, ext), { data: data ?? Buffer.alloc(0), mtime: r.updated });
    for (const r of results) {
      if (BINARY_NAME.test(r.name)) files.set(r.name, { data: r.output ?? Buffer.alloc(0), mtime: r.updated });
      else if (req.output === 'combined') add(r, null, r.output);
      else if (req.output === 'stdout') add(r, 'out', r.stdout);
      else if (req.output === 'stderr') add(r, 'err', r.stderr);
      else if (req.output === 'result') add(r, 'yaml', r.result);
      else if (req.output === 'all') {
        add(r, null, r.output);
        add(r, 'out', r.stdout);
        add(r, 'err', r.stderr);
        add(r, 'yaml', r.result);
      }
    }
    if (req.filetype === 'txt') {
      if (files.size === 1) return { data: [...files.values()][0].data, contentType: 'application/binary' };
      const parts: Buffer[] = [];
      for (const [title, f] of files) {
        const dashes = '-'.repeat(Math.max(0, Math.trunc((80 - (2 + title.length)) / 2)));
        parts.push(Buffer.from(`${dashes} ${title} ${dashes}\n`), BINARY_NAME.test(title) ? Buffer.from('Binary file') : f.data, Buffer.from('\n'));
      }
      return { data: Buffer.concat(parts), contentType: 'application/binary' };
    }
    const root = `${machine.hostname}-${(RESULT_TYPE_NAMES[set.result_type] ?? '').toLowerCase()}-${set.id}`;
    const newest = Math.max(0, ...[...files.values()].map((f) => Math.floor(f.mtime.getTime() / 1000)));
    const tar = writeTar(
      [...files].map(([title, f]) => ({ path: `${root}/${title.slice(title.lastIndexOf('/') + 1)}`, data: f.data, mode: 0o644 })),
      newest,
    );
    return { data: await xzCompress(tar), contentType: 'application/x-tar' };
  }

  private async machine(systemId: string, actor: Actor): Promise<ResultsMachineRow> {
    const machine = await this.repo.machine(systemId);
    if (!machine) throw notFound(NO_NODE);
    this.access.require(actor, 'see', { ownerId: machine.owner_id });
    return machine;
  }

  /** A run by id, or the machine's current-commissioning/-testing/-installation run. */
  private async set(machine: ResultsMachineRow, id: string): Promise<ScriptSetRow> {
    const current = id in CURRENT ? machine[CURRENT[id as keyof typeof CURRENT]] : null;
    if (current === null && !/^\d+$/.test(id)) {
      throw invalid(`Unknown id "${id}" must be current-commissioning, current-testing, current-installation, or the id number of a specific result.`);
    }
    const setId = current ?? Number(id);
    const set = Number.isSafeInteger(setId) ? await this.repo.set(machine.id, setId) : null;
    if (!set) throw notFound('No ScriptSet matches the given query.');
    return set;
  }

  private async views(machine: ResultsMachineRow, sets: ScriptSetRow[], sel: ResultSelection, hardwareType: number | undefined): Promise<SetView[]> {
    const [results, passed] = await Promise.all([
      this.repo.results(
        sets.map((s) => s.id),
        sel.includeOutput,
      ),
      this.repo.passedRuns(machine.id),
    ]);
    const bySet = new Map<number, ScriptResultRow[]>();
    for (const r of results) {
      const list = bySet.get(r.script_set_id) ?? [];
      list.push(r);
      bySet.set(r.script_set_id, list);
    }
    return sets.map((set) => ({
      machine,
      set,
      runtime: runtime(set.started, set.ended),
      results: select(bySet.get(set.id) ?? [], sel.filters, hardwareType).map((r) => ({
        ...r,
        runtime: runtime(r.started, r.ended),
        estimatedRuntime: estimatedRuntime(r, passed),
      })),
    }));
  }
}

function hardwareTypeOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const code = translateHardwareType(value);
  if (code === undefined) throw invalid(HARDWARE_TYPE_ERROR);
  return code;
}

/**
 * MAAS's filter_script_results: results whose name, one of whose script's tags, or whose id is in
 * `filters`; of scripts of `hardwareType`; by name, then disk, then interface.
 */
export function select(results: ScriptResultRow[], filters: string[] | undefined, hardwareType: number | undefined): ScriptResultRow[] {
  let out = results;
  if (filters) {
    const wanted = new Set(filters);
    out = out.filter((r) => wanted.has(r.name) || (r.tags ?? []).some((t) => wanted.has(t)) || wanted.has(String(r.id)));
  }
  if (hardwareType !== undefined) out = out.filter((r) => r.script_id !== null && r.hardware_type === hardwareType);
  const key = (r: ScriptResultRow) => [r.name, r.block_device_name ?? '', r.interface_name ?? ''];
  return [...out].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return a.id - b.id;
  });
}

function runtime(started: Date | null, ended: Date | null): string {
  return started && ended ? formatDuration((ended.getTime() - started.getTime()) / 1000) : '';
}

/**
 * MAAS's estimated_runtime: the runtime once known; else a running average over the passed runs
 * of the same script (on the same disk) on the machine, newest first; else the script's timeout;
 * else "Unknown".
 */
export function estimatedRuntime(r: ScriptResultRow, passed: PassedRunRow[]): string {
  const known = runtime(r.started, r.ended);
  if (known) return known;
  let avg: number | null = null;
  for (const p of passed) {
    const same = r.script_id !== null ? p.script_id === r.script_id : p.script_name === r.name;
    if (!same || (p.block_device_id !== null && p.block_device_id !== r.block_device_id)) continue;
    avg = avg === null ? p.seconds : (avg + p.seconds) / 2;
  }
  if (avg !== null) return formatDuration(avg);
  return r.timeout_seconds ? formatDuration(r.timeout_seconds) : 'Unknown';
}

/** A result's file name in a download: `name[.ext]`, with its disk or interface. */
function fileTitle(r: ScriptResultRow, filetype: string, ext: string | null): string {
  let title = ext ? `${r.name}.${ext}` : r.name;
  if (r.block_device_name) title = filetype === 'txt' ? `${title} - /dev/${r.block_device_name}` : `${title}-${r.block_device_name}`;
  if (r.interface_name) title = filetype === 'txt' ? `${title} - ${r.interface_name}` : `${title}-${r.interface_name}`;
  return title;
}
