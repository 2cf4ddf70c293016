import type { NetworkInterfaceInfo } from 'node:os';
import { discoverInterfaces, vlanOf } from './interfaces.discovery';

const v4 = (address: string, cidr: string, mac: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac,
  internal,
  cidr,
});

describe('interfaces discovery', () => {
  it('reports MACs, CIDR addresses and VLANs, and leaves out loopback and unconfigured interfaces', () => {
    const found = discoverInterfaces(null, {
      lo: [v4('127.0.0.1', '127.0.0.1/8', '00:00:00:00:00:00', true)],
      'eth0.20': [v4('10.20.0.2', '10.20.0.2/24', '52:54:00:AA:00:01')],
      eth0: [v4('10.0.0.2', '10.0.0.2/24', '52:54:00:aa:00:01'), { ...v4('fe80::1', 'fe80::1/64', '52:54:00:aa:00:01'), family: 'IPv6', scopeid: 2 }],
      tun0: [v4('10.9.0.1', '10.9.0.1/32', '00:00:00:00:00:00')],
    });
    expect(found).toEqual([
      { name: 'eth0', mac: '52:54:00:aa:00:01', addresses: ['10.0.0.2/24', 'fe80::1/64'], vlan: null },
      { name: 'eth0.20', mac: '52:54:00:aa:00:01', addresses: ['10.20.0.2/24'], vlan: 20, parent: 'eth0' },
    ]);
  });

  it('keeps only the configured interfaces', () => {
    const found = discoverInterfaces(['eth1'], {
      eth0: [v4('10.0.0.2', '10.0.0.2/24', '52:54:00:aa:00:01')],
      eth1: [v4('10.1.0.2', '10.1.0.2/24', '52:54:00:aa:00:02')],
    });
    expect(found.map((i) => i.name)).toEqual(['eth1']);
  });

  it('reads VLAN ids from names', () => {
    expect(vlanOf('eth0.100')).toEqual({ vid: 100, parent: 'eth0' });
    expect(vlanOf('vlan7')).toEqual({ vid: 7 });
    expect(vlanOf('eth0.5000')).toBeNull();
    expect(vlanOf('br-vlan100')).toBeNull();
  });
});
