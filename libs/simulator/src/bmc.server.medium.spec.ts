/**
 * The emulated BMCs driven by Kiln's own webhook power driver (what the rack runs): power on boots
 * the machine's agent with the System_Id the driver sends, off stops it, query reads the state
 * through the driver's default MAAS regexes; a wrong token is the driver's BMC_AUTH.
 */
import { PowerRunner, WebhookDriver } from '@kiln/power';
import { PowerTarget, SimulatedBmcServer } from './bmc.server';

class Target implements PowerTarget {
  state: 'on' | 'off' = 'off';
  boots: (string | null)[] = [];
  powerOn(systemId: string | null): void {
    this.state = 'on';
    this.boots.push(systemId);
  }
  powerOff(): void {
    this.state = 'off';
  }
}

describe('the simulated BMC server under the webhook power driver', () => {
  const targets = [new Target(), new Target()];
  const bmc = new SimulatedBmcServer((i) => targets[i], 's3cr3t-token');
  const runner = new PowerRunner(new Map([['webhook', new WebhookDriver({ cyclePollMs: 10 })]]), {
    attempts: 1,
    backoffMs: 10,
    jitter: 0,
    verifyDelaysMs: [10, 50],
    callTimeoutMs: 2000,
  });
  const act = (index: number, kind: 'on' | 'off' | 'cycle' | 'query', params = bmc.powerParameters(index)) =>
    runner.execute({ powerType: 'webhook', params, action: { kind }, systemId: `sys${index}` });

  beforeAll(() => bmc.start(2));
  afterAll(() => bmc.stop());

  it('powers one machine on, verified, and boots its agent with the system_id the driver sends', async () => {
    expect(await act(1, 'query')).toMatchObject({ state: 'off' });
    expect(await act(1, 'on')).toMatchObject({ state: 'on', verified: true });
    expect(targets[1].boots).toEqual(['sys1']);
    expect(targets[0].state).toBe('off');
    expect(await act(1, 'cycle')).toMatchObject({ state: 'on', verified: true });
    expect(targets[1].boots).toEqual(['sys1', 'sys1']);
    expect(await act(1, 'off')).toMatchObject({ state: 'off', verified: true });
    expect(bmc.calls.filter((c) => c.action !== 'state').map((c) => `${c.index} ${c.action} ${c.systemId}`)).toEqual(['1 on sys1', '1 off sys1', '1 on sys1', '1 off sys1']);
  });

  it('gives every machine its own BMC address, as the rack serializes changes per BMC', () => {
    const uri = (i: number) => new URL(bmc.powerParameters(i).power_query_uri);
    expect(uri(0).hostname).toBe('127.0.0.1');
    expect(uri(0).host).not.toBe(uri(1).host);
    expect(new WebhookDriver().bmcKey(new WebhookDriver().parseSettings(bmc.powerParameters(0)))).not.toBe(
      new WebhookDriver().bmcKey(new WebhookDriver().parseSettings(bmc.powerParameters(1))),
    );
  });

  it('refuses a wrong token (BMC_AUTH) and an unknown machine (BAD_SETTINGS, a 404)', async () => {
    await expect(act(0, 'query', { ...bmc.powerParameters(0), power_token: 'nope' })).rejects.toMatchObject({ code: 'BMC_AUTH' });
    const elsewhere = bmc.powerParameters(0);
    await expect(act(0, 'query', { ...elsewhere, power_query_uri: elsewhere.power_query_uri.replace('/machines/0/', '/machines/5/') })).rejects.toMatchObject({ code: 'BAD_SETTINGS' });
    expect(targets[0].boots).toEqual([]);
  });
});
