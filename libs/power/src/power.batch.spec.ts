import { BatchEntry, planBatchCalls } from './power.batch';

const entry = (group: string, host: string, item: string, port = 623): BatchEntry<string> => ({
  group,
  name: host,
  bmcKey: `ipmi:${host}:${port}`,
  item,
});

const shape = (calls: ReturnType<typeof planBatchCalls<string>>) => calls.map((c) => [c.group, c.members.map((m) => m.items.join('+'))]);

describe('planBatchCalls', () => {
  it('puts BMCs of one group in one call, and each group in its own calls', () => {
    const calls = planBatchCalls([entry('a', 'h1', 'm1'), entry('b', 'h2', 'm2'), entry('a', 'h3', 'm3'), entry('b', 'h4', 'm4')], 64);
    expect(shape(calls)).toEqual([
      ['a', ['m1', 'm3']],
      ['b', ['m2', 'm4']],
    ]);
  });

  it('cuts a large group into even calls of at most maxSize BMCs', () => {
    const entries = Array.from({ length: 200 }, (_, i) => entry('g', `10.0.${Math.floor(i / 250)}.${i % 250}`, `m${i}`));
    const calls = planBatchCalls(entries, 64);
    expect(calls.map((c) => c.members.length)).toEqual([50, 50, 50, 50]);
    expect(calls.flatMap((c) => c.members.flatMap((m) => m.items))).toEqual(entries.map((e) => e.item));
    expect(planBatchCalls(entries.slice(0, 65), 64).map((c) => c.members.length)).toEqual([33, 32]);
    expect(planBatchCalls(entries.slice(0, 10), 4).map((c) => c.members.length)).toEqual([4, 3, 3]);
    expect(planBatchCalls(entries.slice(0, 3), 1).map((c) => c.members.length)).toEqual([1, 1, 1]);
  });

  it('asks a BMC that several machines share once', () => {
    const calls = planBatchCalls([entry('g', 'h1', 'm1'), entry('g', 'h2', 'm2'), entry('g', 'h1', 'm3')], 64);
    expect(shape(calls)).toEqual([['g', ['m1+m3', 'm2']]]);
  });

  it('never puts two BMCs of one name (one host, two ports) in one call', () => {
    const calls = planBatchCalls(
      [entry('g', '10.0.0.5', 'm1', 6230), entry('g', '10.0.0.5', 'm2', 6231), entry('g', '10.0.0.6', 'm3'), entry('g', 'BMC', 'm4'), entry('g', 'bmc', 'm5', 7)],
      64,
    );
    expect(shape(calls)).toEqual([
      ['g', ['m1', 'm3', 'm4']],
      ['g', ['m2', 'm5']],
    ]);
  });

  it('refuses a maximum below one', () => {
    expect(() => planBatchCalls([], 0)).toThrow(/at least one/);
  });
});
