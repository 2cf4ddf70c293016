import { badValueError } from './database.errors';
import { HttpError } from './http.errors';
import { checkRequestValues, clipErrorBody, integerInRange } from './param.limits';
import { RequestParams } from './params';

function refusal(params: Record<string, string>, path: Record<string, string> = {}): unknown {
  try {
    checkRequestValues(RequestParams.from(params), path);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    return { status: (e as HttpError).status, body: (e as HttpError).body };
  }
}

describe('request value checks', () => {
  it('refuses a NUL in a value, a name or a URL segment, naming the field', () => {
    expect(refusal({ description: 'a\0' })).toEqual({ status: 400, body: { description: ['Null characters are not allowed.'] } });
    expect(refusal({ 'k\0': 'v' })).toEqual({ status: 400, body: { 'k\0': ['Null characters are not allowed.'] } });
    expect(refusal({}, { system_id: '\0' })).toEqual({ status: 400, body: { system_id: ['Null characters are not allowed.'] } });
  });

  it('refuses integers outside their column, in every numeric spelling', () => {
    expect(refusal({ before: '99999999999999999999' })).toEqual({ status: 400, body: { before: ['Ensure this value is less than or equal to 9223372036854775807.'] } });
    expect(refusal({ before: '9223372036854775807' })).toBeNull();
    expect(refusal({}, { id: '2147483648' })).toEqual({ status: 400, body: { id: ['Ensure this value is less than or equal to 2147483647.'] } });
    expect(refusal({}, { id: '-2147483649' })).toEqual({ status: 400, body: { id: ['Ensure this value is greater than or equal to -2147483648.'] } });
    expect(refusal({ mem: '1e20' })).toMatchObject({ status: 400 });
    expect(refusal({ rdns_mode: '32768' })).toMatchObject({ status: 400 });
    expect(refusal({ cpu_count: '2147483647', id: 'abc', vid: 'untagged' })).toBeNull();
    expect(refusal({ description: '99999999999999999999' })).toBeNull();
  });

  it('compares integers exactly', () => {
    expect(integerInRange('2147483647', 2147483647n)).toBe(true);
    expect(integerInRange(' 2147483648 ', 2147483647n)).toBe(false);
    expect(integerInRange('2.1e9', 2147483647n)).toBe(true);
    expect(integerInRange('1e400', 2147483647n)).toBe(false);
  });

  it('cuts long quoted values to 100 characters and leaves short bodies alone', () => {
    const long = 'y'.repeat(1000);
    const params = RequestParams.from({ hostname: long });
    expect(clipErrorBody({ hostname: [`Invalid hostname: '${long}'.`] }, params)).toEqual({ hostname: [`Invalid hostname: '${'y'.repeat(100)}...'.`] });
    const short = { hostname: ['Invalid hostname.'] };
    expect(clipErrorBody(short, params)).toBe(short);
    expect((clipErrorBody('z'.repeat(5000)) as string).length).toBe(403);
  });

  it('turns Postgres value errors (not others) into 400s', () => {
    expect(badValueError({ code: '22003', message: 'integer out of range' })).toMatchObject({ status: 400, body: 'A numeric value is out of range. (integer out of range)' });
    expect(badValueError({ driverError: { code: '22021' }, message: 'invalid byte sequence' })).toMatchObject({ status: 400 });
    expect(badValueError({ code: '23505' })).toBeNull();
    expect(badValueError(new Error('boom'))).toBeNull();
  });
});
