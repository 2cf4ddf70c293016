/**
 * Errors that the region's services throw. A service speaks in codes, never in HTTP statuses:
 * one mapper per transport turns a code into that transport's answer (REST:
 * `api/http/domain-error.mapper.ts`; NATS replies and jobs carry the code itself).
 *
 * `detail` is what the caller is told: a sentence, a list of sentences, or MAAS-style field
 * errors (`{"hostname": ["..."]}`), which the REST mapper renders as a JSON body.
 */
export type DomainErrorCode =
  /** The thing named does not exist, or the caller may not know that it does. */
  | 'NOT_FOUND'
  /** The caller may see the thing but may not do this to it. */
  | 'FORBIDDEN'
  /** Not allowed in the thing's present state (a machine's status, a name already taken). */
  | 'CONFLICT'
  /** The input is malformed or fails validation. */
  | 'INVALID'
  /** Something the region depends on is unavailable for now (no rack, no free address); retry later. */
  | 'UNAVAILABLE'
  /** The thing existed once and is gone for good. */
  | 'GONE'
  /** Something the region asked on the caller's behalf (a BMC, through a rack) did not answer in time. */
  | 'TIMEOUT';

export type DomainErrorDetail = string | readonly string[] | Readonly<Record<string, readonly string[]>>;

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly detail: DomainErrorDetail;
  /** For UNAVAILABLE: how long the caller should wait before trying again. */
  readonly retryAfterSeconds?: number;

  constructor(code: DomainErrorCode, detail: DomainErrorDetail = '', options: { retryAfterSeconds?: number } = {}) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.name = 'DomainError';
    this.code = code;
    this.detail = detail;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const notFound = (detail: DomainErrorDetail = ''): DomainError => new DomainError('NOT_FOUND', detail);
export const forbidden = (detail: DomainErrorDetail = ''): DomainError => new DomainError('FORBIDDEN', detail);
export const conflict = (detail: DomainErrorDetail): DomainError => new DomainError('CONFLICT', detail);
export const invalid = (detail: DomainErrorDetail): DomainError => new DomainError('INVALID', detail);
export const unavailable = (detail: DomainErrorDetail, retryAfterSeconds?: number): DomainError =>
  new DomainError('UNAVAILABLE', detail, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
export const gone = (detail: DomainErrorDetail): DomainError => new DomainError('GONE', detail);
export const timedOut = (detail: DomainErrorDetail): DomainError => new DomainError('TIMEOUT', detail);

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
