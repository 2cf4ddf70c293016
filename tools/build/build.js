#!/usr/bin/env node
// Builds one Kiln app into JavaScript that runs with plain `node`, no compiler at start-up:
//
//   node tools/build/build.js apps/region --main src/main.ts         -> node dist/apps/region/main.js
//   node tools/build/build.js apps/rack --main src/main.ts --native native
//
// (the apps' Nx `build` targets run exactly this; `npx nx run-many -t build` builds them all).
//
// Why SWC, file by file: it is the compiler the register hook (tools/register.js), the tests
// (@swc/jest) and the TFTP worker already run from sources, so the built output behaves as the
// code we test does: the same decorator metadata for NestJS and TypeORM, the same class-field
// semantics, the same @kiln/* alias resolution (SWC's own, from the `paths` of tsconfig.base.json,
// whatever aliases it lists). It is a dependency already, and it transpiles the whole region in
// about a second where tsc would type-check it again (that is `npm run typecheck`'s job).
// No bundler: every module stays its own file, so code that finds a neighbour through __dirname
// (the TFTP worker, the rack's native addon) finds it in the build as in the sources.
//
// Layout: each app's output is its own tree, dist/<app>/, in which compiled files keep their
// repository paths (dist/apps/rack/apps/rack/src/main.js, dist/apps/rack/libs/power/src/...), and
// dist/<app>/main.js starts the app. What goes in: every non-test module of the app (test files,
// `testing/` folders and benchmarks left out), and every module they import, followed through the
// aliases into libs/. The libs are compiled into each app that uses them, so apps never share
// output files and build in parallel.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const swc = require('@swc/core');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..', '..');

function fail(message) {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

/** The compiler options of tsconfig.base.json (extends and comments resolved as tsc would). */
function compilerOptions() {
  const file = path.join(ROOT, 'tsconfig.base.json');
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) fail(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { options, errors } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, file);
  if (errors.length) fail(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  return options;
}

/** SWC settings equivalent to what tools/register.js derives from the same tsconfig. */
function swcOptions(options) {
  const target = options.target ?? ts.ScriptTarget.ES2022;
  const baseUrl = path.resolve(ROOT, options.baseUrl ?? '.');
  return {
    swcrc: false,
    configFile: false,
    module: { type: 'commonjs', noInterop: !options.esModuleInterop },
    sourceMaps: true,
    inlineSourcesContent: false,
    jsc: {
      target: ts.ScriptTarget[target].toLowerCase(),
      parser: { syntax: 'typescript', decorators: !!options.experimentalDecorators, dynamicImport: true },
      transform: {
        legacyDecorator: !!options.experimentalDecorators,
        decoratorMetadata: !!options.emitDecoratorMetadata,
        // TypeScript's default: define semantics from ES2022 on.
        useDefineForClassFields: options.useDefineForClassFields ?? target >= ts.ScriptTarget.ES2022,
      },
      // Nest and TypeORM name providers and entities after their classes.
      keepClassNames: true,
      baseUrl,
      paths: Object.fromEntries(Object.entries(options.paths ?? {}).map(([alias, targets]) => [alias, targets.map((t) => path.resolve(baseUrl, t))])),
    },
  };
}

/** Does a module specifier still name one of the tsconfig aliases (SWC left it unresolved)? */
function aliasMatcher(paths) {
  const patterns = Object.keys(paths ?? {}).map((alias) => {
    const star = alias.indexOf('*');
    return star < 0 ? (s) => s === alias : (s) => s.startsWith(alias.slice(0, star)) && s.endsWith(alias.slice(star + 1));
  });
  return (specifier) => patterns.some((p) => p(specifier));
}

/** The module files of the app itself: everything under its src/ but tests, test harnesses and benchmarks. */
function appModules(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testing' && entry.name !== 'fixtures' && entry.name !== 'node_modules') out.push(...appModules(p));
    } else if (/\.tsx?$/.test(entry.name) && !/\.(spec|bench|d)\.tsx?$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** The file a relative require of the compiled code names, as node would find it next to the sources. */
function resolveSource(fromFile, specifier) {
  const base = path.resolve(path.dirname(fromFile), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, `${base}.js`, `${base}.json`, path.join(base, 'index.ts'), path.join(base, 'index.js')];
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      main: { type: 'string', default: 'src/main.ts' },
      native: { type: 'string', multiple: true, default: [] },
      asset: { type: 'string', multiple: true, default: [] },
      out: { type: 'string' },
    },
  });
  if (positionals.length !== 1) fail('usage: build.js <project root, e.g. apps/region> [--main src/main.ts] [--native <dir>]... [--asset <path>]... [--out <dir>]');
  const project = path.resolve(ROOT, positionals[0]);
  const projectRel = path.relative(ROOT, project);
  const final = path.resolve(ROOT, values.out ?? path.join('dist', projectRel));
  // Built beside the old output and swapped in at the end: a failed build leaves the previous
  // one whole, and a running app never sees half a tree.
  const out = `${final}.partial-${process.pid}`;
  const entry = path.join(project, values.main);
  if (!fs.existsSync(entry)) fail(`no entry ${path.relative(ROOT, entry)}`);

  const tsOptions = compilerOptions();
  const options = swcOptions(tsOptions);
  const isAlias = aliasMatcher(tsOptions.paths);
  const started = Date.now();

  fs.rmSync(out, { recursive: true, force: true });
  process.on('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  const queue = [entry, ...appModules(path.join(project, 'src'))];
  const seen = new Set();
  const problems = [];
  while (queue.length) {
    const src = queue.pop();
    if (seen.has(src)) continue;
    seen.add(src);
    const rel = path.relative(ROOT, src);
    if (rel.startsWith('..')) {
      problems.push(`${rel}: outside the repository`);
      continue;
    }
    const dest = path.join(out, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (!/\.tsx?$/.test(src)) {
      fs.copyFileSync(src, dest);
      continue;
    }
    const jsFile = dest.replace(/\.tsx?$/, '.js');
    let result;
    try {
      result = swc.transformSync(fs.readFileSync(src, 'utf8'), {
        ...options,
        filename: src,
        sourceFileName: path.relative(path.dirname(jsFile), src),
      });
    } catch (e) {
      problems.push(`${rel}: ${e.message ?? e}`);
      continue;
    }
    for (const m of result.code.matchAll(/\brequire\("((?:[^"\\]|\\.)*)"\)/g)) {
      const specifier = m[1];
      if (specifier.startsWith('.')) {
        const found = resolveSource(src, specifier);
        if (found) queue.push(found);
        else problems.push(`${rel}: cannot find "${specifier}"`);
      } else if (isAlias(specifier)) {
        problems.push(`${rel}: the alias "${specifier}" matches no file of tsconfig.base.json's paths`);
      } else if (path.isAbsolute(specifier)) {
        problems.push(`${rel}: absolute require "${specifier}"`);
      }
    }
    fs.writeFileSync(jsFile, `${result.code}\n//# sourceMappingURL=${path.basename(jsFile)}.map\n`);
    fs.writeFileSync(`${jsFile}.map`, result.map);
  }
  if (problems.length) fail(`${projectRel}:\n  ${problems.join('\n  ')}`);

  // Native addons: built from their sources by their build.sh (which skips the compile when the
  // module is newer than them), and the module copied into the build. The addon loader runs
  // build.sh before it loads the module; the build's build.sh only checks that the module is
  // there: a built rack never compiles C when it starts, takes no lock, and runs from a
  // read-only tree (the compose file mounts the checkout read-only).
  for (const dir of values.native) {
    const srcDir = path.join(project, dir);
    const destDir = path.join(out, path.relative(ROOT, srcDir));
    execFileSync('bash', [path.join(srcDir, 'build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    const release = path.join(srcDir, 'build', 'Release');
    const modules = fs.readdirSync(release).filter((f) => f.endsWith('.node'));
    if (!modules.length) fail(`${path.relative(ROOT, srcDir)}: build.sh left no .node module in build/Release`);
    fs.mkdirSync(path.join(destDir, 'build', 'Release'), { recursive: true });
    fs.writeFileSync(
      path.join(destDir, 'build.sh'),
      [
        '#!/usr/bin/env bash',
        `# Generated by tools/build/build.js: ${modules.join(', ')} ship prebuilt in this build; nothing to compile.`,
        'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        ...modules.map((m) => `[[ -f "$here/build/Release/${m}" ]] || { echo "${m} is missing from this build: run the build again" >&2; exit 1; }`),
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    for (const m of modules) fs.copyFileSync(path.join(release, m), path.join(destDir, 'build', 'Release', m));
  }

  // Files the code reads at run time beside its modules (scripts served to machines, say): copied
  // to the same place relative to the compiled code, specs left out.
  for (const asset of values.asset) {
    const src = path.resolve(ROOT, asset);
    if (!fs.existsSync(src)) fail(`asset ${asset} does not exist`);
    fs.cpSync(src, path.join(out, path.relative(ROOT, src)), { recursive: true, filter: (f) => !/\.spec\.ts$/.test(f) });
  }

  const compiledEntry = `./${path.relative(out, path.join(out, path.relative(ROOT, entry))).replace(/\.tsx?$/, '.js')}`;
  fs.writeFileSync(
    path.join(out, 'main.js'),
    `// Starts the built ${projectRel} (generated by tools/build/build.js).\n'use strict';\nrequire(${JSON.stringify(compiledEntry)});\n`,
  );
  const old = `${final}.old-${process.pid}`;
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(out, final);
  fs.rmSync(old, { recursive: true, force: true });
  const ms = Date.now() - started;
  process.stdout.write(`built ${projectRel}: ${seen.size} modules in ${ms} ms -> ${path.relative(ROOT, final)}/main.js\n`);
}

main();
