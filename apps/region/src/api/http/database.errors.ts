/**
 * Postgres errors caused by a value in the request rather than by the region: the last line of
 * defence behind the API's own validation, so that such a request is a 400, never a 500.
 */
import { BadRequestError } from './http.errors';
import { sqlState } from '../../database/sql-state';
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

/** A 400 for a Postgres error caused by a request value, or null for any other error. */
export function badValueError(e: unknown): BadRequestError | null {
  const state = sqlState(e);
  const summary = state === undefined ? undefined : BAD_VALUE_STATES.get(state);
  if (summary === undefined) return null;
  const detail = (e as { message?: unknown }).message;
  return new BadRequestError(typeof detail === 'string' && detail ? `${summary} (${clip(detail, QUOTE_LIMIT)})` : summary);
}
