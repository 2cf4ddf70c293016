/**
 * Postgres errors caused by a value in the request rather than by the region: the last line of
 * defence behind the API's own validation, so that such a request is a 400, never a 500.
 * Framework-free: recognises the SQLSTATE on the error or on its `driverError` (TypeORM).
 */
import { BadRequestError } from './http.errors';
import { clip, QUOTE_LIMIT } from './param.limits';

/** SQLSTATEs that name a bad input value (class 22 data exceptions; 54000 value too large to index). */
const BAD_VALUE_STATES: ReadonlyMap<string, string> = new Map([
  ['22003', 'A numeric value is out of range.'],
  ['22P02', 'A value has the wrong form.'],
  ['22021', 'A value holds characters that cannot be stored.'],
  ['22001', 'A value is too long.'],
  ['22007', 'A date or time has the wrong form.'],
  ['22008', 'A date or time is out of range.'],
  ['2201E', 'A numeric value is out of range.'],
  ['22023', 'A value is invalid.'],
  ['54000', 'A value is too large.'],
]);

/** Transient conflicts between concurrent transactions: the work may simply be tried again. */
export const RETRYABLE_STATES: ReadonlySet<string> = new Set(['40P01', '40001']);

/** The SQLSTATE of a Postgres error (directly or wrapped by TypeORM), or undefined. */
export function sqlState(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const own = (e as { code?: unknown }).code;
  if (typeof own === 'string' && /^[0-9A-Z]{5}$/.test(own)) return own;
  const inner = (e as { driverError?: unknown }).driverError;
  return inner === e ? undefined : sqlState(inner);
}

/** A 400 for a Postgres error caused by a request value, or null for any other error. */
export function badValueError(e: unknown): BadRequestError | null {
  const state = sqlState(e);
  const summary = state === undefined ? undefined : BAD_VALUE_STATES.get(state);
  if (summary === undefined) return null;
  const detail = (e as { message?: unknown }).message;
  return new BadRequestError(typeof detail === 'string' && detail ? `${summary} (${clip(detail, QUOTE_LIMIT)})` : summary);
}
