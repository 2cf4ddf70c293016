import { PowerError } from './power.errors';
import { FieldType, PowerField, PowerTypeDef } from './power.types';

/** Builds a settings field the way MAAS's make_setting_field does (password fields are secret). */
export function field(
  name: string,
  label: string,
  opts: Partial<Omit<PowerField, 'name' | 'label'>> = {},
): PowerField {
  const field_type: FieldType = opts.field_type ?? 'string';
  return {
    name,
    label,
    field_type,
    required: opts.required ?? false,
    scope: opts.scope ?? 'bmc',
    choices: opts.choices ?? [],
    default: opts.default ?? '',
    secret: opts.secret ?? field_type === 'password',
  };
}

const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;

/**
 * Checks parameters against a driver's fields. Returns the problems (empty when valid) and the
 * completed parameters (defaults filled in, unknown names dropped).
 */
export function checkParameters(
  def: PowerTypeDef,
  params: Readonly<Record<string, string>>,
): { problems: string[]; values: Record<string, string> } {
  const problems: string[] = [];
  const known = new Set(def.fields.map((f) => f.name));
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  if (unknown.length) problems.push(`Unknown parameter(s) for power type '${def.name}': ${unknown.sort().join(', ')}.`);
  const values: Record<string, string> = {};
  for (const f of def.fields) {
    const given = params[f.name];
    const v = given === undefined || given === null ? f.default : String(given);
    if (f.required && !v) problems.push(`${f.label} (${f.name}) is required.`);
    if (v && f.field_type === 'choice' && !f.choices.some(([c]) => c === v)) {
      problems.push(`${f.name}: "${v}" is not one of ${f.choices.map(([c]) => `"${c}"`).join(', ')}.`);
    }
    if (v && f.field_type === 'multiple_choice') {
      const bad = splitList(v).filter((x) => !f.choices.some(([c]) => c === x));
      if (bad.length) problems.push(`${f.name}: ${bad.map((b) => `"${b}"`).join(', ')} not among ${f.choices.map(([c]) => `"${c}"`).join(', ')}.`);
    }
    if (v && f.field_type === 'mac_address' && !MAC.test(v)) problems.push(`${f.name}: "${v}" is not a MAC address.`);
    values[f.name] = v;
  }
  return { problems, values };
}

/** For drivers: the completed parameters, or a fatal BAD_SETTINGS naming every problem. */
export function requireParameters(def: PowerTypeDef, params: Readonly<Record<string, string>>): Record<string, string> {
  const { problems, values } = checkParameters(def, withoutUnknown(def, params));
  if (problems.length) throw new PowerError('BAD_SETTINGS', `invalid ${def.name} power parameters: ${problems.join(' ')}`);
  return values;
}

/**
 * Racks ignore parameters they do not know (the region validated them when they were stored;
 * a newer region may send more), so only the region rejects unknown names.
 */
function withoutUnknown(def: PowerTypeDef, params: Readonly<Record<string, string>>): Record<string, string> {
  const known = new Set(def.fields.map((f) => f.name));
  return Object.fromEntries(Object.entries(params).filter(([k]) => known.has(k)));
}

/** A multiple_choice value: MAAS stores a list; power parameters travel as strings, comma-separated. */
export function splitList(v: string): string[] {
  return v
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

/** Host and optional port of `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address. */
export function splitHostPort(address: string): { host: string; port?: number } {
  const a = address.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(a);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : undefined };
  const parts = a.split(':');
  if (parts.length === 2 && /^\d+$/.test(parts[1])) return { host: parts[0], port: Number(parts[1]) };
  return { host: a };
}
