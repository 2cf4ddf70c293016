import { CommandMemory } from './command.memory';

describe('CommandMemory', () => {
  it('forgets an outcome after its lifetime and keeps at most its capacity', async () => {
    let now = 0;
    const mem = new CommandMemory<number>(1000, 2, () => now);
    let runs = 0;
    const act = () => Promise.resolve(++runs);
    expect(await mem.once('a', act)).toBe(1);
    expect(await mem.once('a', act)).toBe(1);
    now = 1001;
    expect(await mem.once('a', act)).toBe(2);
    await mem.once('b', act);
    await mem.once('c', act);
    expect(mem.size).toBeLessThanOrEqual(2);
  });
});
