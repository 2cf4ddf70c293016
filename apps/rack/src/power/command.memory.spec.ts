import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandJournal } from './command.journal';
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

describe('CommandMemory with a journal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-command-journal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers from the journal after a restart, forgets failures and old lines, and survives a torn line', async () => {
    const file = join(dir, 'a.jsonl');
    let now = 1_000_000;
    const memory = () => new CommandMemory<number>(1000, 100, () => now, new CommandJournal<number>(file, 1000));
    let runs = 0;
    const act = () => Promise.resolve(++runs);
    await memory().once('a', act);
    await memory()
      .once('b', () => Promise.reject(new Error('BMC unreachable')))
      .catch(() => undefined);
    appendFileSync(file, '{"k":"torn","at":');
    const restarted = memory();
    expect(await restarted.once('a', act)).toBe(1);
    expect(runs).toBe(1);
    expect(await restarted.once('b', act)).toBe(2);
    now += 5000;
    expect(await memory().once('a', act)).toBe(3);
    expect(readFileSync(file, 'utf8')).not.toContain('torn');
  });

  it('tells a command it was carrying out when it stopped apart from a new one', async () => {
    const file = join(dir, 'b.jsonl');
    void new CommandMemory<string>(60_000, 100, Date.now, new CommandJournal<string>(file, 60_000)).once('x', () => new Promise<string>(() => undefined));
    const restarted = new CommandMemory<string>(60_000, 100, Date.now, new CommandJournal<string>(file, 60_000));
    const interrupted = { interrupted: () => Promise.resolve('finished carefully') };
    expect(await restarted.once('x', () => Promise.resolve('again'), interrupted)).toBe('finished carefully');
    expect(await restarted.once('y', () => Promise.resolve('new'), interrupted)).toBe('new');
  });
});
