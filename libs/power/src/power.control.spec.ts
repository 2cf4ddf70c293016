import { ControlDeps, runPowerAction } from './power.control';
import { PowerError } from './power.errors';
import { powerPolicy } from './power.policy';
import { BootDevice, ChangeOutcome, PowerDriver, PowerState } from './power.types';

type Step<T> = T | PowerError;

/** A driver that answers from scripts, one entry per call (the last entry repeats). */
function scripted(script: { query?: Step<PowerState>[]; change?: Step<ChangeOutcome>[]; boot?: Step<BootDevice | 'none'>[] }) {
  const calls: string[] = [];
  const next = <T>(name: string, list: Step<T>[] | undefined, fallback: T): Promise<T> => {
    calls.push(name);
    const i = calls.filter((c) => c === name).length - 1;
    const v = list?.length ? list[Math.min(i, list.length - 1)] : fallback;
    return v instanceof PowerError ? Promise.reject(v) : Promise.resolve(v);
  };
  const accepted: ChangeOutcome = { kind: 'accepted' };
  const driver: PowerDriver<null> = {
    def: { name: 't', description: 't', chassis: false, can_probe: false, queryable: true, fields: [] },
    canQueryBootDevice: true,
    parseSettings: () => null,
    bmcKey: () => 't',
    query: () => next('query', script.query, 'off'),
    on: () => next('change', script.change, accepted),
    off: () => next('change', script.change, accepted),
    cycle: () => next('change', script.change, accepted),
    setBootDevice: () => next('change', script.change, accepted),
    queryBootDevice: () => next('boot', script.boot, 'none'),
  };
  return { driver, calls };
}

function fakeDeps() {
  const sleeps: number[] = [];
  let t = 0;
  const deps: ControlDeps = {
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    now: () => t,
    random: () => 0.5,
  };
  return { deps, sleeps };
}

const policy = powerPolicy({ attempts: 3, backoffMs: 1000, backoffFactor: 2, maxBackoffMs: 8000, jitter: 0, verifyDelaysMs: [1000, 2000, 4000] });
const timeout = () => new PowerError('BMC_TIMEOUT', 'the BMC did not answer', 'connection timeout');

describe('runPowerAction', () => {
  it('answers a query with one call, verified by definition', async () => {
    const { driver } = scripted({ query: ['on'] });
    const { deps } = fakeDeps();
    expect(await runPowerAction(driver, null, { kind: 'query' }, policy, deps)).toEqual({ outcome: 'done', state: 'on', verified: true, calls: 1, elapsedMs: 0 });
  });

  it('retries a retryable failure with exponential backoff, then succeeds', async () => {
    const { driver, calls } = scripted({ query: [timeout(), timeout(), 'off'] });
    const { deps, sleeps } = fakeDeps();
    const r = await runPowerAction(driver, null, { kind: 'query' }, policy, deps);
    expect(r).toMatchObject({ state: 'off', calls: 3, elapsedMs: 3000 });
    expect(sleeps).toEqual([1000, 2000]);
    expect(calls).toEqual(['query', 'query', 'query']);
  });

  it('gives up after the attempts, keeping the BMC’s words', async () => {
    const { driver } = scripted({ query: [timeout()] });
    const { deps } = fakeDeps();
    const e = await runPowerAction(driver, null, { kind: 'query' }, policy, deps).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'BMC_TIMEOUT', fatal: false, bmcSays: 'connection timeout', message: 'query power state failed after 3 attempts: the BMC did not answer' });
  });

  it('goes on from a first attempt a batch query made: the retries the policy leaves, the same words at the end', async () => {
    const recovered = scripted({ query: ['on'] });
    const { deps, sleeps } = fakeDeps();
    const r = await runPowerAction(recovered.driver, null, { kind: 'query' }, policy, deps, { firstAttempt: timeout() });
    expect(r).toMatchObject({ state: 'on', calls: 2, elapsedMs: 1000 });
    expect(sleeps).toEqual([1000]);
    expect(recovered.calls).toEqual(['query']);

    const silent = scripted({ query: [timeout()] });
    const e = await runPowerAction(silent.driver, null, { kind: 'query' }, policy, fakeDeps().deps, { firstAttempt: timeout() }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'BMC_TIMEOUT', bmcSays: 'connection timeout', message: 'query power state failed after 3 attempts: the BMC did not answer' });
    expect(silent.calls).toEqual(['query', 'query']);

    const once = scripted({ query: ['on'] });
    const single = await runPowerAction(once.driver, null, { kind: 'query' }, powerPolicy({ attempts: 1 }), fakeDeps().deps, { firstAttempt: timeout() }).catch((x: unknown) => x);
    expect(single).toMatchObject({ code: 'BMC_TIMEOUT', message: 'query power state failed: the BMC did not answer' });
    expect(once.calls).toEqual([]);
  });

  it('never retries a fatal failure', async () => {
    const { driver, calls } = scripted({ change: [new PowerError('BMC_AUTH', 'the BMC refused the password', 'password invalid')] });
    const { deps, sleeps } = fakeDeps();
    const e = await runPowerAction(driver, null, { kind: 'on' }, policy, deps).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'BMC_AUTH', fatal: true, bmcSays: 'password invalid' });
    expect(calls).toEqual(['change']);
    expect(sleeps).toEqual([]);
  });

  it('verifies a change by querying until the BMC shows it', async () => {
    const { driver, calls } = scripted({ query: ['off', 'on'] });
    const { deps, sleeps } = fakeDeps();
    const r = await runPowerAction(driver, null, { kind: 'on' }, policy, deps);
    expect(r).toMatchObject({ outcome: 'done', state: 'on', verified: true, calls: 3 });
    expect(calls).toEqual(['change', 'query', 'query']);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('catches a BMC that accepts a change and never shows it (NOT_VERIFIED)', async () => {
    const { driver } = scripted({ query: ['off'] });
    const { deps, sleeps } = fakeDeps();
    const e = await runPowerAction(driver, null, { kind: 'on' }, policy, deps).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'NOT_VERIFIED', fatal: false, message: 'power on: the BMC accepted the command, but after 7 s it still reports power off' });
    expect(sleeps).toEqual([1000, 2000, 4000]);
  });

  it('counts a failed verification query as one step, and says so if every query failed', async () => {
    const ok = scripted({ query: [timeout(), 'off'] });
    expect(await runPowerAction(ok.driver, null, { kind: 'off' }, policy, fakeDeps().deps)).toMatchObject({ state: 'off', calls: 3 });
    const bad = scripted({ query: [timeout()] });
    const e = await runPowerAction(bad.driver, null, { kind: 'off', mode: 'soft' }, policy, fakeDeps().deps).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'NOT_VERIFIED', bmcSays: 'connection timeout' });
    expect((e as Error).message).toMatch(/^soft power off: .*every query in the following 7 s failed; last: the BMC did not answer/);
  });

  it('stops verifying at a fatal failure', async () => {
    const { driver, calls } = scripted({ query: [new PowerError('BMC_AUTH', 'password changed')] });
    const e = await runPowerAction(driver, null, { kind: 'cycle' }, policy, fakeDeps().deps).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'BMC_AUTH' });
    expect(calls).toEqual(['change', 'query']);
  });

  it('verifies a boot device by reading it back', async () => {
    const { driver } = scripted({ boot: ['none', 'pxe'] });
    expect(await runPowerAction(driver, null, { kind: 'set_boot_device', device: 'pxe' }, policy, fakeDeps().deps)).toMatchObject({
      bootDevice: 'pxe',
      verified: true,
      state: 'unknown',
    });
  });

  it('returns a manual outcome without verifying', async () => {
    const { driver, calls } = scripted({ change: [{ kind: 'manual', message: 'power it on by hand' }] });
    expect(await runPowerAction(driver, null, { kind: 'on' }, policy, fakeDeps().deps)).toMatchObject({
      outcome: 'manual',
      state: 'unknown',
      verified: false,
      message: 'power it on by hand',
    });
    expect(calls).toEqual(['change']);
  });

  it('passes every BMC call through the gate, and lets the gate’s own errors through unchanged', async () => {
    const { driver } = scripted({ query: ['off', 'on'] });
    let gated = 0;
    const deps = { ...fakeDeps().deps, gate: <T>(fn: () => Promise<T>) => (gated++, fn()) };
    await runPowerAction(driver, null, { kind: 'on' }, policy, deps);
    expect(gated).toBe(3);
    const full = new Error('queue full');
    const refusing = { ...fakeDeps().deps, gate: () => Promise.reject(full) };
    await expect(runPowerAction(driver, null, { kind: 'query' }, policy, refusing)).rejects.toBe(full);
  });

  it('turns a driver bug into a retryable BMC_ERROR', async () => {
    const { driver } = scripted({});
    driver.query = () => Promise.reject(new TypeError('x is undefined'));
    const e = await runPowerAction(driver, null, { kind: 'query' }, powerPolicy({ attempts: 1 }), fakeDeps().deps).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'BMC_ERROR', message: 'query power state failed: unexpected failure: x is undefined' });
  });

  it('gives up when its signal aborts, with the reason it was given', async () => {
    const { driver } = scripted({ query: ['off'] });
    const ac = new AbortController();
    ac.abort(new PowerError('BMC_TIMEOUT', 'budget spent'));
    await expect(runPowerAction(driver, null, { kind: 'on' }, policy, fakeDeps().deps, { signal: ac.signal })).rejects.toMatchObject({ message: 'budget spent' });
  });
});
