import { CliConfigError, loadCliConfig } from './cli.config';

describe('loadCliConfig', () => {
  it('gives the region defaults, and no NATS server settings without the region nkey', () => {
    expect(loadCliConfig({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/kiln',
      natsServer: null,
      natsServerConfigFile: null,
    });
  });

  it('reads the NATS server settings a region writes', () => {
    const c = loadCliConfig({
      KILN_NATS_NKEY_FILE: '/etc/kiln/region.nk',
      KILN_NATS_SERVER_CONFIG: '/etc/kiln/nats.conf',
      KILN_NATS_PREFIX: 'site1.',
      KILN_NATS_TLS_CERT: '/etc/kiln/tls.crt',
      KILN_NATS_TLS_KEY: '/etc/kiln/tls.key',
    });
    expect(c.natsServer).toEqual({
      nkeyFile: '/etc/kiln/region.nk',
      listen: '0.0.0.0:4222',
      jetstreamDir: '/var/lib/kiln/nats',
      pidFile: '/run/kiln/nats-server.pid',
      prefix: 'site1.',
      tls: { certFile: '/etc/kiln/tls.crt', keyFile: '/etc/kiln/tls.key' },
    });
    expect(c.natsServerConfigFile).toBe('/etc/kiln/nats.conf');
  });

  it('names every bad variable at once', () => {
    let err: unknown;
    try {
      loadCliConfig({ KILN_DATABASE_URL: 'mysql://x', KILN_NATS_PREFIX: 'nodot' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliConfigError);
    expect((err as CliConfigError).problems).toEqual([
      'KILN_DATABASE_URL must use postgres: or postgresql:, got "mysql:"',
      'KILN_NATS_PREFIX must be dot-terminated subject tokens (e.g. "site1."), got "nodot"',
    ]);
  });
});
