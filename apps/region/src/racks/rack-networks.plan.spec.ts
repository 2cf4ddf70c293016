import { canonicalJson, linkOrder, observedLinks } from './rack-networks.plan';

describe('observedLinks', () => {
  it('gives each address its network, host bits cleared', () => {
    expect(observedLinks(['10.20.0.5/24', '2001:db8:1::5/64'])).toEqual([
      { ip: '10.20.0.5', cidr: '10.20.0.0/24' },
      { ip: '2001:db8:1::5', cidr: '2001:db8:1::/64' },
    ]);
  });

  it('ignores loopback, link-local, host routes, duplicates and garbage', () => {
    expect(observedLinks(['127.0.0.1/8', '::1/128', '169.254.3.4/16', 'fe80::1/64', '10.0.0.9/32', 'nonsense', '10.1.0.1/16', '10.1.0.1/16'])).toEqual([
      { ip: '10.1.0.1', cidr: '10.1.0.0/16' },
    ]);
  });
});

describe('linkOrder', () => {
  it('puts untagged interfaces before VLAN interfaces', () => {
    const order = linkOrder([
      { name: 'eth0.100', vlan: 100 },
      { name: 'eth1', vlan: null },
      { name: 'eth0', vlan: null },
    ]).map((i) => i.name);
    expect(order).toEqual(['eth0', 'eth1', 'eth0.100']);
  });
});

describe('canonicalJson', () => {
  it('ignores key order', () => {
    expect(canonicalJson([{ b: 1, a: { d: 2, c: [3] } }])).toBe(canonicalJson([{ a: { c: [3], d: 2 }, b: 1 }]));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: 2 }));
  });
});
