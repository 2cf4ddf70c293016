/**
 * A polling round on the rack against real BMCs: OpenIPMI ipmi_sim processes on loopback
 * addresses, queried through PowerExecutor.queryBatch with the real IPMI driver (freeipmi), so
 * BMCs with the same settings share one `ipmipower -h a,b,c --stat`. Every answer is
 * cross-checked with `ipmitool -I lanplus -C 3 ... chassis power status`.
 * Needs: openipmi, ipmitool, freeipmi-tools.
 */
import { IpmiDriver, PowerDriver, ProcessSpec, runProcess } from '@kiln/power/drivers';
import { IpmiSim, freeLoopbackAddress, startIpmiSims } from '@kiln/power/testing';
import { BatchItemResult, PowerExecutor } from './power.executor';

jest.setTimeout(90_000);

const SECRET = 'poll-secret-9';
const POLICY = { attempts: 2, backoffMs: 100, maxBackoffMs: 400, jitter: 0.1, verifyDelaysMs: [100, 200, 400], callTimeoutMs: 3000 };

describe('a polling round through PowerExecutor.queryBatch against ipmi_sim', () => {
  let sims: IpmiSim[] = [];
  let onPort: IpmiSim;
  let samePortless: IpmiSim;
  let silent: string;
  const seen: ProcessSpec[] = [];
  let executor: PowerExecutor;

  beforeAll(async () => {
    sims = await startIpmiSims(5, { password: SECRET });
    // A BMC off the standard port, and a second BMC on that same address (another port): ipmipower
    // prints hosts without their port, so these two must not share a run.
    onPort = await IpmiSim.start({ name: 'port6230', port: 6230, password: SECRET });
    samePortless = await IpmiSim.start({ name: 'port6231', address: onPort.address, port: 6231, password: SECRET });
    silent = await freeLoopbackAddress(623);
    await sims[1].ipmitool('chassis', 'power', 'on');
    await sims[3].ipmitool('chassis', 'power', 'on');
    await onPort.ipmitool('chassis', 'power', 'on');
    const driver = new IpmiDriver({
      run: (spec) => {
        seen.push(spec);
        return runProcess(spec);
      },
    });
    executor = new PowerExecutor(new Map([['ipmi', driver as PowerDriver<unknown>]]), { maxConcurrent: 8, jitterMs: 0, policy: POLICY });
  });

  afterAll(async () => {
    await Promise.all([...sims, onPort, samePortless].filter(Boolean).map((s) => s.stop()));
  });

  it('answers each BMC as ipmitool sees it, and each failure in the BMC’s own words', async () => {
    const items = [
      ...sims.map((s) => ({ systemId: s.name, powerType: 'ipmi', params: s.powerParameters() })),
      { systemId: 'twin-of-bmc1', powerType: 'ipmi', params: sims[1].powerParameters() },
      { systemId: 'port6230', powerType: 'ipmi', params: onPort.powerParameters() },
      { systemId: 'port6231', powerType: 'ipmi', params: samePortless.powerParameters() },
      { systemId: 'wrong-password', powerType: 'ipmi', params: sims[4].powerParameters({ power_pass: 'not-the-password' }) },
      { systemId: 'wrong-password-too', powerType: 'ipmi', params: sims[0].powerParameters({ power_pass: 'not-the-password' }) },
      { systemId: 'nobody-home', powerType: 'ipmi', params: { ...sims[0].powerParameters(), power_address: silent } },
      { systemId: 'suite-17', powerType: 'ipmi', params: sims[2].powerParameters({ cipher_suite_id: '17' }) },
    ];
    const started = Date.now();
    const results = await executor.queryBatch(items, { spreadMs: 0 });
    const elapsed = Date.now() - started;
    const by = new Map(results.map((r) => [r.systemId, r]));
    expect(results.map((r) => r.systemId)).toEqual(items.map((i) => i.systemId));

    const state = (r: BatchItemResult | undefined) => (r?.ok ? r.state : r?.error.describe());
    for (const s of [...sims, onPort, samePortless]) {
      expect([s.name, state(by.get(s.name))]).toEqual([s.name, await s.crossCheckPower()]);
    }
    expect(by.get(sims[1].name)).toMatchObject({ ok: true, state: 'on' });
    expect(by.get(sims[0].name)).toMatchObject({ ok: true, state: 'off' });
    expect(by.get('twin-of-bmc1')).toMatchObject({ ok: true, state: 'on' });

    // Fatal at once, from the batch run of the two BMCs given that password.
    for (const [id, sim] of [['wrong-password', sims[4]], ['wrong-password-too', sims[0]]] as const) {
      const wrong = by.get(id);
      expect(wrong).toMatchObject({ ok: false, error: { code: 'BMC_AUTH', fatal: true, bmcSays: `${sim.address}: password invalid` } });
      expect(wrong?.ok === false && wrong.error.describe()).not.toContain('not-the-password');
    }

    // Nobody answers: a timeout in the batch run, retried alone per the policy, then reported.
    expect(by.get('nobody-home')).toMatchObject({
      ok: false,
      error: { code: 'BMC_TIMEOUT', fatal: false, message: expect.stringMatching(/^query power state failed after 2 attempts/), bmcSays: `${silent}: connection timeout` },
    });

    // Cipher suite 17 is ipmitool's (freeipmi 1.6 lacks it): asked alone, and ipmi_sim lacks it too.
    expect(by.get('suite-17')).toMatchObject({ ok: false, error: { code: 'BAD_SETTINGS', fatal: true } });

    // The runs made: the five BMCs of one group, the 6230 BMC and the silent address in one
    // ipmipower run; the two BMCs given the wrong password in another; the 6231 BMC (same address
    // as 6230) alone; the silent address once more alone (its retry); suite 17 by ipmitool.
    const ipmipower = seen.filter((s) => s.command === 'ipmipower').map((s) => s.args[s.args.indexOf('-h') + 1].split(',').sort());
    expect(ipmipower.filter((h) => h.length > 1).sort()).toEqual(
      [[...sims.map((s) => s.address), `${onPort.address}:6230`, silent].sort(), [sims[0].address, sims[4].address].sort()].sort(),
    );
    expect(ipmipower.filter((h) => h.length === 1).sort()).toEqual([[`${samePortless.address}:6231`], [silent]].sort());
    expect(seen.filter((s) => s.command === 'ipmitool')).toHaveLength(1);
    // One session timeout (2 s) for the batch, the backoff, one more alone: well inside two call timeouts.
    expect(elapsed).toBeLessThan(2 * POLICY.callTimeoutMs + 2000);

    for (const spec of seen) {
      expect([...spec.args, ...Object.values(spec.env ?? {})].join(' ')).not.toMatch(new RegExp(`${SECRET}|not-the-password`));
    }
  });
});
