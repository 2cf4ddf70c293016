import {
  BadRequestError,
  ConflictError,
  DEFAULT_RETRY_AFTER_SECONDS,
  ForbiddenError,
  GoneError,
  HttpError,
  isHttpError,
  JSON_CONTENT_TYPE,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  TEXT_CONTENT_TYPE,
  UnauthorizedError,
} from './http.errors';

describe('HttpError', () => {
  it.each([
    [new BadRequestError('x'), 400, 'BadRequestError'],
    [new UnauthorizedError('x'), 401, 'UnauthorizedError'],
    [new ForbiddenError('x'), 403, 'ForbiddenError'],
    [new NotFoundError('x'), 404, 'NotFoundError'],
    [new ConflictError('x'), 409, 'ConflictError'],
    [new GoneError('x'), 410, 'GoneError'],
    [new PayloadTooLargeError(10), 413, 'PayloadTooLargeError'],
    [new ServiceUnavailableError('x'), 503, 'ServiceUnavailableError'],
  ])('%p has status %p', (error, status, name) => {
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toBeInstanceOf(Error);
    expect(isHttpError(error)).toBe(true);
    expect(error.status).toBe(status);
    expect(error.name).toBe(name);
  });

  it('renders string bodies as plain text', () => {
    const error = new NotFoundError('No Machine matches the given query.');
    expect(error.body).toBe('No Machine matches the given query.');
    expect(error.message).toBe('No Machine matches the given query.');
    expect(error.contentType).toBe(TEXT_CONTENT_TYPE);
    expect(error.renderBody()).toBe('No Machine matches the given query.');
  });

  it('renders field errors and message lists as JSON', () => {
    const fields = new BadRequestError({ hostname: ['This field is required.'], __all__: ['Bad.'] });
    expect(fields.contentType).toBe(JSON_CONTENT_TYPE);
    expect(JSON.parse(fields.renderBody())).toEqual({ hostname: ['This field is required.'], __all__: ['Bad.'] });
    const list = new BadRequestError(['one', 'two']);
    expect(list.contentType).toBe(JSON_CONTENT_TYPE);
    expect(list.renderBody()).toBe('["one","two"]');
    expect(list.message).toBe('["one","two"]');
  });

  it('defaults to an empty body (403 is often empty in MAAS)', () => {
    const error = new ForbiddenError();
    expect(error.body).toBe('');
    expect(error.headers).toBeUndefined();
  });

  it('adds WWW-Authenticate to 401 by default, replaceable', () => {
    expect(new UnauthorizedError('x').headers).toEqual({ 'WWW-Authenticate': 'OAuth realm="OAuth"' });
    expect(new UnauthorizedError('x', {}).headers).toEqual({});
  });

  it('adds Retry-After to 503', () => {
    expect(new ServiceUnavailableError('busy').headers).toEqual({ 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) });
    expect(new ServiceUnavailableError('busy', 30, { 'X-A': 'b' }).headers).toEqual({ 'Retry-After': '30', 'X-A': 'b' });
  });

  it('describes the limit in 413', () => {
    const error = new PayloadTooLargeError(1024);
    expect(error.limit).toBe(1024);
    expect(error.body).toBe('Request body exceeds the limit of 1024 bytes.');
  });

  it('copies headers', () => {
    const headers = { A: '1' };
    const error = new HttpError(418, 'teapot', headers);
    headers.A = '2';
    expect(error.headers).toEqual({ A: '1' });
    expect(isHttpError(new Error('x'))).toBe(false);
  });
});
