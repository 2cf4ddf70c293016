/**
 * Script parameter specs (reference maas-api.md §5.3): validation of the `parameters` mapping of
 * the embedded metadata, and the defaults MAAS applies. Specs keep MAAS's snake_case keys because
 * they travel unchanged into index.json (§4.6), where the runner reads them.
 */
import { ErrorSink } from './script-metadata.errors';

export const PARAMETER_TYPES = ['storage', 'interface', 'runtime', 'url', 'choice', 'string', 'password', 'boolean'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export interface ParameterChoice {
  value: string;
  label: string;
}

export interface ScriptParameterSpec {
  type: ParameterType;
  title?: string;
  description?: string;
  argument_format?: string;
  /** runtime: seconds; boolean: a bool; every other type: a string. */
  default?: string | number | boolean;
  required: boolean;
  min?: number;
  max?: number;
  /** `[value, label]` pairs; a plain string choice is its own label. */
  choices?: [string, string][];
  allow_list?: boolean;
}

const SPEC_KEYS = new Set([
  'type',
  'title',
  'description',
  'argument_format',
  'default',
  'required',
  'min',
  'max',
  'choices',
  'allow_list',
]);

/** Placeholders the runner renders, by parameter type (§5.3). */
export const ARGUMENT_PLACEHOLDERS: Readonly<Record<ParameterType, readonly string[]>> = {
  storage: ['input', 'name', 'path', 'model', 'serial'],
  // MAAS's server accepts {mac} although its runner only renders {mac_address}; Kiln's runner
  // renders both, so both are accepted.
  interface: ['input', 'name', 'mac', 'mac_address', 'vendor', 'product'],
  runtime: ['input'],
  url: ['input'],
  choice: ['input'],
  string: ['input'],
  password: ['input'],
  boolean: ['input'],
};

/** The argument format the runner uses when a spec gives none. */
export function defaultArgumentFormat(name: string, type: ParameterType): string {
  switch (type) {
    case 'storage':
      return '--storage={path}';
    case 'interface':
      return '--interface={name}';
    case 'runtime':
      return '--runtime={input}';
    default:
      return `--${name}={input}`;
  }
}

const NO_MIN_MAX: ReadonlySet<ParameterType> = new Set(['storage', 'interface', 'url', 'choice', 'boolean']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A bool as YAML or a form would give it. */
export function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(s)) return true;
    if (['false', 'no', 'off', '0'].includes(s)) return false;
  }
  return undefined;
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

export function parseParameters(raw: unknown, sink: ErrorSink): Record<string, ScriptParameterSpec> {
  const out: Record<string, ScriptParameterSpec> = {};
  if (raw === null || raw === undefined) return out;
  if (!isRecord(raw)) {
    sink.add('INVALID_VALUE', 'parameters', 'parameters must be a mapping of parameter name to spec.');
    return out;
  }
  for (const [name, spec] of Object.entries(raw)) {
    const parsed = parseParameter(name, spec, sink);
    if (parsed) out[name] = parsed;
  }
  return out;
}

function parseParameter(name: string, raw: unknown, sink: ErrorSink): ScriptParameterSpec | undefined {
  const at = (k: string) => `parameters.${name}.${k}`;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    sink.add('INVALID_VALUE', `parameters.${name}`, `Parameter name "${name}" may hold only letters, digits, "_" and "-".`);
  }
  if (!isRecord(raw)) {
    sink.add('INVALID_VALUE', `parameters.${name}`, `Parameter "${name}" must be a mapping.`);
    return undefined;
  }
  const before = sink.errors.length;
  for (const k of Object.keys(raw)) {
    if (!SPEC_KEYS.has(k)) sink.add('UNKNOWN_KEY', at(k), `Unknown parameter key "${k}".`);
  }
  const type = raw['type'];
  if (type === undefined) {
    sink.add('MISSING_VALUE', at('type'), `Parameter "${name}" must have a type.`);
    return undefined;
  }
  if (typeof type !== 'string' || !(PARAMETER_TYPES as readonly string[]).includes(type)) {
    sink.add('INVALID_VALUE', at('type'), `Invalid parameter type "${String(type)}"; one of ${PARAMETER_TYPES.join(', ')}.`);
    return undefined;
  }
  const t = type as ParameterType;
  const spec: ScriptParameterSpec = { type: t, required: t === 'storage' || t === 'interface' || t === 'runtime' };

  for (const k of ['title', 'description'] as const) {
    if (raw[k] === undefined) continue;
    if (typeof raw[k] !== 'string') sink.add('INVALID_VALUE', at(k), `${k} must be a string.`);
    else spec[k] = raw[k] as string;
  }

  if (raw['argument_format'] !== undefined) {
    const f = raw['argument_format'];
    if (typeof f !== 'string') {
      sink.add('INVALID_VALUE', at('argument_format'), 'argument_format must be a string.');
    } else {
      const allowed = ARGUMENT_PLACEHOLDERS[t];
      const used = [...f.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
      const unknown = used.filter((u) => !allowed.includes(u));
      if (unknown.length > 0) {
        sink.add('INVALID_VALUE', at('argument_format'), `Unknown placeholder(s) ${unknown.map((u) => `{${u}}`).join(', ')}; allowed: ${allowed.map((a) => `{${a}}`).join(', ')}.`);
      } else if (used.length === 0) {
        sink.add('INVALID_VALUE', at('argument_format'), `argument_format must contain one of ${allowed.map((a) => `{${a}}`).join(', ')}.`);
      } else {
        spec.argument_format = f;
      }
    }
  }

  if (raw['required'] !== undefined) {
    const b = toBool(raw['required']);
    if (b === undefined) sink.add('INVALID_VALUE', at('required'), 'required must be a boolean.');
    else spec.required = b;
  }

  for (const k of ['min', 'max'] as const) {
    if (raw[k] === undefined) continue;
    if (NO_MIN_MAX.has(t)) {
      sink.add('INVALID_VALUE', at(k), `${k} is not allowed for ${t} parameters.`);
      continue;
    }
    const n = toInt(raw[k]);
    if (n === undefined || n < 0) sink.add('INVALID_VALUE', at(k), `${k} must be a non-negative integer.`);
    else spec[k] = n;
  }
  if (spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
    sink.add('INVALID_VALUE', at('min'), 'min must not be greater than max.');
  }

  if (raw['choices'] !== undefined) {
    if (t !== 'choice') {
      sink.add('INVALID_VALUE', at('choices'), 'choices are only allowed for choice parameters.');
    } else {
      const c = raw['choices'];
      if (!Array.isArray(c) || c.length === 0) {
        sink.add('INVALID_VALUE', at('choices'), 'choices must be a non-empty list.');
      } else {
        const list: [string, string][] = [];
        c.forEach((item, i) => {
          if (typeof item === 'string' || typeof item === 'number') list.push([String(item), String(item)]);
          else if (Array.isArray(item) && item.length === 2 && item.every((x) => typeof x === 'string' || typeof x === 'number'))
            list.push([String(item[0]), String(item[1])]);
          else sink.add('INVALID_VALUE', `${at('choices')}.${i}`, 'Each choice must be a string or a [value, label] pair.');
        });
        spec.choices = list;
      }
    }
  } else if (t === 'choice') {
    sink.add('MISSING_VALUE', at('choices'), 'choice parameters must list their choices.');
  }

  if (raw['allow_list'] !== undefined) {
    const b = toBool(raw['allow_list']);
    if (t !== 'url') sink.add('INVALID_VALUE', at('allow_list'), 'allow_list is only allowed for url parameters.');
    else if (b === undefined) sink.add('INVALID_VALUE', at('allow_list'), 'allow_list must be a boolean.');
    else spec.allow_list = b;
  }

  if (raw['default'] !== undefined && raw['default'] !== null) {
    const d = raw['default'];
    if (t === 'runtime') {
      const n = toInt(d);
      if (n === undefined || n < 0) sink.add('INVALID_VALUE', at('default'), 'A runtime default must be a whole number of seconds.');
      else spec.default = n;
    } else if (t === 'boolean') {
      const b = toBool(d);
      if (b === undefined) sink.add('INVALID_VALUE', at('default'), 'A boolean default must be a boolean.');
      else spec.default = b;
    } else if (typeof d === 'string' || typeof d === 'number') {
      spec.default = String(d);
    } else {
      sink.add('INVALID_VALUE', at('default'), 'default must be a string.');
    }
    const dv = spec.default;
    if (dv !== undefined) {
      if (t === 'choice' && spec.choices && !spec.choices.some(([v]) => v === dv)) {
        sink.add('INVALID_VALUE', at('default'), `Default "${String(dv)}" is not one of the choices.`);
      }
      if ((t === 'string' || t === 'password') && typeof dv === 'string') {
        if (spec.min !== undefined && dv.length < spec.min) sink.add('INVALID_VALUE', at('default'), `Default is shorter than min (${spec.min}).`);
        if (spec.max !== undefined && dv.length > spec.max) sink.add('INVALID_VALUE', at('default'), `Default is longer than max (${spec.max}).`);
      }
      if (t === 'runtime' && typeof dv === 'number') {
        if (spec.min !== undefined && dv < spec.min) sink.add('INVALID_VALUE', at('default'), `Default is below min (${spec.min}).`);
        if (spec.max !== undefined && dv > spec.max) sink.add('INVALID_VALUE', at('default'), `Default is above max (${spec.max}).`);
      }
    }
  }
  return sink.errors.length === before ? spec : undefined;
}
