import { refusalToDomainError } from './lifecycle-refusal.mapper';

describe('refusalToDomainError', () => {
  it('turns each lifecycle refusal into the domain error MAAS answers it with', () => {
    const cases = [
      ['CONFLICT', 'CONFLICT', 'Cannot deploy: node is New.'],
      ['FORM_ERROR', 'INVALID', { __all__: ['Cannot deploy: node is New.'] }],
      ['FORBIDDEN', 'FORBIDDEN', 'Cannot deploy: node is New.'],
      ['UNCONFIGURED_POWER', 'CONFLICT', 'Cannot deploy: node is New.'],
      ['NOOP', 'CONFLICT', 'Cannot deploy: node is New.'],
    ] as const;
    for (const [refused, code, detail] of cases) {
      const e = refusalToDomainError({ ok: false, code: refused, message: 'Cannot deploy: node is New.' });
      expect([e.code, e.detail]).toEqual([code, detail]);
    }
  });
});
