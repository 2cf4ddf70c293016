/**
 * Property tests of request parsing: whatever bytes and headers a client sends, parsing gives
 * parameters or an HttpError (400/413), never another exception. KILN_FUZZ_RUNS for a longer run.
 */
import fc from 'fast-check';
import { parseBody, parseQueryString } from './body.parser';
import { HttpError } from './http.errors';
import { checkRequestValues, clipErrorBody, MESSAGE_LIMIT } from './param.limits';
import { RequestParams } from './params';

const RUNS = Number(process.env.KILN_FUZZ_RUNS ?? 2000);
const SEED = Number(process.env.KILN_FUZZ_SEED ?? 20261204);

function onlyHttpErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof HttpError) || (e.status !== 400 && e.status !== 413)) throw e;
  }
}

const contentType = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    'application/json',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/x-www-form-urlencoded; charset=nonsense',
    'multipart/form-data',
    'multipart/form-data; boundary=b',
    'multipart/form-data; boundary="a b"',
    'text/plain',
  ),
  fc.string({ maxLength: 60 }),
);

const multipart = fc
  .array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), fc.boolean()), { maxLength: 4 })
  .map((parts) =>
    Buffer.from(
      parts
        .map(([name, v, b64]) =>
          `--b\r\nContent-Disposition: form-data; name="${name}"\r\n${b64 ? 'Content-Transfer-Encoding: base64\r\n' : ''}\r\n${b64 ? Buffer.from(v).toString('base64') : v}\r\n`,
        )
        .join('') + '--b--\r\n',
    ),
  );

const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')),
  multipart,
);

describe('request parsing fuzz', () => {
  it('parseBody gives parameters or a 400/413 for any content type and bytes', () => {
    fc.assert(
      fc.property(contentType, body, (type, bytes) => onlyHttpErrors(() => parseBody(type, bytes))),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('parseQueryString gives parameters or a 400 for any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.webQueryParameters()), (qs) => onlyHttpErrors(() => parseQueryString(qs))),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('value checks give a 400 or nothing, and error bodies come back short', () => {
    const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('\0', '99999999999999999999', '-1e400', '1e23', 'x'.repeat(5000)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('id', 'before', 'cpu_count', 'rdns_mode', 'mem', 'description'), text), { maxLength: 5 }),
        fc.dictionary(fc.constantFrom('id', 'system_id', 'vid'), text),
        (pairs, path) => {
          const params = RequestParams.from(pairs);
          try {
            checkRequestValues(params, path);
          } catch (e) {
            if (!(e instanceof HttpError) || e.status !== 400) throw e;
          }
          const quoted = clipErrorBody({ field: [`Bad: '${pairs.map(([, v]) => v).join('')}'.`] }, params, path) as { field: string[] };
          expect(quoted.field[0].length).toBeLessThanOrEqual(MESSAGE_LIMIT + 3);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
