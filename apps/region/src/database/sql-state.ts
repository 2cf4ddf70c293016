/** Postgres SQLSTATE codes as the region reads them off errors (pg's, or TypeORM's wrapper). */

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
