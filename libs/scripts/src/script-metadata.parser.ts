/**
 * The metadata block a script carries in comment lines (reference maas-api.md §5.1-5.3):
 *
 *   #!/bin/sh
 *   # --- Start MAAS 1.0 script metadata ---
 *   # name: hello
 *   # script_type: testing
 *   # --- End MAAS 1.0 script metadata ---
 *
 * `parseScript(text)` returns the typed metadata with MAAS's defaults filled in, or coded errors
 * naming the key and the problem. Pure: no I/O.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ErrorSink, type ScriptMetadataError } from './script-metadata.errors';
import { parseParameters, toBool, type ScriptParameterSpec } from './script-parameters.parser';
import {
  HARDWARE_TYPE_ALIASES,
  HARDWARE_TYPE_CODES,
  PARALLEL_ALIASES,
  PARALLEL_CODES,
  SCRIPT_TYPE_ALIASES,
  SCRIPT_TYPE_CODES,
  codeToName,
  type HardwareType,
  type Parallel,
  type ScriptType,
} from './script.enums';

export interface SnapPackage {
  name: string;
  channel?: 'stable' | 'edge' | 'beta' | 'candidate';
  mode?: 'classic' | 'dev' | 'jail';
}

export interface ScriptPackages {
  apt: string[];
  snap: SnapPackage[];
  url: string[];
}

export interface ScriptResultKey {
  key: string;
  title?: string;
  description?: string;
}

export interface ScriptMetadata {
  name?: string;
  title?: string;
  description?: string;
  tags: string[];
  scriptType: ScriptType;
  hardwareType: HardwareType;
  parallel: Parallel;
  /** 0 = unlimited. */
  timeoutSeconds: number;
  destructive: boolean;
  mayReboot: boolean;
  recommission: boolean;
  applyConfiguredNetworking: boolean;
  forHardware: string[];
  packages: ScriptPackages;
  results: ScriptResultKey[];
  parameters: Record<string, ScriptParameterSpec>;
  /**
   * The §5.2 keys the block itself set (`type` reported as `script_type`). The region refuses a
   * request value that contradicts one of them ("May not override values defined in embedded YAML.").
   */
  definedKeys: string[];
}

export interface ParsedScript {
  /** False when the script has no version 1.0 block, or the block is not a mapping (MAAS ignores it). */
  hasMetadataBlock: boolean;
  metadata: ScriptMetadata;
}

export type ParseScriptResult = { ok: true; value: ParsedScript } | { ok: false; errors: ScriptMetadataError[] };

export const METADATA_KEYS = [
  'name',
  'title',
  'description',
  'tags',
  'script_type',
  'hardware_type',
  'parallel',
  'timeout',
  'destructive',
  'may_reboot',
  'recommission',
  'apply_configured_networking',
  'for_hardware',
  'packages',
  'results',
  'parameters',
] as const;

export function defaultMetadata(): ScriptMetadata {
  return {
    tags: [],
    scriptType: 'testing',
    hardwareType: 'node',
    parallel: 'disabled',
    timeoutSeconds: 0,
    destructive: false,
    mayReboot: false,
    recommission: false,
    applyConfiguredNetworking: false,
    forHardware: [],
    packages: { apt: [], snap: [], url: [] },
    results: [],
    parameters: {},
    definedKeys: [],
  };
}

const MARKER = /^\s*#\s*-+\s*(start|end) maas (\d+\.\d+) script metadata\s+-+\s*$/i;

/** Script names: not `none`, not all digits, nothing a shell or a path would interpret. */
const NAME_FORBIDDEN = /[\s"'`$&*;|<>()[\]{}?!#~\\/]/;

export function validateScriptName(name: string): string | undefined {
  if (name.length === 0) return 'Name must not be empty.';
  if (name.toLowerCase() === 'none') return '"none" is a reserved name.';
  if (/^\d+$/.test(name)) return 'Name must contain at least one non-digit character.';
  if (NAME_FORBIDDEN.test(name)) return 'Name contains disallowed characters (whitespace, quotes, "/" or shell-special characters).';
  if (name.length > 255) return 'Name must be at most 255 characters.';
  return undefined;
}

interface Block {
  yaml: string;
}

/** Finds the version 1.0 block; returns undefined when there is none. */
function extractBlock(lines: string[], sink: ErrorSink): Block | undefined {
  // The first line is the shebang and is never a marker.
  for (let i = 1; i < lines.length; i++) {
    const m = MARKER.exec(lines[i] ?? '');
    if (!m || m[1]?.toLowerCase() !== 'start' || m[2] !== '1.0') continue;
    const yamlLines: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const end = MARKER.exec(line);
      if (end && end[1]?.toLowerCase() === 'end' && end[2] === '1.0') return { yaml: yamlLines.join('\n') };
      if (line.trim() === '') {
        yamlLines.push('');
        continue;
      }
      const hash = line.indexOf('#');
      if (hash < 0) {
        sink.add('MISSING_HASH', undefined, 'Missing "#" on YAML line.', j + 1);
        yamlLines.push('');
        continue;
      }
      yamlLines.push(line.slice(hash + 1));
    }
    sink.add('UNCLOSED_BLOCK', undefined, 'The script metadata block has a start marker but no end marker.', i + 1);
    return undefined;
  }
  return undefined;
}

export function parseScript(text: string): ParseScriptResult {
  const sink = new ErrorSink();
  if (!text.startsWith('#!')) {
    sink.add('MISSING_SHEBANG', undefined, 'Must start with shebang.', 1);
    return { ok: false, errors: sink.errors };
  }
  const lines = text.split(/\r?\n/);
  const block = extractBlock(lines, sink);
  if (!sink.empty) return { ok: false, errors: sink.errors };
  if (!block) return { ok: true, value: { hasMetadataBlock: false, metadata: defaultMetadata() } };

  let doc: unknown;
  try {
    doc = parseYaml(block.yaml, { prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError || e instanceof Error ? e.message : String(e);
    sink.add('INVALID_YAML', undefined, `Invalid YAML: ${msg}`);
    return { ok: false, errors: sink.errors };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: true, value: { hasMetadataBlock: false, metadata: defaultMetadata() } };
  }
  const metadata = readMetadata(doc as Record<string, unknown>, sink);
  if (!sink.empty) return { ok: false, errors: sink.errors };
  return { ok: true, value: { hasMetadataBlock: true, metadata } };
}

/**
 * Parses a duration as MAAS takes it: whole seconds, or `H:MM:SS` / `HH:MM:SS`. MAAS reads the
 * block with PyYAML (YAML 1.1), where an unquoted `1:30` or `5:00:00` is already a base-60
 * integer; this YAML parser (1.2) leaves those as strings, so colon forms are read base 60 here,
 * giving the same seconds.
 */
export function parseTimeout(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (!/^\d+(:[0-5]?\d){1,2}$/.test(s)) return undefined;
  return s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function enumValue<T extends string>(
  v: unknown,
  aliases: Readonly<Record<string, T>>,
  codes: Readonly<Record<T, number>>,
): T | undefined {
  if (typeof v === 'number') return codeToName(codes, v);
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (/^\d+$/.test(s)) return codeToName(codes, Number(s));
  return aliases[s];
}

function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return (v as string[]).map((s) => s.trim()).filter((s) => s !== '');
  return undefined;
}

const FOR_HARDWARE = [
  /^modalias:.+$/,
  /^pci:[0-9a-f]{4}:[0-9a-f]{4}$/i,
  /^usb:[0-9a-f]{4}:[0-9a-f]{4}$/i,
  /^system_vendor:.+$/,
  /^system_product:.+$/,
  /^system_version:.+$/,
  /^mainboard_vendor:.+$/,
  /^mainboard_product:.+$/,
];

function readMetadata(doc: Record<string, unknown>, sink: ErrorSink): ScriptMetadata {
  const md = defaultMetadata();
  const defined = new Set<string>();

  if ('type' in doc && 'script_type' in doc) {
    const a = enumValue(doc['type'], SCRIPT_TYPE_ALIASES, SCRIPT_TYPE_CODES);
    const b = enumValue(doc['script_type'], SCRIPT_TYPE_ALIASES, SCRIPT_TYPE_CODES);
    if (a !== b) sink.add('CONFLICTING_KEYS', 'script_type', '"type" and "script_type" name different script types.');
  }

  for (const [key, v] of Object.entries(doc)) {
    if (v === null || v === undefined) continue;
    switch (key) {
      case 'name': {
        if (typeof v !== 'string') {
          sink.add('INVALID_VALUE', key, 'name must be a string.');
          break;
        }
        const problem = validateScriptName(v);
        if (problem) sink.add('INVALID_VALUE', key, problem);
        else md.name = v;
        break;
      }
      case 'title':
      case 'description':
        if (typeof v !== 'string' && typeof v !== 'number') sink.add('INVALID_VALUE', key, `${key} must be a string.`);
        else md[key] = String(v);
        break;
      case 'tags': {
        const tags = stringList(v);
        if (!tags) sink.add('INVALID_VALUE', key, 'tags must be a comma-separated string or a list of strings.');
        else if (tags.some((t) => /[\s,]/.test(t))) sink.add('INVALID_VALUE', key, 'A tag may not contain whitespace or commas.');
        else md.tags = [...new Set(tags)];
        break;
      }
      case 'type':
      case 'script_type': {
        const t = enumValue(v, SCRIPT_TYPE_ALIASES, SCRIPT_TYPE_CODES);
        if (!t) sink.add('INVALID_VALUE', 'script_type', `Invalid script type "${String(v)}"; one of commissioning, testing, release, deployment (or 0, 2, 3, 4).`);
        else md.scriptType = t;
        defined.add('script_type');
        continue;
      }
      case 'hardware_type': {
        const h = enumValue(v, HARDWARE_TYPE_ALIASES, HARDWARE_TYPE_CODES);
        if (!h) sink.add('INVALID_VALUE', key, `Invalid hardware type "${String(v)}"; one of node, cpu, memory, storage, network, gpu (or 0..5).`);
        else md.hardwareType = h;
        break;
      }
      case 'parallel': {
        const p = enumValue(v, PARALLEL_ALIASES, PARALLEL_CODES);
        if (!p) sink.add('INVALID_VALUE', key, `Invalid parallel "${String(v)}"; one of disabled, instance, any (or 0, 1, 2).`);
        else md.parallel = p;
        break;
      }
      case 'timeout': {
        const t = parseTimeout(v);
        if (t === undefined) sink.add('INVALID_VALUE', key, `Invalid timeout "${String(v)}"; whole seconds or HH:MM:SS.`);
        else md.timeoutSeconds = t;
        break;
      }
      case 'destructive':
      case 'may_reboot':
      case 'recommission':
      case 'apply_configured_networking': {
        const b = toBool(v);
        const field = ({ destructive: 'destructive', may_reboot: 'mayReboot', recommission: 'recommission', apply_configured_networking: 'applyConfiguredNetworking' } as const)[key];
        if (b === undefined) sink.add('INVALID_VALUE', key, `${key} must be a boolean.`);
        else md[field] = b;
        break;
      }
      case 'for_hardware': {
        const list = stringList(v);
        if (!list) {
          sink.add('INVALID_VALUE', key, 'for_hardware must be a comma-separated string or a list of strings.');
          break;
        }
        const bad = list.filter((h) => !FOR_HARDWARE.some((re) => re.test(h)));
        if (bad.length > 0) {
          sink.add('INVALID_VALUE', key, `Invalid hardware id(s) ${bad.join(', ')}; expected modalias:<glob>, pci:VVVV:PPPP, usb:VVVV:PPPP, system_vendor:, system_product:, system_version:, mainboard_vendor: or mainboard_product:.`);
        } else md.forHardware = list;
        break;
      }
      case 'packages':
        md.packages = readPackages(v, sink);
        break;
      case 'results':
        md.results = readResults(v, sink);
        break;
      case 'parameters':
        md.parameters = parseParameters(v, sink);
        break;
      default:
        // MAAS ignores keys its form does not know; so does Kiln.
        continue;
    }
    defined.add(key);
  }
  md.definedKeys = [...defined].sort();
  return md;
}

function readPackages(v: unknown, sink: ErrorSink): ScriptPackages {
  const out: ScriptPackages = { apt: [], snap: [], url: [] };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    sink.add('INVALID_VALUE', 'packages', 'packages must be a mapping with apt, snap and/or url.');
    return out;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === null || val === undefined) continue;
    if (k === 'apt' || k === 'url') {
      const list = typeof val === 'string' ? [val] : Array.isArray(val) && val.every((x) => typeof x === 'string') ? (val as string[]) : undefined;
      if (!list) sink.add('INVALID_VALUE', `packages.${k}`, `packages.${k} must be a string or a list of strings.`);
      else if (k === 'url' && list.some((u) => !/^(https?|ftp):\/\/\S+$/.test(u))) sink.add('INVALID_VALUE', 'packages.url', 'packages.url entries must be http(s) or ftp URLs.');
      else out[k] = list;
    } else if (k === 'snap') {
      const items = typeof val === 'string' || !Array.isArray(val) ? [val] : val;
      items.forEach((item, i) => {
        const snap = readSnap(item);
        if (typeof snap === 'string') sink.add('INVALID_VALUE', `packages.snap.${i}`, snap);
        else out.snap.push(snap);
      });
    } else {
      sink.add('UNKNOWN_KEY', `packages.${k}`, `Unknown package source "${k}"; one of apt, snap, url.`);
    }
  }
  return out;
}

function readSnap(item: unknown): SnapPackage | string {
  if (typeof item === 'string') return { name: item };
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'A snap must be a name or {name, channel, mode}.';
  const o = item as Record<string, unknown>;
  if (typeof o['name'] !== 'string') return 'A snap needs a name.';
  const snap: SnapPackage = { name: o['name'] };
  for (const k of Object.keys(o)) if (!['name', 'channel', 'mode'].includes(k)) return `Unknown snap key "${k}".`;
  if (o['channel'] !== undefined) {
    if (!['stable', 'edge', 'beta', 'candidate'].includes(String(o['channel']))) return 'Snap channel must be stable, edge, beta or candidate.';
    snap.channel = o['channel'] as SnapPackage['channel'];
  }
  if (o['mode'] !== undefined) {
    if (!['classic', 'dev', 'jail'].includes(String(o['mode']))) return 'Snap mode must be classic, dev or jail.';
    snap.mode = o['mode'] as SnapPackage['mode'];
  }
  return snap;
}

function readResults(v: unknown, sink: ErrorSink): ScriptResultKey[] {
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === 'string')) {
      sink.add('INVALID_VALUE', 'results', 'results must be a list of strings or a mapping of key to {title, description}.');
      return [];
    }
    return (v as string[]).map((key) => ({ key }));
  }
  if (typeof v !== 'object' || v === null) {
    sink.add('INVALID_VALUE', 'results', 'results must be a list of strings or a mapping of key to {title, description}.');
    return [];
  }
  const out: ScriptResultKey[] = [];
  for (const [key, spec] of Object.entries(v as Record<string, unknown>)) {
    const r: ScriptResultKey = { key };
    if (spec !== null && spec !== undefined) {
      if (typeof spec !== 'object' || Array.isArray(spec)) {
        sink.add('INVALID_VALUE', `results.${key}`, 'A result declaration must be a mapping with title and/or description.');
        continue;
      }
      for (const [k, s] of Object.entries(spec as Record<string, unknown>)) {
        if (k !== 'title' && k !== 'description') sink.add('UNKNOWN_KEY', `results.${key}.${k}`, `Unknown result key "${k}"; title or description.`);
        else if (typeof s !== 'string') sink.add('INVALID_VALUE', `results.${key}.${k}`, `${k} must be a string.`);
        else r[k] = s;
      }
    }
    out.push(r);
  }
  return out;
}
