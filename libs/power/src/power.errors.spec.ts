import { FATAL_CODES, POWER_ERROR_CODES, PowerError, RETRYABLE_CODES, isFatalCode, redact, tidyOutput } from './power.errors';

describe('power errors', () => {
  it('splits every code into fatal or retryable', () => {
    expect([...FATAL_CODES, ...RETRYABLE_CODES].sort()).toEqual([...POWER_ERROR_CODES].sort());
    expect(FATAL_CODES.every(isFatalCode)).toBe(true);
    expect(RETRYABLE_CODES.some(isFatalCode)).toBe(false);
    expect(new PowerError('BMC_AUTH', 'x').fatal).toBe(true);
    expect(new PowerError('BMC_TIMEOUT', 'x').fatal).toBe(false);
  });

  it('describes itself with the BMC’s own words', () => {
    const e = new PowerError('BMC_AUTH', 'the BMC refused the password', '10.0.0.5: password invalid');
    expect(e.describe()).toBe('the BMC refused the password (BMC said: 10.0.0.5: password invalid)');
    expect(e.withMessage('power on failed')).toMatchObject({ code: 'BMC_AUTH', bmcSays: '10.0.0.5: password invalid', message: 'power on failed' });
    expect(new PowerError('BMC_ERROR', 'plain').describe()).toBe('plain');
  });

  it('redacts secrets and tidies tool output', () => {
    expect(redact('login hunter2 failed for hunter2', ['hunter2', undefined, ''])).toBe('login ******** failed for ********');
    expect(redact('ab is short', ['ab'])).toBe('ab is short');
    expect(tidyOutput('Loading IANA PEN Registry...\n\n  Error: Unable to establish IPMI v2 / RMCP+ session\nGet HPM.x Capabilities request failed, compcode = d4\n')).toBe(
      'Error: Unable to establish IPMI v2 / RMCP+ session',
    );
    expect(tidyOutput('x'.repeat(1000), 10)).toHaveLength(10);
  });
});
