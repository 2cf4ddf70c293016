import { formatReport, simulateOptions, SimulateUsageError } from './simulate.command';

describe('kiln simulate options', () => {
  const key = 'ck:tk:ts';

  it('defaults: commission mode, metadata through the rack on the region host :5248, the runner heartbeat', () => {
    const o = simulateOptions({ 'api-key': key, region: 'http://10.0.0.2:5240/' }, () => undefined);
    expect(o).toMatchObject({
      mode: 'commission',
      machines: 10,
      regionUrl: 'http://10.0.0.2:5240',
      metadataUrl: 'http://10.0.0.2:5248/MAAS/metadata/',
      apiKey: { consumerKey: 'ck', tokenKey: 'tk', tokenSecret: 'ts' },
      heartbeatMs: 120_000,
      scriptMs: [50, 250],
      bootMs: [1000, 3000],
      concurrency: 10,
      maxSockets: 256,
    });
    expect(o.commissionParams).toBeUndefined();
  });

  it('takes ranges, a rack URL and testing_scripts', () => {
    const o = simulateOptions(
      { mode: 'enlist', machines: '1000', rack: 'http://127.0.0.1:5248', 'script-ms': '5', 'boot-ms': '0-10', 'testing-scripts': 'none', heartbeat: '30' },
      () => undefined,
    );
    expect(o).toMatchObject({ mode: 'enlist', machines: 1000, apiKey: null, metadataUrl: 'http://127.0.0.1:5248/MAAS/metadata/', scriptMs: [5, 5], bootMs: [0, 10], heartbeatMs: 30_000 });
    expect(o.commissionParams).toEqual([['testing_scripts', 'none']]);
  });

  it('deploy mode: the release and the installer time', () => {
    const o = simulateOptions({ 'api-key': key, mode: 'enlist-commission-deploy', 'deploy-series': 'debian/12', 'install-ms': '100-200' }, () => undefined);
    expect(o).toMatchObject({ mode: 'enlist-commission-deploy', deploySeries: 'debian/12', installMs: [100, 200] });
    expect(simulateOptions({ 'api-key': key }, () => undefined)).toMatchObject({ installMs: [2000, 4000] });
    expect(simulateOptions({ 'api-key': key }, () => undefined).deploySeries).toBeUndefined();
  });

  it.each([
    [{ mode: 'deploy' }, /--mode must be/],
    [{ 'api-key': key, 'install-ms': 'x' }, /--install-ms must be MIN or MIN-MAX/],
    [{}, /needs --api-key/],
    [{ 'api-key': 'nope' }, /--api-key: an API key is consumer_key:token_key:token_secret/],
    [{ 'api-key': key, machines: '0' }, /--machines must be an integer from 1/],
    [{ 'api-key': key, region: 'ftp://x' }, /--region must be an http\(s\) URL/],
    [{ 'api-key': key, 'script-ms': '9-3' }, /--script-ms must be MIN or MIN-MAX/],
  ])('refuses %j', (args, message) => {
    expect(() => simulateOptions(args, () => undefined)).toThrow(SimulateUsageError);
    expect(() => simulateOptions(args, () => undefined)).toThrow(message);
  });

  it('reports phases, signal percentiles and agents that gave up', () => {
    const text = formatReport({
      mode: 'enlist-commission',
      machines: 2,
      seed: 7,
      bmc: 'http://127.0.0.1 on 2 ports (1..2)',
      phases: [
        { phase: 'enlist', target: 'New', of: 2, wallMs: 1500, reached: 2, elsewhere: {} },
        { phase: 'commission', target: 'Ready', of: 2, wallMs: 2500, reached: 1, elsewhere: { 'Failed commissioning': 1 } },
      ],
      signal: { count: 40, p50Ms: 12.5, p90Ms: 30, p99Ms: 55.1, maxMs: 60 },
      resultsSent: 20,
      retries: 1,
      retryReasons: { '502': 1 },
      agentErrors: [{ index: 1, systemId: 'abc123', error: 'signal FAILED answered 409' }],
      requests: {},
      signals: {},
      systemIds: ['x', 'abc123'],
    });
    expect(text).toContain('enlist: 2/2 New in 1.5 s');
    expect(text).toContain('commission: 1/2 Ready in 2.5 s (not there: 1 Failed commissioning)');
    expect(text).toContain('p50 12.5 ms, p90 30 ms, p99 55.1 ms');
    expect(text).toContain('requests retried: 1 {"502":1}');
    expect(text).toContain('machine 1 (abc123): signal FAILED answered 409');
  });
});
