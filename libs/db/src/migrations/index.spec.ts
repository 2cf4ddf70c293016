import { readdirSync } from 'node:fs';
import { MIGRATIONS } from './index';

/** TypeORM runs migrations in timestamp order; the list the built apps carry must say the same. */
describe('MIGRATIONS', () => {
  const stamp = (name: string) => Number(/(\d{13})$/.exec(name)?.[1]);

  it('lists every migration file in this directory, once', () => {
    const files = readdirSync(__dirname)
      .filter((f) => /^\d{13}-\w+\.ts$/.test(f))
      .map((f) => { const [ts, name] = f.replace(/\.ts$/, '').split('-'); return `${name}${ts}`; });
    expect(MIGRATIONS.map((m) => m.name).sort()).toEqual(files.sort());
  });

  it('is in the order TypeORM runs them: by timestamp', () => {
    const stamps = MIGRATIONS.map((m) => stamp(m.name));
    expect(stamps.every((s) => Number.isFinite(s))).toBe(true);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });
});
