/**
 * Fuzzing every documented API action through HTTP against a real region: random strings, NULs,
 * huge and malformed numbers and long values for every parameter and URL placeholder of every
 * action listed by describe/ (the same registry that routes requests). The region must never
 * answer 500 and never hang.
 *
 * CI runs a short fixed-seed run. For a longer run, or to replay a failure:
 *   KILN_FUZZ_RUNS=5000 KILN_FUZZ_SEED=<seed> npx jest -c apps/region/jest.config.js api.fuzz.medium
 * (fast-check prints the seed and the path of a failing run).
 */
import fc from 'fast-check';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const RUNS = Number(process.env.KILN_FUZZ_RUNS ?? 400);
const SEED = Number(process.env.KILN_FUZZ_SEED ?? 20261204);
const REQUEST_TIMEOUT_MS = 10_000;

interface Action {
  handler: string;
  path: string;
  method: string;
  op: string | null;
  params: string[];
}

interface DescribedHandler {
  name: string;
  path: string;
  params: string[];
  actions: { name: string; method: string; op: string | null; doc: string }[];
}

/** Values that have broken request handling somewhere: the arbitrary mixes them with random text. */
const NASTY = [
  '',
  '\0',
  'a\0b',
  '-1',
  '0',
  '2147483648',
  '-2147483649',
  '9223372036854775808',
  '99999999999999999999',
  '1e23',
  '1e308',
  '-1e308',
  'NaN',
  'Infinity',
  '0x10',
  '9999999T',
  '1.5',
  '%',
  '%zz',
  'true',
  'none',
  '[]',
  '{}',
  'null',
  '../../etc/passwd',
  'amd64/generic',
  '52:54:00:00:00:01',
  '10.0.0.0/24',
  '::1',
  "'; DROP TABLE machines; --",
  '\u{1F600}',
  '\uFFFF',
  '\uD800',
  'x'.repeat(300),
  '9'.repeat(400),
];

const value = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.nat(20).map((n) => 'z'.repeat(n * 5000)) },
);

describe('API fuzz: never 500, never a hang', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let actions: Action[] = [];
  const known: Record<string, string[]> = {};

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('fuzzer', true);
    await h.createUser('someone', false);
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64/generic',
      mac_addresses: '52:54:00:f0:00:01',
      power_type: 'manual',
      deployed: 'true',
    });
    expect(created.status).toBe(200);
    const fabric = await h.call(admin, 'POST', `${API}/fabrics/`, { name: 'fuzz-fabric' });
    const subnet = await h.call(admin, 'POST', `${API}/subnets/`, { cidr: '10.77.0.0/24' });
    await h.call(admin, 'POST', `${API}/tags/`, { name: 'fuzz-tag' });
    Object.assign(known, {
      system_id: [(created.json() as { system_id: string }).system_id],
      id: [String((fabric.json() as { id: number }).id), String((subnet.json() as { id: number }).id), '1'],
      fabric_id: [String((fabric.json() as { id: number }).id), '0'],
      vid: ['0', 'untagged'],
      vlan_id: ['1'],
      name: ['fuzz-tag'],
      username: ['someone'],
    });
    const d = (await h.call(null, 'GET', `${API}/describe/`)).json() as { resources: { anon: DescribedHandler | null; auth: DescribedHandler | null }[] };
    for (const r of d.resources) {
      for (const handler of [r.auth, r.anon]) {
        if (!handler) continue;
        for (const a of handler.actions) {
          const params = [...a.doc.matchAll(/:param ([\w-]+):/g)].map((m) => m[1]);
          actions.push({ handler: handler.name, path: handler.path, method: a.method, op: a.op, params: [...new Set([...params, 'op'])] });
        }
      }
    }
    // Deleting the fuzzing user itself would only turn the rest of the run into 401s.
    actions = actions.filter((a) => !(a.handler === 'UserHandler' && a.method === 'DELETE'));
    expect(actions.length).toBeGreaterThan(50);
  });
  afterAll(() => h.stop());

  async function send(a: Action, placeholders: Record<string, string>, params: [string, string][], asJson: boolean, anonymous: boolean) {
    const path = a.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeSegment(placeholders[p] ?? 'x'));
    const query = new URLSearchParams();
    if (a.op) query.append('op', a.op);
    const headers: Record<string, string> = {};
    if (!anonymous) headers.authorization = RegionHarness.oauthHeader(admin);
    let body: string | undefined;
    if (a.method === 'GET' || a.method === 'DELETE') {
      for (const [k, v] of params) query.append(k, v);
    } else if (asJson) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(Object.fromEntries(params));
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const form = new URLSearchParams();
      for (const [k, v] of params) form.append(k, v);
      body = form.toString();
    }
    const qs = query.toString();
    const url = `${h.baseUrl}${path}${qs ? `?${qs}` : ''}`;
    const started = Date.now();
    const res = await fetch(url, { method: a.method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    return { status: res.status, text, ms: Date.now() - started, url: url.slice(0, 300) };
  }

  it('answers every action with random parameters without a 500 or a hang', async () => {
    const placeholder = (name: string) =>
      fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...(known[name] ?? ['x'])) }, { weight: 1, arbitrary: value });
    const request = fc.nat(actions.length - 1).chain((i) => {
      const a = actions[i];
      const names = a.path.match(/\{(\w+)\}/g)?.map((p) => p.slice(1, -1)) ?? [];
      return fc.record({
        action: fc.constant(a),
        placeholders: fc.record(Object.fromEntries(names.map((n) => [n, placeholder(n)]))) as fc.Arbitrary<Record<string, string>>,
        params: fc.array(
          fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...a.params) }, { weight: 1, arbitrary: value }), value),
          { maxLength: 6 },
        ),
        asJson: fc.boolean(),
        anonymous: fc.nat(4).map((n) => n === 0),
        keepOp: fc.nat(3).map((n) => n === 0),
      });
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ action, placeholders, params, asJson, anonymous, keepOp }) => {
        // Mostly the action's own op; sometimes a fuzzed one as well.
        const sent = await send(action, placeholders, params.filter(([k]) => k !== 'op' || keepOp), asJson, anonymous);
        if (sent.status >= 500 && sent.status !== 503) {
          throw new Error(`${action.method} ${sent.url} -> ${sent.status}: ${sent.text.slice(0, 300)}`);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 240_000);
});

/** Percent-encodes every byte of the UTF-8 form of `s` but unreserved ones (lone surrogates become U+FFFD). */
function encodeSegment(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9._~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
