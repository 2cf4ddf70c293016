import { PowerRunner } from '../../power.runner';
import { ManualDriver } from './manual.driver';

describe('manual power type', () => {
  const r = new PowerRunner(new Map([['manual', new ManualDriver()]]), { verifyDelaysMs: [1] });
  const run = (action: Parameters<PowerRunner['execute']>[0]['action']) => r.execute({ powerType: 'manual', params: {}, action });

  it('answers queries with unknown', async () => {
    expect(await run({ kind: 'query' })).toMatchObject({ outcome: 'done', state: 'unknown', calls: 1 });
  });

  it('asks the operator for every change, without pretending it happened', async () => {
    for (const action of [{ kind: 'on' }, { kind: 'off' }, { kind: 'cycle' }, { kind: 'set_boot_device', device: 'pxe' }] as const) {
      const res = await run(action);
      expect(res).toMatchObject({ outcome: 'manual', state: 'unknown', verified: false, message: expect.stringMatching(/^This machine has no power control \(power type manual\): /) });
    }
  });

  it('refuses a machine with no power type at all, and unknown power types', async () => {
    await expect(r.execute({ powerType: '', params: {}, action: { kind: 'on' } })).rejects.toMatchObject({ code: 'BAD_SETTINGS', message: 'no power type is configured for this machine' });
    await expect(r.execute({ powerType: 'amt', params: {}, action: { kind: 'on' } })).rejects.toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
  });
});
