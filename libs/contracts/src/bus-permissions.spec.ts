import { isUserNkey, rackPermissions, renderNatsServerConfig } from './bus-permissions';

const REGION = `U${'A'.repeat(55)}`;
const RACK = `U${'B'.repeat(55)}`;

describe('bus permissions', () => {
  it("confines a rack to its own subjects under the site's prefix", () => {
    expect(rackPermissions('site1.', 'r1')).toEqual({
      publish: ['site1.region.rack.r1.>', 'site1.region.events.*.r1'],
      subscribe: ['site1.rack.r1.>', 'site1._INBOX_rack.r1.>'],
      allowResponses: true,
    });
  });

  it('refuses rack ids that would widen a subject (wildcards, dots)', () => {
    for (const bad of ['*', '>', 'a.b', 'a b', '']) expect(() => rackPermissions('', bad)).toThrow(/subject token/);
  });

  it('renders nkey users only, no anonymous user, with JetStream and optional TLS', () => {
    const conf = renderNatsServerConfig({
      listen: '0.0.0.0:4222',
      jetstreamDir: '/var/lib/kiln/nats',
      prefix: '',
      regionNkeys: [REGION],
      racks: [{ rackId: 'r1', nkey: RACK }],
      tls: { certFile: '/etc/kiln/nats.crt', keyFile: '/etc/kiln/nats.key' },
    });
    expect(conf).toContain('listen: "0.0.0.0:4222"');
    expect(conf).toContain('jetstream { store_dir: "/var/lib/kiln/nats" }');
    expect(conf).toContain('tls { cert_file: "/etc/kiln/nats.crt", key_file: "/etc/kiln/nats.key" }');
    expect(conf).toContain(`{ nkey: "${RACK}", permissions: { publish: { allow: ["region.rack.r1.>", "region.events.*.r1"] }`);
    expect(conf).not.toMatch(/no_auth_user|password|user:/);
  });

  it('refuses to render a config with a malformed key or without a region', () => {
    expect(isUserNkey(RACK)).toBe(true);
    expect(isUserNkey('SUAB')).toBe(false);
    const base = { listen: 'x:1', jetstreamDir: '/d', prefix: '', racks: [] };
    expect(() => renderNatsServerConfig({ ...base, regionNkeys: [] })).toThrow(/region nkey/);
    expect(() => renderNatsServerConfig({ ...base, regionNkeys: ['"; no_auth_user: x'] })).toThrow(/public nkey/);
  });
});
