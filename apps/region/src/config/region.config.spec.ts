import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadRegionConfig } from './region.config';

const KEY = 'k'.repeat(40);

describe('loadRegionConfig', () => {
  it('gives sensible defaults', () => {
    const c = loadRegionConfig({ KILN_SECRET_KEY: KEY });
    expect(c.http.port).toBe(5240);
    expect(c.lifecycle.nodeTimeoutMinutes).toBe(30);
    expect(c.secretKey).toHaveLength(32);
  });

  it.each([
    [{ KILN_HTTP_PORT: 'abc' }, /KILN_HTTP_PORT must be an integer/],
    [{ KILN_HTTP_PORT: '70000' }, /between 0 and 65535/],
    [{ KILN_DATABASE_URL: 'mysql://x' }, /KILN_DATABASE_URL must use postgres/],
    [{ KILN_REDIS_URL: 'not a url' }, /KILN_REDIS_URL is not a URL/],
  ])('refuses bad settings %j', (env, msg) => {
    expect(() => loadRegionConfig({ KILN_SECRET_KEY: KEY, ...env })).toThrow(msg);
  });

  it("reads where SSH keys are imported from, with MAAS's sources as defaults", () => {
    expect(loadRegionConfig({ KILN_SECRET_KEY: KEY }).sshKeyImport).toEqual({
      launchpadUrl: 'https://launchpad.net',
      githubUrl: 'https://api.github.com',
      timeoutMs: 10_000,
      maxBytes: 1_048_576,
    });
    const c = loadRegionConfig({
      KILN_SECRET_KEY: KEY,
      KILN_SSH_IMPORT_LAUNCHPAD_URL: 'http://127.0.0.1:8080/lp/',
      KILN_SSH_IMPORT_GITHUB_URL: 'https://ghe.example.com/api/v3',
      KILN_SSH_IMPORT_TIMEOUT_MS: '500',
      KILN_SSH_IMPORT_MAX_BYTES: '4096',
    });
    expect(c.sshKeyImport).toEqual({ launchpadUrl: 'http://127.0.0.1:8080/lp', githubUrl: 'https://ghe.example.com/api/v3', timeoutMs: 500, maxBytes: 4096 });
    expect(() => loadRegionConfig({ KILN_SECRET_KEY: KEY, KILN_SSH_IMPORT_GITHUB_URL: 'ftp://x' })).toThrow(/KILN_SSH_IMPORT_GITHUB_URL must use https: or http:/);
    expect(() => loadRegionConfig({ KILN_SECRET_KEY: KEY, KILN_SSH_IMPORT_TIMEOUT_MS: '10' })).toThrow(/KILN_SSH_IMPORT_TIMEOUT_MS must be between/);
  });

  it('reads the rack settings: NATS prefix and heartbeat interval', () => {
    const c = loadRegionConfig({ KILN_SECRET_KEY: KEY, KILN_NATS_PREFIX: 'site1.', KILN_RACK_HEARTBEAT_MS: '500' });
    expect(c.nats.prefix).toBe('site1.');
    expect(c.racks).toEqual({ heartbeatIntervalMs: 500 });
    expect(loadRegionConfig({ KILN_SECRET_KEY: KEY }).racks).toEqual({ heartbeatIntervalMs: 10_000 });
    expect(() => loadRegionConfig({ KILN_SECRET_KEY: KEY, KILN_NATS_PREFIX: 'no dot' })).toThrow(/KILN_NATS_PREFIX/);
  });

  it('requires a secret key of real length', () => {
    expect(() => loadRegionConfig({})).toThrow(ConfigError);
    expect(() => loadRegionConfig({ KILN_SECRET_KEY: 'short' })).toThrow(/at least 32/);
  });

  it('names every bad variable at once, not just the first', () => {
    let err: unknown;
    try {
      loadRegionConfig({ KILN_HTTP_PORT: 'abc', KILN_REDIS_URL: 'not a url', KILN_NATS_SERVER_CONFIG: '/etc/kiln/nats.conf' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual([
      'KILN_HTTP_PORT must be an integer, got "abc"',
      'KILN_REDIS_URL is not a URL: "not a url"',
      'KILN_SECRET_KEY or KILN_SECRET_KEY_FILE must be set (the key that encrypts BMC secrets)',
      "KILN_NATS_SERVER_CONFIG needs KILN_NATS_NKEY_FILE (the region's own NATS identity)",
    ]);
    expect((err as ConfigError).message).toBe(problems.join('; '));
  });

  it('reads the secret key from a file first, and names the file variable when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-config-'));
    try {
      const file = join(dir, 'secret');
      writeFileSync(file, `${KEY}\n`);
      const fromFile = loadRegionConfig({ KILN_SECRET_KEY_FILE: file, KILN_SECRET_KEY: 'short' }).secretKey;
      expect(fromFile.equals(loadRegionConfig({ KILN_SECRET_KEY: KEY }).secretKey)).toBe(true);
      expect(() => loadRegionConfig({ KILN_SECRET_KEY_FILE: join(dir, 'missing') })).toThrow(/^KILN_SECRET_KEY_FILE cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
