import { loadRackConfig, RackConfigError } from './rack.config';

describe('loadRackConfig', () => {
  it('gives sensible defaults', () => {
    const c = loadRackConfig({});
    expect(c).toMatchObject({
      nats: { url: 'nats://127.0.0.1:4222', prefix: '', requestTimeoutMs: 2000 },
      stateDir: '/var/lib/kiln-rack',
      interfaces: null,
      ports: { dhcp: 67, tftp: 69, http: 5248 },
    });
    expect(c.hostname.length).toBeGreaterThan(0);
  });

  it('reads interfaces, ports and the state directory', () => {
    const c = loadRackConfig({
      KILN_RACK_INTERFACES: 'eth1, br-vlan20',
      KILN_DHCP_PORT: '1067',
      KILN_RACK_STATE_DIR: './tmp/rack',
      KILN_NATS_PREFIX: 'site1.',
    });
    expect(c.interfaces).toEqual(['eth1', 'br-vlan20']);
    expect(c.ports.dhcp).toBe(1067);
    expect(c.stateDir).toBe('./tmp/rack');
    expect(c.nats.prefix).toBe('site1.');
  });

  it('reads the enrollment token and the region signing keys to pin', () => {
    const k = 'A'.repeat(43);
    const c = loadRackConfig({ KILN_RACK_ENROLL_TOKEN: 'tok', KILN_REGION_SIGNING_KEY: `${k}, ${'B'.repeat(43)}` });
    expect(c.enrollToken).toBe('tok');
    expect(c.nats.regionSigningKeys).toEqual([k, 'B'.repeat(43)]);
    expect(loadRackConfig({}).nats.regionSigningKeys).toEqual([]);
  });

  it('reads the DHCP offer limits: 256 outstanding offers per subnet and a 10 s offer hold by default', () => {
    expect(loadRackConfig({}).dhcp).toEqual({ maxOffersPerSubnet: 256, offerHoldSeconds: 10 });
    const c = loadRackConfig({ KILN_DHCP_MAX_OFFERS: '64', KILN_DHCP_OFFER_HOLD_SECONDS: '5' });
    expect(c.dhcp).toEqual({ maxOffersPerSubnet: 64, offerHoldSeconds: 5 });
    expect(() => loadRackConfig({ KILN_DHCP_MAX_OFFERS: '0' })).toThrow(/KILN_DHCP_MAX_OFFERS/);
  });

  it.each([
    [{ KILN_NATS_URL: 'http://x' }, /must use nats/],
    [{ KILN_DHCP_PORT: '70000' }, /between 0 and 65535/],
    [{ KILN_NATS_PREFIX: 'nodot' }, /KILN_NATS_PREFIX/],
    [{ KILN_RACK_INTERFACES: 'eth0;rm' }, /not an interface name/],
    [{ KILN_REGION_SIGNING_KEY: 'not-a-key' }, /KILN_REGION_SIGNING_KEY/],
  ])('refuses %j', (env, msg) => {
    expect(() => loadRackConfig(env)).toThrow(RackConfigError);
    expect(() => loadRackConfig(env)).toThrow(msg);
  });

  it('names every bad variable at once, each with what is wrong with it', () => {
    let err: unknown;
    try {
      loadRackConfig({ KILN_NATS_URL: 'http://x', KILN_RACK_SERVICES: 'dhcp,ntp', KILN_RACK_TFTP_ADDRESSES: '10.0.0.1 ten', KILN_REGION_URL: 'ftp://r' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RackConfigError);
    expect((err as RackConfigError).problems).toEqual([
      'KILN_NATS_URL must use nats: or tls:, got "http:"',
      'KILN_REGION_URL must be an http(s) URL, got "ftp://r"',
      'KILN_RACK_SERVICES: "ntp" is not one of dhcp, tftp, http, power',
      'KILN_RACK_TFTP_ADDRESSES: "ten" is not an IPv4 address',
    ]);
  });

  it('derives the boot root from the state directory, and trims the region URL', () => {
    const c = loadRackConfig({ KILN_RACK_STATE_DIR: '/srv/rack', KILN_REGION_URL: 'http://region:5240/MAAS//', KILN_RACK_HOSTNAME: 'r1' });
    expect(c).toMatchObject({ bootRoot: '/srv/rack/boot', regionUrl: 'http://region:5240/MAAS', hostname: 'r1', services: ['dhcp', 'tftp', 'http', 'power'] });
    expect(loadRackConfig({ KILN_RACK_BOOT_ROOT: '/srv/boot' }).bootRoot).toBe('/srv/boot');
  });
});
