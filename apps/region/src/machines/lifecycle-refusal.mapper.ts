import type { Decision } from '@kiln/lifecycle';
import { conflict, DomainError, forbidden, invalid } from '../common/domain.error';

type Refusal = Extract<Decision, { ok: false }>;

/**
 * Lifecycle refusal codes -> the region's domain errors, which the REST mapper answers as MAAS
 * does (409 text, 400 `{"__all__": [...]}`, 403 text). One exhaustive mapper.
 */
export function refusalToDomainError(d: Refusal): DomainError {
  switch (d.code) {
    case 'CONFLICT':
      return conflict(d.message);
    case 'FORM_ERROR':
      return invalid({ __all__: [d.message] });
    case 'FORBIDDEN':
      return forbidden(d.message);
    case 'UNCONFIGURED_POWER':
      // MAAS answers 500 here; Kiln treats it as what it is, a state the operator must fix.
      return conflict(d.message);
    case 'NOOP':
      return conflict(d.message);
    default: {
      const never: never = d.code;
      throw new Error(`unmapped lifecycle refusal ${String(never)}`);
    }
  }
}
