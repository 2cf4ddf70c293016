import { ChangeOutcome, DriverCallContext, PowerDriver, PowerError, PowerState, PowerTypeDef, QueryGroup, QueryManyAnswer } from '@kiln/power/drivers';
import { BatchItem, PowerExecutor, RackBusyError } from './power.executor';

/** A driver whose BMCs answer after `delayMs`, counting how many calls run at once. */
class FakeDriver implements PowerDriver<{ address: string }> {
  readonly def: PowerTypeDef = { name: 'fake', description: 'Fake', chassis: false, can_probe: false, queryable: true, fields: [] };
  readonly canQueryBootDevice = false;
  states = new Map<string, PowerState>();
  running = 0;
  peak = 0;
  log: string[] = [];
  failWith?: PowerError;

  constructor(protected readonly delayMs = 5) {}

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

/**
 * A fake driver that can also query many BMCs in one call: BMCs with the same `group` parameter
 * share calls, `alone: 'yes'` keeps one out. `answers` scripts a BMC's answer in a batch call
 * (default: its state); `queryMany` calls are logged with their addresses.
 */
class BatchFakeDriver extends FakeDriver {
  override readonly def: PowerTypeDef = { name: 'batchy', description: 'Batchy', chassis: false, can_probe: false, queryable: true, fields: [] };
  answers = new Map<string, QueryManyAnswer>();
  batches: string[][] = [];
  batchRunning = 0;
  batchPeak = 0;
  failBatchWith?: Error;

  override parseSettings(p: Readonly<Record<string, string>>) {
    return { ...super.parseSettings(p), group: p.group ?? 'g', alone: p.alone === 'yes' };
  }
  queryGroup(s: { address: string; group: string; alone: boolean }): QueryGroup | null {
    return s.alone ? null : { key: s.group, name: s.address.split(':')[0] };
  }
  async queryMany(ss: readonly { address: string }[], ctx: DriverCallContext): Promise<QueryManyAnswer[]> {
    this.batches.push(ss.map((s) => s.address));
    this.batchRunning++;
    this.batchPeak = Math.max(this.batchPeak, this.batchRunning);
    try {
      await new Promise((resolve, reject) => {
        // Like a tool run, the call ends when its signal aborts.
        const t = setTimeout(resolve, this.delayMs);
        ctx.signal?.addEventListener('abort', () => (clearTimeout(t), reject(new PowerError('BMC_TIMEOUT', 'abandoned'))), { once: true });
      });
      if (this.failBatchWith) throw this.failBatchWith;
      return ss.map((s) => this.answers.get(s.address) ?? { kind: 'state', state: this.states.get(s.address) ?? 'off' });
    } finally {
      this.batchRunning--;
    }
  }
}

const batchItems = (n: number, params: Record<string, string> = {}) =>
  Array.from({ length: n }, (_, i) => ({ systemId: `m${i}`, powerType: 'batchy', params: { address: `10.0.0.${i}`, ...params } }));
const timedOut = () => new PowerError('BMC_TIMEOUT', 'the BMC did not answer', '10.0.0.1: connection timeout');

describe('PowerExecutor.queryBatch with a driver that queries many BMCs at once', () => {
  it('asks BMCs of one group in even calls of at most maxBatch, one result per item in order', async () => {
    const d = new BatchFakeDriver(1);
    d.states.set('10.0.0.3', 'on');
    const plain = new FakeDriver(1);
    const ex = new PowerExecutor(
      new Map<string, PowerDriver<unknown>>([
        ['batchy', d as PowerDriver<unknown>],
        ['fake', plain as PowerDriver<unknown>],
      ]),
      { jitterMs: 0, maxBatch: 4, policy: FAST },
    );
    const items: BatchItem[] = [
      ...batchItems(10),
      { systemId: 'x1', powerType: 'batchy', params: { address: '10.0.1.1', group: 'other' } },
      { systemId: 'x2', powerType: 'batchy', params: { address: '10.0.1.2', alone: 'yes' } },
      { systemId: 'x3', powerType: 'fake', params: { address: '10.0.1.3' } },
    ];
    const results = await ex.queryBatch(items);
    expect(results.map((r) => r.systemId)).toEqual(items.map((i) => i.systemId));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results[3]).toMatchObject({ ok: true, state: 'on' });
    expect(d.batches).toEqual([
      ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3'],
      ['10.0.0.4', '10.0.0.5', '10.0.0.6'],
      ['10.0.0.7', '10.0.0.8', '10.0.0.9'],
    ]);
    // Alone: a group of one, a BMC its driver keeps out, a driver without queryMany.
    expect(d.log.filter((l) => l.startsWith('start')).sort()).toEqual(['start query 10.0.1.1', 'start query 10.0.1.2']);
    expect(plain.log).toEqual(['start query 10.0.1.3', 'end query 10.0.1.3']);
  });

  it('holds one slot per bmcsPerSlot BMCs of a call', async () => {
    const d = new BatchFakeDriver(20);
    const ex = new PowerExecutor(new Map([['batchy', d as PowerDriver<unknown>]]), { maxConcurrent: 4, jitterMs: 0, maxBatch: 8, bmcsPerSlot: 4, policy: FAST });
    const results = await ex.queryBatch(batchItems(40));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(d.batches.map((b) => b.length)).toEqual([8, 8, 8, 8, 8]);
    // Each call of 8 holds 2 of the 4 slots: two calls at a time.
    expect(d.batchPeak).toBe(2);
    expect(ex.slots.peak).toBe(4);
    expect(ex.slots.inUse).toBe(0);
  });

  it('keeps the single query’s semantics: fatal answers stand, retryable ones and unasked BMCs are asked alone', async () => {
    const d = new BatchFakeDriver(1);
    const auth = new PowerError('BMC_AUTH', 'the BMC refused the password', '10.0.0.2: password invalid');
    d.answers.set('10.0.0.1', { kind: 'failed', error: timedOut() });
    d.answers.set('10.0.0.2', { kind: 'failed', error: auth });
    d.answers.set('10.0.0.3', { kind: 'unasked', why: 'no answer' });
    d.answers.set('10.0.0.4', { kind: 'failed', error: timedOut() });
    d.states.set('10.0.0.1', 'on');
    const failing = new Set(['10.0.0.4']);
    const query = d.query.bind(d);
    d.query = (s) => (failing.has(s.address) ? Promise.reject(timedOut()) : query(s));
    const ex = new PowerExecutor(new Map([['batchy', d as PowerDriver<unknown>]]), { jitterMs: 0, policy: FAST });
    const [ok, retried, fatal, unasked, exhausted] = await ex.queryBatch(batchItems(5));
    expect(ok).toMatchObject({ ok: true, state: 'off' });
    expect(retried).toMatchObject({ ok: true, state: 'on' });
    expect(fatal).toEqual({ systemId: 'm2', ok: false, error: auth });
    expect(unasked).toMatchObject({ ok: true, state: 'off' });
    // Two attempts in all: the batch call, then one alone.
    expect(exhausted).toMatchObject({ ok: false, error: { code: 'BMC_TIMEOUT', message: 'query power state failed after 2 attempts: the BMC did not answer' } });
    expect(d.log.filter((l) => l.startsWith('start')).sort()).toEqual(['start query 10.0.0.1', 'start query 10.0.0.3']);
    expect(d.batches).toHaveLength(1);
  });

  it('asks a BMC shared by several machines once', async () => {
    const d = new BatchFakeDriver(1);
    const items = [...batchItems(2), { systemId: 'twin', powerType: 'batchy', params: { address: '10.0.0.1' } }];
    const results = await new PowerExecutor(new Map([['batchy', d as PowerDriver<unknown>]]), { jitterMs: 0, policy: FAST }).queryBatch(items);
    expect(d.batches).toEqual([['10.0.0.0', '10.0.0.1']]);
    expect(results.map((r) => [r.systemId, r.ok])).toEqual([
      ['m0', true],
      ['m1', true],
      ['twin', true],
    ]);
  });

  it('fails every BMC of a call that failed as a whole: fatal at once, retryable after the retries alone', async () => {
    const d = new BatchFakeDriver(1);
    const ex = new PowerExecutor(new Map([['batchy', d as PowerDriver<unknown>]]), { jitterMs: 0, policy: FAST });
    d.failBatchWith = new PowerError('MISSING_TOOL', 'ipmipower is not installed on this rack');
    expect((await ex.queryBatch(batchItems(3))).map((r) => !r.ok && r.error.code)).toEqual(['MISSING_TOOL', 'MISSING_TOOL', 'MISSING_TOOL']);
    expect(d.log).toEqual([]);
    d.failBatchWith = new TypeError('a driver bug');
    expect((await ex.queryBatch(batchItems(3))).every((r) => r.ok)).toBe(true);
    expect(d.log.filter((l) => l.startsWith('start'))).toHaveLength(3);
  });

  it('spends one budget on the call and its retries', async () => {
    const d = new BatchFakeDriver(300);
    const ex = new PowerExecutor(new Map([['batchy', d as PowerDriver<unknown>]]), { jitterMs: 0, policy: FAST });
    const results = await ex.queryBatch(batchItems(3), { budgetMs: 50 });
    expect(results.map((r) => !r.ok && r.error.code)).toEqual(['BMC_TIMEOUT', 'BMC_TIMEOUT', 'BMC_TIMEOUT']);
    expect(ex.slots.inUse).toBe(0);
  });

  it('asks every BMC alone with maxBatch 1', async () => {
    const d = new BatchFakeDriver(1);
    const ex = new PowerExecutor(new Map([['batchy', d as PowerDriver<unknown>]]), { jitterMs: 0, maxBatch: 1, policy: FAST });
    expect((await ex.queryBatch(batchItems(5))).every((r) => r.ok)).toBe(true);
    expect(d.batches).toEqual([]);
    expect(d.log.filter((l) => l.startsWith('start'))).toHaveLength(5);
  });

  it('spreads the start of batch calls over the spread window, like single queries', async () => {
    const d = new BatchFakeDriver(1);
    const sleeps: number[] = [];
    const deps = { now: () => Date.now(), random: () => 0.5, sleep: async (ms: number) => void sleeps.push(ms) };
    const ex = new PowerExecutor(new Map([['batchy', d as PowerDriver<unknown>]]), { jitterMs: 0, maxBatch: 4, policy: FAST }, deps);
    await ex.queryBatch(batchItems(8), { spreadMs: 1000 });
    expect(sleeps).toEqual([500, 500]);
  });
});
