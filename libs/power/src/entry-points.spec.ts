// The entry points keep their promises: the catalogue (what the region imports) reaches no driver,
// adapter or runner code, and no entry point but @kiln/power/testing reaches the test harnesses.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = __dirname;

/** Every source file `entry` imports, directly or not (relative imports; packages are leaves). */
function closure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
      const base = resolve(dirname(file), m[1]);
      const target = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
      if (!target) throw new Error(`${relative(SRC, file)}: cannot resolve ${m[1]}`);
      visit(target);
    }
  };
  visit(join(SRC, entry));
  return [...seen].map((f) => relative(SRC, f)).sort();
}

describe('@kiln/power entry points', () => {
  it('the catalogue reaches settings, errors and types only', () => {
    const files = closure('catalogue.ts');
    expect(files).toContain('power-types.catalogue.ts');
    expect(files).toContain('drivers/ipmi/ipmi.settings.ts');
    const runtime = files.filter((f) => /\.driver\.ts$|^adapters\/|^testing\/|power\.(control|runner|policy|batch)\.ts$|\.commands\.ts$/.test(f));
    expect(runtime).toEqual([]);
  });

  it.each(['index.ts', 'drivers/index.ts', 'catalogue.ts'])('%s reaches no test harness', (entry) => {
    const files = closure(entry);
    expect(files.length).toBeGreaterThan(1);
    expect(files.filter((f) => f.startsWith('testing/'))).toEqual([]);
  });

  it('the testing entry point exports the harnesses', () => {
    expect(closure('testing/index.ts')).toEqual(expect.arrayContaining(['testing/ipmi-sim.harness.ts', 'testing/libvirtd.harness.ts']));
  });
});
