import { parseResultYaml } from './result-yaml.parser';

describe('parseResultYaml', () => {
  it('reads status, results and link_connected', () => {
    const r = parseResultYaml('status: degraded\nresults:\n  read_iops: 1234\n  latency: 0.5\n  model: "WDC"\n  ok: true\n  temps: [40, 41.5]\nlink_connected: false\n');
    expect(r).toEqual({
      ok: true,
      value: { status: 'degraded', results: { read_iops: 1234, latency: 0.5, model: 'WDC', ok: true, temps: [40, 41.5] }, linkConnected: false, extra: {} },
    });
  });

  it.each(['passed', 'failed', 'degraded', 'timedout', 'skipped'])('accepts status %s', (s) => {
    expect(parseResultYaml(`status: ${s}\n`)).toEqual({ ok: true, value: { status: s, results: {}, extra: {} } });
  });

  it('reads link_connected as PyYAML does (yes/no/on/off are booleans)', () => {
    expect(parseResultYaml('link_connected: yes\n')).toEqual({ ok: true, value: { results: {}, linkConnected: true, extra: {} } });
    expect(parseResultYaml('link_connected: OFF\n')).toEqual({ ok: true, value: { results: {}, linkConnected: false, extra: {} } });
  });

  it('treats an empty file as no result, and keeps keys it does not interpret', () => {
    expect(parseResultYaml('')).toEqual({ ok: true, value: null });
    expect(parseResultYaml(Buffer.from('  \n'))).toEqual({ ok: true, value: null });
    expect(parseResultYaml('# only a comment\n')).toEqual({ ok: true, value: null });
    expect(parseResultYaml('status: passed\nnote: hello\n')).toEqual({ ok: true, value: { status: 'passed', results: {}, extra: { note: 'hello' } } });
  });

  it('refuses YAML that does not parse', () => {
    const r = parseResultYaml('status: [passed\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.code).toBe('INVALID_YAML');
  });

  it.each([
    ['- passed\n', 'NOT_A_MAPPING', undefined],
    ['just text\n', 'NOT_A_MAPPING', undefined],
    ['result: passed\nstatus: ok\n', 'INVALID_STATUS', 'status'],
    ['status: 1\n', 'INVALID_STATUS', 'status'],
    ['results: [1, 2]\n', 'INVALID_RESULTS', 'results'],
    ['results:\n  nested: {a: 1}\n', 'INVALID_RESULTS', 'results.nested'],
    ['results:\n  list: [[1]]\n', 'INVALID_RESULTS', 'results.list'],
    ['link_connected: "maybe"\n', 'INVALID_LINK_CONNECTED', 'link_connected'],
    ['link_connected: 1\n', 'INVALID_LINK_CONNECTED', 'link_connected'],
  ])('refuses %j with %s', (text, code, key) => {
    const r = parseResultYaml(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContainEqual(expect.objectContaining(key === undefined ? { code } : { code, key }));
  });
});
