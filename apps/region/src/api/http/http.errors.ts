/**
 * HTTP errors raised by the API layer's request parsing and handlers.
 *
 * Framework-free: the transport adapter (NestJS filter, plain `http` server,
 * tests) turns an `HttpError` into a response with `status`, the headers of
 * `headers`, `contentType` and `renderBody()`.
 *
 * MAAS answers most errors as plain text (`text/plain; charset=utf-8`); form
 * validation errors are JSON objects (`{"field": ["msg"]}`) or JSON lists of
 * strings, so an object or array body is rendered as JSON.
 */

export type HttpErrorBody = string | object;

export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export class HttpError extends Error {
  readonly status: number;
  readonly body: HttpErrorBody;
  readonly headers?: Readonly<Record<string, string>>;

  constructor(status: number, body: HttpErrorBody = '', headers?: Record<string, string>) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
    this.name = new.target.name;
    this.status = status;
    this.body = body;
    if (headers !== undefined) this.headers = { ...headers };
  }

  /** `text/plain; charset=utf-8` for string bodies, `application/json; charset=utf-8` otherwise. */
  get contentType(): string {
    return typeof this.body === 'string' ? TEXT_CONTENT_TYPE : JSON_CONTENT_TYPE;
  }

  /** The response body as sent on the wire. */
  renderBody(): string {
    return typeof this.body === 'string' ? this.body : JSON.stringify(this.body);
  }
}

export function isHttpError(value: unknown): value is HttpError {
  return value instanceof HttpError;
}

/** 400: malformed request, validation errors (string, field-error object or list of messages). */
export class BadRequestError extends HttpError {
  constructor(body: HttpErrorBody = '', headers?: Record<string, string>) {
    super(400, body, headers);
  }
}

/**
 * 401. OAuth failures in MAAS carry `WWW-Authenticate: OAuth realm="OAuth"`,
 * so that header is the default; pass `headers` to replace it.
 */
export class UnauthorizedError extends HttpError {
  static readonly DEFAULT_HEADERS: Readonly<Record<string, string>> = { 'WWW-Authenticate': 'OAuth realm="OAuth"' };

  constructor(body: HttpErrorBody = '', headers: Record<string, string> = { ...UnauthorizedError.DEFAULT_HEADERS }) {
    super(401, body, headers);
  }
}

/** 403: permission denied (MAAS often sends an empty body). */
export class ForbiddenError extends HttpError {
  constructor(body: HttpErrorBody = '', headers?: Record<string, string>) {
    super(403, body, headers);
  }
}

/** 404: e.g. "No Machine matches the given query." */
export class NotFoundError extends HttpError {
  constructor(body: HttpErrorBody = '', headers?: Record<string, string>) {
    super(404, body, headers);
  }
}

/** 409: node state violations, no machine matching allocation constraints. */
export class ConflictError extends HttpError {
  constructor(body: HttpErrorBody = '', headers?: Record<string, string>) {
    super(409, body, headers);
  }
}

/** 410: endpoint removed. */
export class GoneError extends HttpError {
  constructor(body: HttpErrorBody = '', headers?: Record<string, string>) {
    super(410, body, headers);
  }
}

/** 413: request body larger than the configured limit. */
export class PayloadTooLargeError extends HttpError {
  readonly limit?: number;

  constructor(limit?: number, body?: HttpErrorBody, headers?: Record<string, string>) {
    super(413, body ?? (limit === undefined ? 'Request body too large.' : `Request body exceeds the limit of ${limit} bytes.`), headers);
    if (limit !== undefined) this.limit = limit;
  }
}

/** MAAS sends `Retry-After: 10` with its 503 answers (maasserver middleware). */
export const DEFAULT_RETRY_AFTER_SECONDS = 10;

/** 503: IP exhaustion, rack controller unreachable, power problems. Always carries `Retry-After`. */
export class ServiceUnavailableError extends HttpError {
  constructor(body: HttpErrorBody = '', retryAfterSeconds: number = DEFAULT_RETRY_AFTER_SECONDS, headers?: Record<string, string>) {
    super(503, body, { 'Retry-After': String(retryAfterSeconds), ...headers });
  }
}
