/**
 * The IPMI driver against real BMCs: OpenIPMI's ipmi_sim (package openipmi), one per test BMC on
 * its own loopback address, whose chassis-control program starts and kills a dummy host process.
 * Every Kiln action is cross-checked with `ipmitool -I lanplus -C 3 ... chassis power status`.
 * Needs: openipmi, ipmitool, freeipmi-tools.
 */
import { ProcessSpec, runProcess } from '../../adapters/process.runner';
import { PowerError } from '../../power.errors';
import { PowerRunner } from '../../power.runner';
import { PowerAction, PowerResult } from '../../power.types';
import { IpmiSim } from '../../testing/ipmi-sim.harness';
import { IpmiDriver } from './ipmi.driver';
import { IpmiTool } from './ipmi.commands';

jest.setTimeout(60_000);

const FAST = { attempts: 2, backoffMs: 100, maxBackoffMs: 400, jitter: 0.1, verifyDelaysMs: [100, 200, 300, 500, 800, 1200], callTimeoutMs: 5000 };

function runnerFor(tool: IpmiTool, seen?: ProcessSpec[], policy: Partial<typeof FAST> = {}) {
  const driver = new IpmiDriver({
    tool,
    run: (spec) => {
      seen?.push(spec);
      return runProcess(spec);
    },
  });
  return new PowerRunner(new Map([['ipmi', driver]]), { ...FAST, ...policy });
}

async function act(r: PowerRunner, sim: IpmiSim, action: PowerAction, extra: Record<string, string> = {}): Promise<PowerResult> {
  return r.execute({ powerType: 'ipmi', params: sim.powerParameters(extra), action, systemId: 'abc123' });
}

async function failure(p: Promise<unknown>): Promise<PowerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PowerError) return e;
    throw e;
  }
  throw new Error('expected a PowerError');
}

describe.each<IpmiTool>(['freeipmi', 'ipmitool'])('ipmi driver through %s against ipmi_sim', (tool) => {
  let sim: IpmiSim;
  const seen: ProcessSpec[] = [];
  let r: PowerRunner;

  beforeAll(async () => {
    sim = await IpmiSim.start({ password: 'pa#ss1' });
    r = runnerFor(tool, seen);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('queries, powers on, sets PXE, cycles, soft-offs and hard-offs a real chassis, each cross-checked with ipmitool', async () => {
    expect(await act(r, sim, { kind: 'query' })).toMatchObject({ outcome: 'done', state: 'off', verified: true, calls: 1 });
    expect(await sim.crossCheckPower()).toBe('off');

    const boot = await act(r, sim, { kind: 'set_boot_device', device: 'pxe' });
    expect(boot).toMatchObject({ outcome: 'done', bootDevice: 'pxe', verified: true });
    expect(await sim.ipmitool('chassis', 'bootparam', 'get', '5')).toMatch(/Boot Device Selector : Force PXE/);

    const on = await act(r, sim, { kind: 'on' });
    expect(on).toMatchObject({ outcome: 'done', state: 'on', verified: true });
    expect(await sim.crossCheckPower()).toBe('on');
    const firstHost = sim.hostPid();
    expect(firstHost).not.toBeNull();

    const cycled = await act(r, sim, { kind: 'cycle' });
    expect(cycled).toMatchObject({ state: 'on', verified: true });
    expect(await sim.crossCheckPower()).toBe('on');
    // A real cycle: the host went away and a new one started.
    expect(sim.hostPid()).not.toBeNull();
    expect(sim.hostPid()).not.toBe(firstHost);

    const soft = await act(r, sim, { kind: 'off', mode: 'soft' });
    expect(soft).toMatchObject({ state: 'off', verified: true });
    expect(await sim.crossCheckPower()).toBe('off');
    expect(sim.hostPid()).toBeNull();
    expect(sim.changes()).toContain('shutdown 1');

    // Cycling a machine that is off starts it (MAAS's --cycle --on-if-off).
    expect(await act(r, sim, { kind: 'cycle' })).toMatchObject({ state: 'on', verified: true });
    expect(await sim.crossCheckPower()).toBe('on');

    expect(await act(r, sim, { kind: 'off' })).toMatchObject({ state: 'off', verified: true });
    expect(await sim.crossCheckPower()).toBe('off');

    expect(await act(r, sim, { kind: 'set_boot_device', device: 'disk' })).toMatchObject({ bootDevice: 'disk' });
    expect(await sim.ipmitool('chassis', 'bootparam', 'get', '5')).toMatch(/Force Boot from default Hard-Drive/);
  });

  it('speaks IPMI 1.5 (power_driver LAN) too', async () => {
    expect(await act(r, sim, { kind: 'on' }, { power_driver: 'LAN' })).toMatchObject({ state: 'on', verified: true });
    expect(await sim.crossCheckPower()).toBe('on');
    expect(await act(r, sim, { kind: 'off' }, { power_driver: 'LAN' })).toMatchObject({ state: 'off', verified: true });
    expect(await sim.crossCheckPower()).toBe('off');
  });

  it('never puts the password on a command line', () => {
    expect(seen.length).toBeGreaterThan(5);
    for (const spec of seen) {
      expect(spec.args.join(' ')).not.toContain(sim.password);
      expect(Object.values(spec.env ?? {}).join(' ')).not.toContain(sim.password);
    }
  });

  it('a wrong password is fatal at once, in the tool’s own words, without the password', async () => {
    const err = await failure(act(r, sim, { kind: 'query' }, { power_pass: 'not-the-password' }));
    expect(err).toMatchObject({ code: 'BMC_AUTH', fatal: true });
    expect(err.bmcSays).toMatch(tool === 'freeipmi' ? /password invalid/ : /RAKP 2 HMAC is invalid/);
    expect(err.describe()).not.toContain('not-the-password');
  });

  it('a wrong user name is fatal too', async () => {
    const err = await failure(act(r, sim, { kind: 'on' }, { power_user: 'nobody' }));
    expect(err).toMatchObject({ code: 'BMC_AUTH', fatal: true });
    expect(err.bmcSays).toMatch(tool === 'freeipmi' ? /username invalid/ : /unauthorized name/);
  });

  it('a BMC that stops answering is retried with backoff, then reported as a timeout', async () => {
    const quick = runnerFor(tool, undefined, { callTimeoutMs: 3000, attempts: 2 });
    sim.pause();
    try {
      const started = Date.now();
      const err = await failure(act(quick, sim, { kind: 'query' }));
      expect(err).toMatchObject({ code: 'BMC_TIMEOUT', fatal: false });
      expect(err.message).toMatch(/failed after 2 attempts/);
      expect(err.bmcSays).toMatch(tool === 'freeipmi' ? /connection timeout/ : /Unable to establish IPMI v2/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      sim.resume();
    }
    expect(await act(r, sim, { kind: 'query' })).toMatchObject({ state: 'off' });
  });

  it('catches a BMC that says ok and does nothing (verify by query)', async () => {
    sim.setLying(true);
    try {
      const err = await failure(act(r, sim, { kind: 'on' }));
      expect(err).toMatchObject({ code: 'NOT_VERIFIED', fatal: false });
      expect(err.message).toMatch(/power on: the BMC accepted the command, but after 3\.1 s it still reports power off/);
      expect(await sim.crossCheckPower()).toBe('off');
      expect(sim.hostPid()).toBeNull();
    } finally {
      sim.setLying(false);
    }
  });

  it('reports a soft off the OS ignores', async () => {
    await act(r, sim, { kind: 'on' });
    sim.setIgnoreSoftOff(true);
    try {
      const err = await failure(act(r, sim, { kind: 'off', mode: 'soft' }));
      expect(err).toMatchObject({ code: 'NOT_VERIFIED' });
      expect(err.message).toMatch(/^soft power off: .* still reports power on/);
      // An off without a mode follows power_off_mode (here soft, so it is ignored too).
      const byParam = await failure(act(r, sim, { kind: 'off' }, { power_off_mode: 'soft' }));
      expect(byParam).toMatchObject({ code: 'NOT_VERIFIED' });
      expect(sim.changes().filter((c) => c === 'shutdown 1').length).toBeGreaterThanOrEqual(3);
    } finally {
      sim.setIgnoreSoftOff(false);
    }
    expect(await act(r, sim, { kind: 'off', mode: 'hard' })).toMatchObject({ state: 'off' });
    expect(await sim.crossCheckPower()).toBe('off');
  });
});

describe('ipmi driver: choices MAAS offers that a BMC may not', () => {
  let sim: IpmiSim;
  beforeAll(async () => {
    sim = await IpmiSim.start();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('cipher suite 17 goes through ipmitool (freeipmi 1.6 lacks it); a BMC without it is a fatal settings error', async () => {
    const seen: ProcessSpec[] = [];
    const err = await failure(act(runnerFor('freeipmi', seen), sim, { kind: 'query' }, { cipher_suite_id: '17' }));
    expect(seen[0].command).toBe('ipmitool');
    expect(seen[0].args).toEqual(expect.arrayContaining(['-C', '17']));
    expect(err).toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
    expect(err.bmcSays).toMatch(/invalid authentication algorithm/);
  });

  it('a missing tool is fatal', async () => {
    const driver = new IpmiDriver({ run: (spec) => runProcess({ ...spec, command: `${spec.command}-not-installed` }) });
    const r = new PowerRunner(new Map([['ipmi', driver]]), FAST);
    const err = await failure(r.execute({ powerType: 'ipmi', params: sim.powerParameters(), action: { kind: 'query' } }));
    expect(err).toMatchObject({ code: 'MISSING_TOOL', fatal: true });
  });
});
