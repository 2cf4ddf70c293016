import { capabilities } from './meta.api';

describe('version/ capabilities', () => {
  it('claims what depends on a handler only while that handler is registered', () => {
    const none = capabilities({ has: () => false });
    expect(none).toEqual(['storage-deployment-ubuntu', 'network-deployment-ubuntu', 'authenticate-api']);
    const all = capabilities({ has: () => true });
    expect(all).toEqual([
      'networks-management',
      'static-ipaddresses',
      'devices-management',
      'storage-deployment-ubuntu',
      'network-deployment-ubuntu',
      'bridging-interface-ubuntu',
      'authenticate-api',
    ]);
    expect(all).not.toContain('ipv6-deployment-ubuntu');
    const some = capabilities({ has: (name: string, op?: string) => name === 'InterfacesHandler' && op === 'create_bridge' });
    expect(some).toContain('bridging-interface-ubuntu');
    expect(some).not.toContain('devices-management');
  });
});
