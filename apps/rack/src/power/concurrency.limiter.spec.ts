import { KeyedSerializer, QueueFullError, Semaphore } from './concurrency.limiter';

const tick = () => new Promise((r) => setImmediate(r));

describe('Semaphore', () => {
  it('admits up to its limit and hands slots over in FIFO order', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    const gates = [0, 1, 2, 3].map(() => {
      let open!: () => void;
      const p = new Promise<void>((r) => (open = r));
      return { p, open };
    });
    const runs = gates.map((g, i) => s.run(async () => (order.push(i), g.p)));
    await tick();
    expect(order).toEqual([0, 1]);
    expect([s.inUse, s.queued]).toEqual([2, 2]);
    gates[1].open();
    await tick();
    expect(order).toEqual([0, 1, 2]);
    gates[0].open();
    gates[2].open();
    gates[3].open();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3]);
    expect([s.inUse, s.queued, s.peak]).toEqual([0, 0, 2]);
  });

  it('weighs holders, serves waiters in order without starving a heavy one, and caps a weight at the limit', async () => {
    const s = new Semaphore(4);
    await s.acquire(undefined, 3);
    const order: string[] = [];
    const heavy = s.acquire(undefined, 2).then(() => order.push('heavy'));
    const light = s.acquire(undefined, 1).then(() => order.push('light'));
    await tick();
    // One slot is free, but the heavy waiter came first: the light one waits behind it.
    expect([order, s.inUse, s.queued]).toEqual([[], 3, 2]);
    s.release(3);
    await Promise.all([heavy, light]);
    expect([order, s.inUse, s.peak]).toEqual([['heavy', 'light'], 3, 3]);
    s.release(2);
    s.release(1);
    expect(await s.run(async () => s.inUse, undefined, 99)).toBe(4);
    expect(s.inUse).toBe(0);
  });

  it('lets lighter waiters in when the heavy one at the head gives up', async () => {
    const s = new Semaphore(2);
    await s.acquire();
    const ac = new AbortController();
    const heavy = s.acquire(ac.signal, 2);
    const light = s.acquire(undefined, 1);
    ac.abort(new Error('gave up'));
    await expect(heavy).rejects.toThrow('gave up');
    await light;
    expect([s.inUse, s.queued]).toEqual([2, 0]);
  });

  it('refuses beyond its queue, and lets aborted waiters go', async () => {
    const s = new Semaphore(1, 1);
    await s.acquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    await expect(s.acquire()).rejects.toBeInstanceOf(QueueFullError);
    ac.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(s.queued).toBe(0);
    s.release();
    expect(s.inUse).toBe(0);
  });
});

describe('KeyedSerializer', () => {
  it('runs tasks of one key in order, even when one fails, and others alongside', async () => {
    const k = new KeyedSerializer();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const all = Promise.allSettled([k.run('a', task('a1', 20, true)), k.run('a', task('a2', 1)), k.run('b', task('b1', 5))]);
    const [a1, a2, b1] = await all;
    expect(a1.status).toBe('rejected');
    expect([a2, b1]).toEqual([{ status: 'fulfilled', value: 'a2' }, { status: 'fulfilled', value: 'b1' }]);
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    await tick();
    expect(k.size).toBe(0);
  });
});
