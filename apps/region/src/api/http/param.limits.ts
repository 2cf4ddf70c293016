/**
 * Checks every API request gets before a handler sees it, so that a value Postgres cannot store or
 * compare is a 400 naming the field instead of a failed query:
 * - no NUL character in a parameter name or value, or in a URL segment (Postgres text refuses it);
 * - integer parameters and ids within the range of the column they reach (int2, int4 or int8).
 * And the reverse direction: an error never quotes a huge request value back to the client.
 *
 * Pure and framework-free; failures are BadRequestError with MAAS's form-error body
 * (`{"field": ["message"]}`).
 */
import { BadRequestError, HttpErrorBody } from './http.errors';
import { RequestParams } from './params';

const INT2_MAX = 32767n;
const INT4_MAX = 2147483647n;
const INT8_MAX = 9223372036854775807n;

/**
 * Parameters and URL placeholders that hold integers, by the type of the column they reach. A
 * parameter not named here that reaches an integer column is validated by its handler.
 */
export const INTEGER_FIELDS: ReadonlyMap<string, bigint> = new Map<string, bigint>([
  // smallint
  ['rdns_mode', INT2_MAX],
  // integer: machine facts and filters, networking ids and numbers, URL ids
  ['cpu_count', INT4_MAX],
  ['cpu_speed', INT4_MAX],
  ['mem', INT4_MAX],
  ['mtu', INT4_MAX],
  ['vid', INT4_MAX],
  ['relay_vlan', INT4_MAX],
  ['vlan', INT4_MAX],
  ['subnet', INT4_MAX],
  ['fabric', INT4_MAX],
  ['ttl', INT4_MAX],
  ['id', INT4_MAX],
  ['fabric_id', INT4_MAX],
  ['vlan_id', INT4_MAX],
  // bigint: event ids
  ['before', INT8_MAX],
  ['after', INT8_MAX],
]);

/** How much of a request value an error message may quote. */
export const QUOTE_LIMIT = 100;
/** The longest single message an error body carries. */
export const MESSAGE_LIMIT = 400;

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
const PLAIN_INTEGER = /^\s*[+-]?\d+\s*$/;

/** Django's ProhibitNullCharactersValidator message. */
export const NUL_MESSAGE = 'Null characters are not allowed.';

/**
 * Throws a 400 naming the first field that holds a NUL character or an integer out of its
 * column's range. `pathParams` are the URL placeholders (`system_id`, `id`, ...).
 */
export function checkRequestValues(params: RequestParams, pathParams: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(pathParams)) {
    if (value.includes('\0')) throw fieldError(name, NUL_MESSAGE);
    checkInteger(name, value);
  }
  for (const [name, values] of params.entries()) {
    if (name.includes('\0')) throw fieldError(name, NUL_MESSAGE);
    for (const value of values) {
      if (value.includes('\0')) throw fieldError(name, NUL_MESSAGE);
      checkInteger(name, value);
    }
  }
}

function checkInteger(name: string, value: string): void {
  const max = INTEGER_FIELDS.get(name);
  if (max === undefined || !NUMERIC.test(value)) return;
  if (!integerInRange(value, max)) {
    const negative = value.trim().startsWith('-');
    throw fieldError(
      name,
      negative ? `Ensure this value is greater than or equal to ${-max - 1n}.` : `Ensure this value is less than or equal to ${max}.`,
    );
  }
}

/** Whether the numeric text `value` lies within [-max-1, max]. */
export function integerInRange(value: string, max: bigint): boolean {
  if (PLAIN_INTEGER.test(value)) {
    const n = BigInt(value.trim());
    return n <= max && n >= -max - 1n;
  }
  const n = Number(value);
  return Number.isFinite(n) && Math.abs(n) <= Number(max);
}

function fieldError(name: string, message: string): BadRequestError {
  return new BadRequestError({ [clip(name, QUOTE_LIMIT)]: [message] });
}

/** `s`, or its first `max` characters and an ellipsis. */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/**
 * An error body fit to send back: each request value longer than QUOTE_LIMIT that the body quotes
 * is cut to QUOTE_LIMIT characters, and no message (or field name) is longer than MESSAGE_LIMIT.
 * Bodies without long strings come back unchanged (the same object).
 */
export function clipErrorBody(body: HttpErrorBody, params?: RequestParams, pathParams?: Readonly<Record<string, string>>): HttpErrorBody {
  if (!hasLongString(body)) return body;
  const long = new Set<string>();
  for (const [, values] of params?.entries() ?? []) for (const v of values) if (v.length > QUOTE_LIMIT) long.add(v);
  for (const [name] of params?.entries() ?? []) if (name.length > QUOTE_LIMIT) long.add(name);
  for (const v of Object.values(pathParams ?? {})) if (v.length > QUOTE_LIMIT) long.add(v);
  // Longest first, so a value that contains another is replaced whole.
  const quoted = [...long].sort((a, b) => b.length - a.length);
  const text = (s: string): string => {
    let out = s;
    if (out.length > QUOTE_LIMIT) for (const v of quoted) if (out.includes(v)) out = out.split(v).join(clip(v, QUOTE_LIMIT));
    return clip(out, MESSAGE_LIMIT);
  };
  return mapStrings(body, text) as HttpErrorBody;
}

function hasLongString(value: unknown): boolean {
  if (typeof value === 'string') return value.length > QUOTE_LIMIT;
  if (Array.isArray(value)) return value.some(hasLongString);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.length > QUOTE_LIMIT || hasLongString(v));
  }
  return false;
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[f(k)] = mapStrings(v, f);
    return out;
  }
  return value;
}
