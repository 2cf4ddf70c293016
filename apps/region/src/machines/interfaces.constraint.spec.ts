import { InterfaceFacts, matchInterfaces, parseInterfacesConstraint } from './interfaces.constraint';

describe('interfaces constraint', () => {
  const ifaces: InterfaceFacts[] = [
    { id: 1, fabric: 'fabric-0', vid: 0, spaces: ['public'], subnets: [{ id: 10, name: 'pub', cidr: '10.0.0.0/24' }] },
    { id: 2, fabric: 'fabric-0', vid: 30, spaces: ['storage'], subnets: [{ id: 11, name: 'store', cidr: '10.30.0.0/24' }] },
    { id: 3, fabric: 'fabric-1', vid: null, spaces: [], subnets: [] },
  ];

  it('parses labels and key=value pairs, as Juju sends them', () => {
    expect(parseInterfacesConstraint('net0:space=public;net1:space=storage,not_vid=0')).toEqual([
      { label: 'net0', checks: [{ key: 'space', values: ['public'], negate: false }] },
      { label: 'net1', checks: [{ key: 'space', values: ['storage'], negate: false }, { key: 'vid', values: ['0'], negate: true }] },
    ]);
    expect(parseInterfacesConstraint('fabric=a,fabric=b')).toEqual([{ label: '0', checks: [{ key: 'fabric', values: ['a', 'b'], negate: false }] }]);
  });

  it('refuses unknown keys, malformed entries and repeated labels with 400 naming interfaces', () => {
    for (const bad of ['net0:colour=red', 'net0:space', 'a:space=x;a:space=y', 'a:']) {
      expect(() => parseInterfacesConstraint(bad)).toThrow(expect.objectContaining({ code: 'INVALID', detail: { interfaces: [expect.any(String)] } }));
    }
  });

  it('assigns a distinct interface to each label, or nothing when one cannot be met', () => {
    expect(matchInterfaces(parseInterfacesConstraint('a:space=public;b:space=storage'), ifaces)).toEqual({ a: [1], b: [2] });
    expect(matchInterfaces(parseInterfacesConstraint('a:subnet=10.30.0.0/24'), ifaces)).toEqual({ a: [2] });
    expect(matchInterfaces(parseInterfacesConstraint('a:subnet=pub'), ifaces)).toEqual({ a: [1] });
    expect(matchInterfaces(parseInterfacesConstraint('a:fabric=fabric-1'), ifaces)).toEqual({ a: [3] });
    expect(matchInterfaces(parseInterfacesConstraint('a:not_space=public,fabric=fabric-0'), ifaces)).toEqual({ a: [2] });
    expect(matchInterfaces(parseInterfacesConstraint('a:space=public;b:space=public'), ifaces)).toBeNull();
    expect(matchInterfaces(parseInterfacesConstraint('a:vid=99'), ifaces)).toBeNull();
  });
});
