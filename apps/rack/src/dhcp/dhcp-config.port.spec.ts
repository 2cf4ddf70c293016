import { DhcpConfig, InMemoryDhcpConfigSource, validateDhcpConfig } from './dhcp-config.port';
import { LAB_CONFIG } from './testing/handler.harness';

function withSubnet(patch: Partial<DhcpConfig['subnets'][number]>, extra: Partial<DhcpConfig> = {}): DhcpConfig {
  const c = structuredClone(LAB_CONFIG);
  Object.assign(c.subnets[0], patch);
  return Object.assign(c, extra);
}

describe('DhcpConfig validation', () => {
  it('accepts the lab config', () => {
    expect(() => validateDhcpConfig(LAB_CONFIG)).not.toThrow();
  });

  it.each<[string, DhcpConfig]>([
    ['a range outside the subnet', withSubnet({ ranges: [{ start: '10.1.2.1', end: '10.1.2.9' }] })],
    ['a range that ends before it starts', withSubnet({ ranges: [{ start: '10.1.1.9', end: '10.1.1.1' }] })],
    ['overlapping ranges', withSubnet({ ranges: [{ start: '10.1.1.10', end: '10.1.1.20' }, { start: '10.1.1.20', end: '10.1.1.30' }] })],
    ['a reservation outside the subnet', withSubnet({ reservations: [{ mac: '52:54:00:00:00:01', ip: '10.9.9.9' }] })],
    ['an upper-case reservation MAC', withSubnet({ reservations: [{ mac: '52:54:00:00:00:AA', ip: '10.1.1.9' }] })],
    ['an unknown interface', withSubnet({ interface: 'eth9' })],
    ['a bad CIDR', withSubnet({ cidr: '10.1.1.0/33' })],
    ['overlapping subnets', withSubnet({ cidr: '10.1.0.0/16', ranges: [] })],
    ['a relayed subnet without a server address', { ...structuredClone(LAB_CONFIG), serverAddress: undefined }],
    ['a too-short lease', withSubnet({ leaseSeconds: 5 })],
  ])('rejects %s', (_what, config) => {
    expect(() => validateDhcpConfig(config)).toThrow(TypeError);
  });

  it('keeps the previous snapshot when an update is invalid, and notifies subscribers of valid ones', () => {
    const source = new InMemoryDhcpConfigSource(LAB_CONFIG);
    const seen: DhcpConfig[] = [];
    source.subscribe((c) => seen.push(c));
    expect(() => source.update(withSubnet({ cidr: 'nonsense' }))).toThrow();
    expect(source.current()).toBe(LAB_CONFIG);
    const next = withSubnet({ leaseSeconds: 3600 });
    source.update(next);
    expect(source.current()).toBe(next);
    expect(seen).toEqual([next]);
  });
});
