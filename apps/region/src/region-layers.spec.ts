import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The region's layering, checked on the source: an `*.api.ts` turns parameters into typed inputs,
 * a service decides and throws coded domain errors, a `*.repository.ts` owns the SQL.
 */
const SRC = __dirname;

/** Folders already in layers. Add a folder here once it is. */
const LAYERED = ['machines', 'common', 'scripts', 'networking', 'inventory', 'users', 'events', 'misc', 'power', 'metadata', 'commissioning', 'boot-resources', 'storage', 'spaces', 'static-routes', 'domains', 'devices', 'nodes', 'region-controllers', 'settings', 'sslkeys', 'license-keys', 'notifications', 'files', 'package-repositories', 'dhcp-snippets', 'discoveries', 'boot-sources', 'pods', 'interfaces', 'ipaddresses', 'clone'];
/** Files of folders whose other parts (NATS handlers) are not in layers yet. */
const LAYERED_FILES = ['racks/racks.api.ts', 'racks/racks.service.ts', 'racks/rack-enrollment.service.ts', 'racks/racks.repository.ts', 'racks/rack-networks.service.ts', 'racks/rack-networks.repository.ts', 'racks/rack-networks.plan.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const files = [...LAYERED.flatMap((folder) => sources(join(SRC, folder))), ...LAYERED_FILES.map((f) => join(SRC, f))].map((path) => ({
  path: relative(SRC, path),
  text: readFileSync(path, 'utf8'),
}));

/** The HTTP edge: the only files that may speak HTTP. */
const isHttpEdge = (path: string) => /\.(api|controller)\.ts$/.test(path);

describe('region layers', () => {
  it('finds the sources it checks', () => {
    for (const folder of LAYERED) expect(files.some((f) => f.path.startsWith(`${folder}/`))).toBe(true);
  });

  it('keeps HTTP types out of everything but the API files', () => {
    const leaks = files.filter((f) => !isHttpEdge(f.path) && /from '(\.\.\/)+api\//.test(f.text)).map((f) => f.path);
    expect(leaks).toEqual([]);
  });

  it('keeps every query in a repository', () => {
    // Raw SQL, TypeORM repositories, or a DataSource/EntityManager queried directly. A service may
    // open a transaction (it decides the unit of work) and pass it to the repositories it calls.
    const sql = /`\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s|getRepository\(|\b(ds|em|manager|dataSource)\.query\(/;
    const outside = files.filter((f) => !f.path.endsWith('.repository.ts') && sql.test(f.text)).map((f) => f.path);
    expect(outside).toEqual([]);
  });

  it('has no API file import another API file', () => {
    const apiImports = files.filter((f) => f.path.endsWith('.api.ts') && /from '[^']*\.api'/.test(f.text)).map((f) => f.path);
    expect(apiImports).toEqual([]);
  });
});
