import { parseScript, parseTimeout, validateScriptName, type ScriptMetadata } from '@kiln/scripts';
import { parseBool } from '../common/values';
import {
  HARDWARE_TYPE_ERROR,
  PARALLEL_ERROR,
  SCRIPT_TYPE_ERROR,
  translateHardwareType,
  translateParallel,
  translateScriptType,
} from './script.names';
import type { ScriptFields } from './scripts.repository';

/** The fields of MAAS's ScriptForm, as a request sends them (`type` is accepted for `script_type`). */
export const SCRIPT_FORM_FIELDS = [
  'name',
  'title',
  'description',
  'tags',
  'script_type',
  'hardware_type',
  'parallel',
  'packages',
  'timeout',
  'destructive',
  'for_hardware',
  'may_reboot',
  'recommission',
  'apply_configured_networking',
] as const;
export type ScriptFormField = (typeof SCRIPT_FORM_FIELDS)[number];

/** What a create or update request says about a script: only what it sent. */
export interface ScriptFormInput {
  fields: Partial<Record<ScriptFormField | 'type' | 'comment', string>>;
  /** The script's text, when the request uploaded one. */
  script?: string;
}

export type FieldErrors = Record<string, string[]>;

export type ScriptFormResult =
  | { ok: true; fields: ScriptFields; /** The text to store as a new revision, if any. */ text?: string; comment: string }
  | { ok: false; errors: FieldErrors };

/** Keys MAAS compares between the request and the embedded YAML ("May not override ..."). */
const YAML_COMPARED = [
  'name',
  'title',
  'description',
  'script_type',
  'hardware_type',
  'parallel',
  'destructive',
  'may_reboot',
  'recommission',
  'apply_configured_networking',
] as const;

const BOOLEAN_FIELDS = { destructive: 'destructive', may_reboot: 'mayReboot', recommission: 'recommission', apply_configured_networking: 'applyConfiguredNetworking' } as const;

const FOR_HARDWARE =
  /^modalias:.+|pci:[\da-f]{4}:[\da-f]{4}|usb:[\da-f]{4}:[\da-f]{4}|system_vendor:.*|system_product:.*|system_version:.*|mainboard_vendor:.*|mainboard_product:.*$/i;

const BLOCK_LEVEL = new Set(['MISSING_SHEBANG', 'MISSING_HASH', 'INVALID_YAML', 'UNCLOSED_BLOCK']);

/** A new script's values before the request and its YAML fill them in (MAAS's model defaults). */
export function defaultScriptFields(): ScriptFields {
  return {
    name: '',
    title: '',
    description: '',
    tags: [],
    scriptType: 2,
    hardwareType: 0,
    parallel: 0,
    timeoutSeconds: 0,
    destructive: false,
    mayReboot: false,
    recommission: false,
    applyConfiguredNetworking: false,
    forHardware: [],
    packages: {},
    parameters: {},
    results: {},
    isDefault: false,
  };
}

/** The value of an embedded-YAML key in the form's own terms (numbers for enums), for comparison. */
function yamlValue(md: ScriptMetadata, key: (typeof YAML_COMPARED)[number], fields: ScriptFields): string | number | boolean | undefined {
  switch (key) {
    case 'name':
      return md.name;
    case 'title':
      return md.title;
    case 'description':
      return md.description;
    case 'script_type':
      return fields.scriptType;
    case 'hardware_type':
      return fields.hardwareType;
    case 'parallel':
      return fields.parallel;
    case 'destructive':
      return md.destructive;
    case 'may_reboot':
      return md.mayReboot;
    case 'recommission':
      return md.recommission;
    case 'apply_configured_networking':
      return md.applyConfiguredNetworking;
  }
}

/**
 * MAAS's ScriptForm: the request's fields over the script's current values (or the defaults, for
 * a new script), with the values of the script's embedded YAML filling in what the request did not
 * send. A request value that contradicts the YAML is refused; on an update the YAML's tags and
 * timeout never replace the ones an operator set; a built-in script takes only tags and timeout.
 * Pure: the caller checks that a new name is free.
 */
export function applyScriptForm(existing: ScriptFields | null, input: ScriptFormInput): ScriptFormResult {
  const errors: FieldErrors = {};
  const fail = (field: string, message: string) => (errors[field] ??= []).push(message);
  const data: Partial<Record<ScriptFormField, string>> = {};
  for (const f of SCRIPT_FORM_FIELDS) if (input.fields[f] !== undefined) data[f] = input.fields[f];
  if (data.script_type === undefined && input.fields.type !== undefined) data.script_type = input.fields.type;
  const creating = existing === null;
  const out: ScriptFields = { ...(existing ?? defaultScriptFields()) };
  /** Fields set from the request or the YAML: on a built-in script only tags and timeout may be. */
  const touched = new Set<string>(Object.keys(data));

  if (input.fields.comment !== undefined && input.script === undefined) {
    fail('comment', '"comment" may only be used when specifying a "script" as well.');
  }
  if (creating && input.script === undefined) fail('script', 'This field is required.');

  let text: string | undefined;
  if (input.script !== undefined) {
    touched.add('script');
    text = input.script.replace(/\r\n/g, '\n');
    const parsed = parseScript(text);
    if (!parsed.ok) {
      for (const e of parsed.errors) {
        const top = e.key?.split('.')[0];
        const field = BLOCK_LEVEL.has(e.code) || !top ? 'script' : top === 'type' ? 'script_type' : top;
        fail(field, e.message);
      }
    } else if (parsed.value.hasMetadataBlock) {
      const md = parsed.value.metadata;
      const defined = new Set(md.definedKeys);
      out.results = Object.fromEntries(md.results.map((r) => [r.key, { title: r.title ?? r.key, ...(r.description ? { description: r.description } : {}) }]));
      out.parameters = md.parameters as unknown as Record<string, unknown>;
      if (creating && defined.has('tags') && data.tags === undefined) out.tags = md.tags;
      if (creating && defined.has('timeout') && data.timeout === undefined) out.timeoutSeconds = md.timeoutSeconds;
      if (defined.has('packages') && data.packages === undefined) out.packages = md.packages as unknown as Record<string, unknown>;
      if (defined.has('for_hardware') && data.for_hardware === undefined) out.forHardware = md.forHardware;
      const fromYaml: ScriptFields = { ...out };
      fromYaml.scriptType = translateScriptType(md.scriptType) ?? out.scriptType;
      fromYaml.hardwareType = translateHardwareType(md.hardwareType) ?? out.hardwareType;
      fromYaml.parallel = translateParallel(md.parallel) ?? out.parallel;
      for (const key of YAML_COMPARED) {
        if (!defined.has(key)) continue;
        const wanted = yamlValue(md, key, fromYaml);
        if (wanted === undefined) continue;
        const sent = data[key];
        if (sent === undefined) {
          touched.add(key);
          assign(out, key, wanted);
        } else if (normalise(key, sent) !== wanted) {
          fail(key, 'May not override values defined in embedded YAML.');
        }
      }
    }
  }

  if (data.name !== undefined) {
    const problem = validateScriptName(data.name);
    if (problem) fail('name', problem);
    else out.name = data.name;
  }
  if (data.title !== undefined) out.title = data.title;
  if (data.description !== undefined) out.description = data.description;
  if (data.tags !== undefined) {
    const tags = data.tags.split(',').map((t) => t.trim()).filter((t) => t !== '');
    out.tags = [...new Set(tags)];
  }
  for (const [key, translateFn, message, prop] of [
    ['script_type', translateScriptType, SCRIPT_TYPE_ERROR, 'scriptType'],
    ['hardware_type', translateHardwareType, HARDWARE_TYPE_ERROR, 'hardwareType'],
    ['parallel', translateParallel, PARALLEL_ERROR, 'parallel'],
  ] as const) {
    const v = data[key];
    if (v === undefined || v === '') continue;
    const code = translateFn(v);
    if (code === undefined) fail(key, message);
    else out[prop] = code;
  }
  if (data.timeout !== undefined && data.timeout !== '') {
    const seconds = parseTimeout(data.timeout);
    if (seconds === undefined) fail('timeout', 'Enter a valid duration.');
    else out.timeoutSeconds = seconds;
  }
  for (const [key, prop] of Object.entries(BOOLEAN_FIELDS) as [keyof typeof BOOLEAN_FIELDS, (typeof BOOLEAN_FIELDS)[keyof typeof BOOLEAN_FIELDS]][]) {
    const v = data[key];
    if (v === undefined) continue;
    const b = v === '' ? false : parseBool(v);
    if (b === undefined) fail(key, 'Must be a boolean (true or false).');
    else out[prop] = b;
  }
  if (data.for_hardware !== undefined && data.for_hardware !== '') {
    const list = parseForHardware(data.for_hardware);
    if (!list) fail('for_hardware', 'Must be a list or string');
    else {
      const bad = list.filter((hw) => !FOR_HARDWARE.test(hw));
      for (const hw of bad) {
        fail(
          'for_hardware',
          `Hardware identifier '${hw}' must be a modalias, PCI ID, USB ID, system vendor, system product, system version, mainboard vendor, or mainboard product.`,
        );
      }
      if (!bad.length) out.forHardware = list;
    }
  }
  if (data.packages !== undefined && data.packages !== '') {
    const packages = parsePackages(data.packages);
    if (typeof packages === 'string') fail('packages', packages);
    else out.packages = packages;
  }

  if (!out.name && !errors.name) fail('name', 'This field is required.');
  if (existing?.isDefault) {
    for (const field of touched) {
      if (field !== 'tags' && field !== 'timeout') fail(field, 'Not allowed to change on default scripts.');
    }
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  const result: ScriptFormResult = { ok: true, fields: out, comment: input.fields.comment ?? '' };
  if (text !== undefined) result.text = text;
  return result;
}

function assign(out: ScriptFields, key: (typeof YAML_COMPARED)[number], value: string | number | boolean): void {
  switch (key) {
    case 'name':
    case 'title':
    case 'description':
      out[key] = String(value);
      return;
    case 'script_type':
      out.scriptType = Number(value);
      return;
    case 'hardware_type':
      out.hardwareType = Number(value);
      return;
    case 'parallel':
      out.parallel = Number(value);
      return;
    default:
      out[BOOLEAN_FIELDS[key]] = Boolean(value);
  }
}

/** A request value in the YAML's terms; undefined when it cannot be read (it then differs). */
function normalise(key: (typeof YAML_COMPARED)[number], sent: string): string | number | boolean | undefined {
  switch (key) {
    case 'script_type':
      return translateScriptType(sent);
    case 'hardware_type':
      return translateHardwareType(sent);
    case 'parallel':
      return translateParallel(sent);
    case 'name':
    case 'title':
    case 'description':
      return sent;
    default:
      return parseBool(sent);
  }
}

/** for_hardware as MAAS takes it: a JSON list, or a comma-separated string. */
function parseForHardware(raw: string): string[] | undefined {
  let v: unknown = raw;
  try {
    v = JSON.parse(raw);
  } catch {
    // a plain string
  }
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

/** packages as MAAS takes it: a JSON object of apt/snap/url lists (a single value becomes a list). */
function parsePackages(raw: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return 'packages must be a JSON object.';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'packages must be a JSON object.';
  const packages = { ...(v as Record<string, unknown>) };
  for (const key of ['apt', 'snap', 'url']) {
    if (key in packages && !Array.isArray(packages[key])) packages[key] = [packages[key]];
  }
  for (const key of ['apt', 'url']) {
    if (key in packages && !(packages[key] as unknown[]).every((p) => typeof p === 'string')) return `Each ${key} package must be a string.`;
  }
  for (const p of (packages.snap as unknown[] | undefined) ?? []) {
    if (typeof p === 'string') continue;
    if (typeof p !== 'object' || p === null || typeof (p as { name?: unknown }).name !== 'string') return 'Snap package name must be defined.';
  }
  return packages;
}
