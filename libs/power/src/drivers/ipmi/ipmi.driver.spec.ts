import { readFileSync } from 'node:fs';
import { ProcessResult, ProcessSpec } from '../../adapters/process.runner';
import { IpmiDriver } from './ipmi.driver';
import { parseIpmiSettings } from './ipmi.settings';

const settings = (address: string, extra: Record<string, string> = {}) =>
  parseIpmiSettings({ power_address: address, power_user: 'maas', power_pass: 'hunter22', privilege_level: 'ADMIN', ...extra });

/** A driver whose ipmipower prints `stdout`; records each run and the config file it was given. */
function driverPrinting(result: Partial<ProcessResult>) {
  const runs: { spec: ProcessSpec; conf: string }[] = [];
  const driver = new IpmiDriver({
    run: async (spec) => {
      const conf = readFileSync(spec.args[spec.args.indexOf('--config-file') + 1], 'utf8');
      runs.push({ spec, conf });
      return { code: 0, stdout: '', stderr: '', timedOut: false, aborted: false, ...result };
    },
  });
  return { driver, runs };
}

describe('IpmiDriver.queryMany', () => {
  it('asks every BMC in one ipmipower run and answers each in order', async () => {
    const { driver, runs } = driverPrinting({ code: 1, stdout: '10.0.0.6: on\n10.0.0.5: off\nbmc-7: password invalid\n' });
    const answers = await driver.queryMany([settings('10.0.0.5'), settings('10.0.0.6:6230'), settings('bmc-7')], { timeoutMs: 5000 });
    expect(answers).toEqual([
      { kind: 'state', state: 'off' },
      { kind: 'state', state: 'on' },
      { kind: 'failed', error: expect.objectContaining({ code: 'BMC_AUTH', fatal: true, bmcSays: 'bmc-7: password invalid' }) },
    ]);
    expect(runs).toHaveLength(1);
    const { spec, conf } = runs[0];
    expect(spec.command).toBe('ipmipower');
    expect(spec.args).toEqual(expect.arrayContaining(['-h', '10.0.0.5,10.0.0.6:6230,bmc-7', '--stat']));
    expect(conf).toBe('username maas\npassword hunter22\n');
    expect([...spec.args, ...Object.values(spec.env ?? {})].join(' ')).not.toContain('hunter22');
  });

  it('redacts the password from what the tool printed', async () => {
    const { driver } = driverPrinting({ code: 1, stdout: '10.0.0.5: BMC error hunter22\n' });
    const [a] = await driver.queryMany([settings('10.0.0.5'), settings('10.0.0.6')], { timeoutMs: 5000 });
    expect(a.kind === 'failed' && a.error.bmcSays).toBe('10.0.0.5: BMC error ********');
  });

  it('refuses BMCs that must not share a run: other credentials, or one host twice', async () => {
    const { driver, runs } = driverPrinting({});
    await expect(driver.queryMany([settings('10.0.0.5'), settings('10.0.0.6', { power_pass: 'other' })], { timeoutMs: 5000 })).rejects.toThrow(/cannot be queried in one/);
    await expect(driver.queryMany([settings('10.0.0.5:6230'), settings('10.0.0.5:6231')], { timeoutMs: 5000 })).rejects.toThrow(/cannot be queried in one/);
    expect(runs).toHaveLength(0);
    expect(await driver.queryMany([], { timeoutMs: 5000 })).toEqual([]);
  });

  it('offers groups only for BMCs freeipmi drives', () => {
    expect(new IpmiDriver().queryGroup(settings('10.0.0.5'))).toMatchObject({ name: '10.0.0.5' });
    expect(new IpmiDriver({ tool: 'ipmitool' }).queryGroup(settings('10.0.0.5'))).toBeNull();
    expect(new IpmiDriver().queryGroup(settings('10.0.0.5', { cipher_suite_id: '17' }))).toBeNull();
  });

  it('reports a run abandoned at the deadline as a timeout of the whole call', async () => {
    const { driver } = driverPrinting({ code: null, aborted: true });
    await expect(driver.queryMany([settings('10.0.0.5'), settings('10.0.0.6')], { timeoutMs: 5000 })).rejects.toMatchObject({ code: 'BMC_TIMEOUT' });
  });
});
