// The server config of the e2e lab (tools/lab/dhcp-lab-up.sh): A and B direct, C via the relay.
import { DhcpConfig } from '../dhcp-config.port';

export const E2E_CONFIG: DhcpConfig = {
  interfaces: [
    { name: 's0', address: '10.77.1.1' },
    { name: 's1', address: '10.77.2.1' },
  ],
  serverAddress: '10.77.9.1',
  subnets: [
    { id: 'A', cidr: '10.77.1.0/24', interface: 's0', ranges: [{ start: '10.77.1.100', end: '10.77.1.199' }], routers: ['10.77.1.1'], dnsServers: ['10.77.1.1'] },
    {
      id: 'B',
      cidr: '10.77.2.0/24',
      interface: 's1',
      ranges: [{ start: '10.77.2.100', end: '10.77.2.199' }],
      routers: ['10.77.2.1'],
      // What DHCP snippets (`option ntp-servers`, `option domain-search`) give a subnet.
      ntpServers: ['10.77.2.1'],
      domainSearch: ['lab.example', 'example.com'],
    },
    { id: 'C', cidr: '10.77.3.0/24', ranges: [{ start: '10.77.3.100', end: '10.77.3.199' }], routers: ['10.77.3.1'] },
  ],
};
