import { DomainError } from '../../common/domain.error';
import { BadRequestError, ConflictError, ForbiddenError, GoneError, HttpError, NotFoundError, ServiceUnavailableError } from './http.errors';

/**
 * The one place a service's coded error becomes MAAS's HTTP answer. Exhaustive: a new code does
 * not compile until it has an answer here.
 */
export function domainErrorToHttp(e: DomainError): HttpError {
  const body = e.detail as string | object;
  switch (e.code) {
    case 'NOT_FOUND':
      return new NotFoundError(body);
    case 'FORBIDDEN':
      return new ForbiddenError(body);
    case 'CONFLICT':
      return new ConflictError(body);
    case 'INVALID':
      return new BadRequestError(body);
    case 'UNAVAILABLE':
      return new ServiceUnavailableError(body, e.retryAfterSeconds);
    case 'GONE':
      return new GoneError(body);
    case 'TIMEOUT':
      return new HttpError(504, body);
    default: {
      const never: never = e.code;
      throw new Error(`unmapped domain error code ${String(never)}`);
    }
  }
}
