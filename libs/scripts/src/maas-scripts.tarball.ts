/**
 * The `maas-scripts` tar a machine downloads from the metadata API (reference maas-api.md §4.6):
 * `index.json` plus one executable per script under `<script type>/`, and, for scripts that
 * already started before a reboot, what the region holds of their output under `out/`.
 * Deterministic: the same input gives the same bytes (sorted entries, fixed owner and time).
 */
import type { ScriptMetadata, ScriptPackages } from './script-metadata.parser';
import type { ScriptParameterSpec } from './script-parameters.parser';
import {
  HARDWARE_TYPE_CODES,
  PARALLEL_CODES,
  SCRIPT_SET_KEYS,
  SCRIPT_TYPES,
  type HardwareType,
  type Parallel,
  type ScriptType,
} from './script.enums';
import { writeTar, type TarEntry } from './tar.writer';

/** A parameter as index.json carries it: the spec plus the value chosen for this result. */
export type ScriptParameterWithValue = Partial<ScriptParameterSpec> & { type: ScriptParameterSpec['type']; value: unknown };

/** What the region already holds of a started script's output (resume after a reboot). */
export interface PreviousOutput {
  combined?: Uint8Array;
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  result?: Uint8Array;
}

/** One script result to run: a script, and for storage/interface parameters one entry per device. */
export interface TarballScript {
  scriptType: ScriptType;
  name: string;
  /** The script's text. Entries sharing a name and type must share it (one file in the tar). */
  content: string | Uint8Array;
  /** Absent in anonymous enlistment tars. */
  scriptResultId?: number;
  scriptVersionId?: number;
  timeoutSeconds: number;
  parallel: Parallel;
  hardwareType: HardwareType;
  parameters?: Record<string, ScriptParameterWithValue>;
  packages?: Partial<ScriptPackages>;
  forHardware?: string[];
  applyConfiguredNetworking?: boolean;
  hasStarted?: boolean;
  hasFinished?: boolean;
  /** Built-in script. */
  default?: boolean;
  tags?: string[];
  previousOutput?: PreviousOutput;
}

export interface IndexEntry {
  name: string;
  path: string;
  script_result_id?: number;
  script_version_id?: number;
  timeout_seconds: number;
  parallel: number;
  hardware_type: number;
  parameters: Record<string, ScriptParameterWithValue>;
  packages: Partial<Record<keyof ScriptPackages, unknown[]>>;
  for_hardware: string[];
  apply_configured_networking: boolean;
  has_started: boolean;
  has_finished: boolean;
  default: boolean;
  tags: string[];
}

export type ScriptsIndex = { '1.0': Partial<Record<'commissioning_scripts' | 'testing_scripts' | 'release_scripts' | 'deployment_scripts', IndexEntry[]>> };

export function scriptPath(s: Pick<TarballScript, 'scriptType' | 'name'>): string {
  return `${s.scriptType}/${s.name}`;
}

function compareScripts(a: TarballScript, b: TarballScript): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return (a.scriptResultId ?? 0) - (b.scriptResultId ?? 0);
}

function indexEntry(s: TarballScript): IndexEntry {
  const e: IndexEntry = {
    name: s.name,
    path: scriptPath(s),
    timeout_seconds: s.timeoutSeconds,
    parallel: PARALLEL_CODES[s.parallel],
    hardware_type: HARDWARE_TYPE_CODES[s.hardwareType],
    parameters: s.parameters ?? {},
    packages: {},
    for_hardware: s.forHardware ?? [],
    apply_configured_networking: s.applyConfiguredNetworking ?? false,
    has_started: s.hasStarted ?? false,
    has_finished: s.hasFinished ?? false,
    default: s.default ?? false,
    tags: s.tags ?? [],
  };
  if (s.scriptResultId !== undefined) e.script_result_id = s.scriptResultId;
  if (s.scriptVersionId !== undefined) e.script_version_id = s.scriptVersionId;
  for (const k of ['apt', 'snap', 'url'] as const) {
    const list = s.packages?.[k];
    if (list && list.length > 0) e.packages[k] = list;
  }
  // Key order as MAAS writes it.
  const { name, path, script_result_id, script_version_id, ...rest } = e;
  return { name, path, ...(script_result_id !== undefined ? { script_result_id } : {}), ...(script_version_id !== undefined ? { script_version_id } : {}), ...rest };
}

/** The index.json document (only non-empty sets; each sorted by name, then result id). */
export function buildScriptsIndex(scripts: readonly TarballScript[]): ScriptsIndex {
  const sets: ScriptsIndex['1.0'] = {};
  for (const type of SCRIPT_TYPES) {
    const of = scripts.filter((s) => s.scriptType === type).sort(compareScripts);
    if (of.length > 0) sets[SCRIPT_SET_KEYS[type] as keyof ScriptsIndex['1.0']] = of.map(indexEntry);
  }
  return { '1.0': sets };
}

/**
 * index.json text as MAAS's Python writes it: `timeout_seconds` is a float there, so whole
 * numbers carry `.0`.
 */
export function renderScriptsIndex(index: ScriptsIndex): string {
  return JSON.stringify(index).replace(/"timeout_seconds":(-?\d+)(?=[,}])/g, '"timeout_seconds":$1.0');
}

const bytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/** The tar bytes for a machine; an empty list means "nothing to run" (the region answers 204). */
export function buildScriptsTarball(scripts: readonly TarballScript[], mtime = 0): Buffer {
  const files = new Map<string, TarEntry>();
  for (const s of scripts) {
    const path = scriptPath(s);
    const data = bytes(s.content);
    const seen = files.get(path);
    if (seen && Buffer.compare(Buffer.from(seen.data), Buffer.from(data)) !== 0) {
      throw new Error(`two different texts for ${path}`);
    }
    files.set(path, { path, data, mode: 0o755 });
    const prev = s.previousOutput;
    if (prev && s.scriptResultId !== undefined) {
      const base = `out/${s.name}.${s.scriptResultId}`;
      const outs: [string, Uint8Array | undefined][] = [
        [base, prev.combined],
        [`${base}.out`, prev.stdout],
        [`${base}.err`, prev.stderr],
        [`${base}.yaml`, prev.result],
      ];
      for (const [p, d] of outs) if (d) files.set(p, { path: p, data: d, mode: 0o644 });
    }
  }
  const entries: TarEntry[] = [
    { path: 'index.json', data: Buffer.from(renderScriptsIndex(buildScriptsIndex(scripts)), 'utf8'), mode: 0o644 },
    ...[...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  ];
  return writeTar(entries, mtime);
}

export interface TarballEntryOptions {
  scriptResultId?: number;
  scriptVersionId?: number;
  /** Values chosen for this result by parameter name; the spec's default otherwise. */
  parameterValues?: Record<string, unknown>;
  /** Built-in script. */
  default?: boolean;
  hasStarted?: boolean;
  previousOutput?: PreviousOutput;
}

/** One tar entry for a stored script (its text and parsed metadata) and one of its results. */
export function tarballEntry(script: { name: string; text: string; metadata: ScriptMetadata }, opts: TarballEntryOptions = {}): TarballScript {
  const md = script.metadata;
  const parameters: Record<string, ScriptParameterWithValue> = {};
  for (const [name, spec] of Object.entries(md.parameters)) {
    const value = opts.parameterValues?.[name] ?? spec.default;
    parameters[name] = { ...spec, value: value === undefined ? '' : value };
  }
  const entry: TarballScript = {
    scriptType: md.scriptType,
    name: script.name,
    content: script.text,
    timeoutSeconds: md.timeoutSeconds,
    parallel: md.parallel,
    hardwareType: md.hardwareType,
    parameters,
    packages: md.packages,
    forHardware: md.forHardware,
    applyConfiguredNetworking: md.applyConfiguredNetworking,
    hasStarted: opts.hasStarted ?? false,
    hasFinished: false,
    default: opts.default ?? false,
    tags: md.tags,
  };
  if (opts.scriptResultId !== undefined) entry.scriptResultId = opts.scriptResultId;
  if (opts.scriptVersionId !== undefined) entry.scriptVersionId = opts.scriptVersionId;
  if (opts.previousOutput) entry.previousOutput = opts.previousOutput;
  return entry;
}
