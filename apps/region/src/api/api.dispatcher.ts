import { Injectable } from '@nestjs/common';
import { bindLogContext, log } from '../logging/logger';
import { ApiRegistry } from './api.registry';
import { API_PREFIX, ApiRequest, ApiResponse, JsonChunks, RawJson } from './api.types';
import { OAuthAuthenticator } from './auth/oauth.authenticator';
import { DEFAULT_BODY_LIMIT, parseBody, parseQueryString } from './http/body.parser';
import { badValueError } from './http/database.errors';
import { domainErrorToHttp } from './http/domain-error.mapper';
import { DomainError } from '../common/domain.error';
import { BadRequestError, HttpError, UnauthorizedError } from './http/http.errors';
import { formatHttpDate } from './http/maas-time';
import { checkRequestValues, clip, clipErrorBody, QUOTE_LIMIT } from './http/param.limits';
import { RequestParams } from './http/params';

/**
 * The most an anonymous request may send. MAAS's only anonymous POSTs are enlistment and login,
 * both a few hundred bytes; anything larger is refused before it is read.
 */
export const ANONYMOUS_BODY_LIMIT = 64 * 1024;
/** The most an authenticated request may send (commissioning output, user data). */
export const AUTHENTICATED_BODY_LIMIT = DEFAULT_BODY_LIMIT;

/** Reads the request body, failing with a 413 once it exceeds `limit` bytes. */
export type BodyReader = (limit: number) => Promise<Buffer>;

/** What a request has told us so far, for the error answer. */
interface RequestContext {
  params?: RequestParams;
  pathParams?: Record<string, string>;
}

export interface RawRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * The body, or a reader for it: a reader is called only once the caller is authenticated (or
   * the route admits anonymous callers), with the limit that applies to that caller.
   */
  body: Buffer | BodyReader;
  origin: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer | Buffer[];
}

/**
 * Turns an HTTP request into a call of one registered API action, the way MAAS's piston layer
 * does: resource by path, action by (method, op), op from the query, the body or an /op-<name>
 * suffix, OAuth from the Authorization header, and MAAS's status codes and bodies for failures.
 */
@Injectable()
export class ApiDispatcher {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly oauth: OAuthAuthenticator,
  ) {}

  async dispatch(raw: RawRequest): Promise<RawResponse> {
    const context: RequestContext = {};
    try {
      return await this.route(raw, context);
    } catch (e) {
      return this.errorResponse(e, context);
    }
  }

  private async route(raw: RawRequest, context: RequestContext): Promise<RawResponse> {
    const path = raw.path;
    if (path === '/MAAS/api/version' || path === '/MAAS/api/version/') {
      return text(200, '2.0');
    }
    if (/^\/MAAS\/api\/1\.0(\/|$)/.test(path)) {
      return text(410, 'The 1.0 API is no longer available. Please use API version 2.0.');
    }
    if (!path.startsWith(API_PREFIX) && `${path}/` !== API_PREFIX) {
      return text(404, `Unknown API endpoint: ${path}.`);
    }

    let routePath = path;
    let suffixOp: string | null = null;
    const suffix = /^(.*\/)op-([A-Za-z0-9_-]+)\/?$/.exec(path);
    if (suffix) {
      routePath = suffix[1];
      suffixOp = suffix[2].replace(/-/g, '_');
    }
    const match = matchRoute(this.registry, routePath);
    if (!match) return text(404, `Unknown API endpoint: ${path}.`);

    const method = raw.method.toUpperCase();
    const query = parseQueryString(raw.query);
    context.params = query;
    context.pathParams = match.pathParams;

    // Authenticate from the header before the body is read, so that an unauthenticated caller
    // cannot make the region buffer a large body. An HMAC-SHA1 signature also covers a
    // form-encoded body: that body is read only once the request names a real token.
    const contentType = header(raw.headers, 'content-type');
    let bodyBytes: Buffer | null = null;
    const readBody = async (limit: number): Promise<Buffer> => (bodyBytes ??= Buffer.isBuffer(raw.body) ? raw.body : await raw.body(limit));
    const isForm = (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
    const signedBody = () => (isForm && method !== 'GET' && method !== 'HEAD' ? readBody(AUTHENTICATED_BODY_LIMIT) : Promise.resolve(Buffer.alloc(0)));
    const user = await this.oauth.authenticate(header(raw.headers, 'authorization'), {
      method,
      origin: raw.origin,
      path: raw.path,
      query: raw.query,
      contentType,
      body: signedBody,
    });
    if (user) bindLogContext({ user: user.username });
    if (!user && !match.anon) {
      throw new UnauthorizedError('Authorization Error: Anonymous access is not allowed for this request.');
    }

    let body = new RequestParams();
    if (method !== 'GET' && method !== 'HEAD') {
      const limit = user ? AUTHENTICATED_BODY_LIMIT : ANONYMOUS_BODY_LIMIT;
      const bytes = await readBody(limit);
      body = parseBody(contentType, bytes, limit);
    }
    const params = RequestParams.merge(query, body);
    context.params = params;
    checkRequestValues(params, match.pathParams);
    // As MAAS reads it (`GET.get("op") or POST.get("op")`): an empty op is no op, so `POST devices/?op=`
    // (what Juju's gomaasapi sends for a create) is the collection's create.
    const op = query.get('op') || body.get('op') || suffixOp || null;

    const handler = user ? (match.auth ?? match.anon) : match.anon;
    const lookupMethod = method === 'HEAD' ? 'GET' : method;
    let action = ApiRegistry.findAction(handler, lookupMethod, op);
    if (!action && !user && match.auth && ApiRegistry.findAction(match.auth, lookupMethod, op)) {
      throw new UnauthorizedError('Authorization Error: Anonymous access is not allowed for this request.');
    }
    if (!action && user && match.anon && !match.auth) {
      action = ApiRegistry.findAction(match.anon, lookupMethod, op);
    }
    if (!action) {
      if (!handler && !user) {
        throw new UnauthorizedError('Authorization Error: Anonymous access is not allowed for this request.');
      }
      if (op === null) {
        const allowed = [...new Set((handler?.actions ?? []).filter((a) => a.op === null).map((a) => a.method))];
        return {
          status: 405,
          headers: { 'content-type': 'text/plain; charset=utf-8', allow: allowed.join(', '), ...this.apiHeaders() },
          body: `Method ${method} is not allowed on ${path}.`,
        };
      }
      return text(400, `Unrecognised signature: method=${method} op=${clip(op, QUOTE_LIMIT)}`, this.apiHeaders());
    }
    if (action.permission === 'admin' && !user?.isAdmin) {
      await handler?.ensureExists?.(match.pathParams);
      return text(403, 'You do not have permission to perform this action.', this.apiHeaders());
    }

    const req: ApiRequest = { method, path, params, pathParams: match.pathParams, user, origin: raw.origin };
    const result = await action.run(req);
    return this.successResponse(result);
  }

  private successResponse(result: unknown): RawResponse {
    const headers = this.apiHeaders();
    if (result instanceof ApiResponse) {
      let body: string | Buffer | Buffer[] = '';
      if (result.body instanceof JsonChunks) body = result.body.chunks;
      else if (result.body instanceof RawJson) body = result.body.json;
      else if (Buffer.isBuffer(result.body)) body = result.body;
      else if (typeof result.body === 'string' && !result.contentType.startsWith('application/json')) body = result.body;
      else if (result.body !== undefined) body = JSON.stringify(result.body);
      if (result.contentType) headers['content-type'] = result.contentType;
      return { status: result.status, headers: { ...headers, ...result.headers }, body };
    }
    headers['content-type'] = 'application/json; charset=utf-8';
    return { status: 200, headers, body: JSON.stringify(result ?? null) };
  }

  private errorResponse(e: unknown, context: RequestContext): RawResponse {
    const headers: Record<string, string> = { ...this.apiHeaders(), date: formatHttpDate(new Date()) };
    const known = e instanceof HttpError ? e : e instanceof DomainError ? domainErrorToHttp(e) : badValueError(e);
    if (known) {
      if (!(e instanceof HttpError) && !(e instanceof DomainError)) log().warn({ err: e }, 'request value refused by the database');
      Object.assign(headers, known.headers ?? {});
      const body = clipErrorBody(known.body, context.params, context.pathParams);
      if (typeof body === 'string') {
        headers['content-type'] = 'text/plain; charset=utf-8';
        return { status: known.status, headers, body };
      }
      headers['content-type'] = 'application/json; charset=utf-8';
      return { status: known.status, headers, body: JSON.stringify(body) };
    }
    // Never a stack trace in a body: log it, answer plainly.
    log().error({ err: e }, 'unhandled error in API request');
    headers['content-type'] = 'text/plain; charset=utf-8';
    return { status: 500, headers, body: 'Internal server error; the region log has the details.' };
  }

  private apiHeaders(): Record<string, string> {
    return { 'x-maas-api-hash': this.registry.apiHash() };
  }
}

/** The registry's match; a URL segment with a malformed %-escape is a 400, not an exception. */
function matchRoute(registry: ApiRegistry, path: string) {
  try {
    return registry.match(path);
  } catch (e) {
    if (e instanceof URIError) throw new BadRequestError(`Invalid percent-encoding in URL: ${clip(path, QUOTE_LIMIT)}`);
    throw e;
  }
}

function header(headers: RawRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function text(status: number, body: string, extra: Record<string, string> = {}): RawResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...extra }, body };
}
