import { ChangeOutcome, PowerDriver, PowerError, PowerState, PowerTypeDef } from '@kiln/power';
import { PowerExecutor, RackBusyError } from './power.executor';

/** A driver whose BMCs answer after `delayMs`, counting how many calls run at once. */
class FakeDriver implements PowerDriver<{ address: string }> {
  readonly def: PowerTypeDef = { name: 'fake', description: 'Fake', chassis: false, can_probe: false, queryable: true, fields: [] };
  readonly canQueryBootDevice = false;
  states = new Map<string, PowerState>();
  running = 0;
  peak = 0;
  log: string[] = [];
  failWith?: PowerError;

  constructor(private readonly delayMs = 5) {}

  parseSettings(p: Readonly<Record<string, string>>) {
    if (!p.address) throw new PowerError('BAD_SETTINGS', 'address is required');
    return { address: p.address };
  }
  bmcKey(s: { address: string }) {
    return s.address;
  }
  private async call<T>(what: string, fn: () => T): Promise<T> {
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    this.log.push(`start ${what}`);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failWith) throw this.failWith;
      return fn();
    } finally {
      this.running--;
      this.log.push(`end ${what}`);
    }
  }
  query(s: { address: string }) {
    return this.call(`query ${s.address}`, () => this.states.get(s.address) ?? 'off');
  }
  on(s: { address: string }) {
    return this.call(`on ${s.address}`, (): ChangeOutcome => (this.states.set(s.address, 'on'), { kind: 'accepted' }));
  }
  off(s: { address: string }) {
    return this.call(`off ${s.address}`, (): ChangeOutcome => (this.states.set(s.address, 'off'), { kind: 'accepted' }));
  }
  cycle(s: { address: string }) {
    return this.on(s);
  }
  async setBootDevice(): Promise<ChangeOutcome> {
    throw new PowerError('UNSUPPORTED', 'no');
  }
  async queryBootDevice(): Promise<'none'> {
    return 'none';
  }
}

const FAST = { attempts: 2, backoffMs: 1, jitter: 0, verifyDelaysMs: [1, 1, 1], callTimeoutMs: 1000 };
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ systemId: `m${i}`, powerType: 'fake', params: { address: `10.0.0.${i}` } }));

describe('PowerExecutor', () => {
  it('never runs more BMC calls at once than its cap, and answers every item of a batch', async () => {
    const d = new FakeDriver(5);
    const ex = new PowerExecutor(new Map([['fake', d]]), { maxConcurrent: 4, jitterMs: 0, policy: FAST });
    const results = await ex.queryBatch(items(40));
    expect(results).toHaveLength(40);
    expect(results.every((r) => r.ok && r.state === 'off')).toBe(true);
    expect(d.peak).toBe(4);
    expect(ex.slots.peak).toBe(4);
    expect(ex.slots.inUse).toBe(0);
  });

  it('spreads query starts over the jitter window', async () => {
    const d = new FakeDriver(1);
    const sleeps: number[] = [];
    const deps = { now: () => Date.now(), random: () => sleeps.length / 10, sleep: async (ms: number) => void sleeps.push(ms) };
    const ex = new PowerExecutor(new Map([['fake', d]]), { maxConcurrent: 100, jitterMs: 1000, policy: FAST }, deps);
    await ex.queryBatch(items(10), { spreadMs: 1000 });
    expect(sleeps.sort((a, b) => a - b)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  });

  it('does not jitter changes: an operator is waiting', async () => {
    const d = new FakeDriver(1);
    const sleeps: number[] = [];
    const deps = { now: () => Date.now(), random: () => 0.99, sleep: async (ms: number) => void sleeps.push(ms) };
    const ex = new PowerExecutor(new Map([['fake', d]]), { jitterMs: 5000, policy: { ...FAST, verifyDelaysMs: [0] } }, deps);
    await ex.execute({ powerType: 'fake', params: { address: 'a' }, action: { kind: 'on' } });
    expect(sleeps.every((ms) => ms < 5000 * 0.99)).toBe(true);
  });

  it('serialises changes to one BMC, not to different BMCs', async () => {
    const d = new FakeDriver(10);
    const ex = new PowerExecutor(new Map([['fake', d]]), { maxConcurrent: 10, jitterMs: 0, policy: FAST });
    await Promise.all([
      ex.execute({ powerType: 'fake', params: { address: 'a' }, action: { kind: 'on' } }),
      ex.execute({ powerType: 'fake', params: { address: 'a' }, action: { kind: 'off' } }),
      ex.execute({ powerType: 'fake', params: { address: 'b' }, action: { kind: 'on' } }),
    ]);
    const a = d.log.filter((l) => l.endsWith(' a'));
    // The whole of "on a" (change and verification) ends before "off a" starts.
    expect(a.indexOf('start off a')).toBeGreaterThan(a.lastIndexOf('end query a', a.indexOf('start off a')));
    expect(a.slice(0, 4)).toEqual(['start on a', 'end on a', 'start query a', 'end query a']);
    expect(d.states.get('a')).toBe('off');
    expect(d.log.indexOf('start on b')).toBeLessThan(d.log.indexOf('end on a'));
  });

  it('refuses with RackBusyError when too many calls wait', async () => {
    const d = new FakeDriver(50);
    const ex = new PowerExecutor(new Map([['fake', d]]), { maxConcurrent: 1, maxQueued: 1, jitterMs: 0, policy: FAST });
    const run = (i: number) => ex.execute({ powerType: 'fake', params: { address: `x${i}` }, action: { kind: 'query' } });
    const settled = await Promise.allSettled([run(1), run(2), run(3)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(RackBusyError);
  });

  it('gives up when the budget runs out, with BMC_TIMEOUT', async () => {
    const d = new FakeDriver(300);
    const ex = new PowerExecutor(new Map([['fake', d]]), { maxConcurrent: 1, jitterMs: 0, policy: FAST });
    const slow = ex.execute({ powerType: 'fake', params: { address: 'a' }, action: { kind: 'query' } });
    const queued = ex.execute({ powerType: 'fake', params: { address: 'b' }, action: { kind: 'query' } }, { budgetMs: 50 });
    await expect(queued).rejects.toMatchObject({ code: 'BMC_TIMEOUT', message: expect.stringMatching(/allowed for this power command ran out/) });
    expect(ex.slots.queued).toBe(0); // the abandoned waiter left the queue
    await expect(slow).resolves.toMatchObject({ state: 'off' });
  });

  it('reports per-item failures in a batch, fatal or not', async () => {
    const d = new FakeDriver(1);
    d.failWith = new PowerError('BMC_AUTH', 'the BMC refused the password', 'password invalid');
    const ex = new PowerExecutor(new Map([['fake', d]]), { jitterMs: 0, policy: FAST });
    const [bad, unknown] = await ex.queryBatch([
      { systemId: 'm1', powerType: 'fake', params: { address: 'a' } },
      { systemId: 'm2', powerType: 'nope', params: {} },
    ]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'BMC_AUTH', fatal: true, bmcSays: 'password invalid' } });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'BAD_SETTINGS', message: expect.stringMatching(/unknown power type "nope"/) } });
  });
});
