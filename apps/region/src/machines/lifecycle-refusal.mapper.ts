import type { Decision } from '@kiln/lifecycle';
import { BadRequestError, ConflictError, ForbiddenError, HttpError } from '../api/http/http.errors';

type Refusal = Extract<Decision, { ok: false }>;

/** Lifecycle refusal codes -> the HTTP answers MAAS gives. One exhaustive mapper for REST. */
export function refusalToHttp(d: Refusal): HttpError {
  switch (d.code) {
    case 'CONFLICT':
      return new ConflictError(d.message);
    case 'FORM_ERROR':
      return new BadRequestError({ __all__: [d.message] });
    case 'FORBIDDEN':
      return new ForbiddenError(d.message);
    case 'UNCONFIGURED_POWER':
      // MAAS answers 500 here; Kiln treats it as what it is, a state the operator must fix.
      return new ConflictError(d.message);
    case 'NOOP':
      return new ConflictError(d.message);
    default: {
      const never: never = d.code;
      throw new Error(`unmapped lifecycle refusal ${String(never)}`);
    }
  }
}
