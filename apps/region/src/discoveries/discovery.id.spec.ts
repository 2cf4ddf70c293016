import { discoveryId, parseDiscoveryId } from './discovery.id';

describe('discovery ids', () => {
  it('round-trip an IP and a MAC in one URL-safe segment', () => {
    const id = discoveryId('10.0.0.5', '52:54:00:01:02:03');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseDiscoveryId(id)).toEqual({ ip: '10.0.0.5', mac: '52:54:00:01:02:03' });
    expect(parseDiscoveryId(discoveryId('2001:db8::5', '52:54:00:01:02:03'))).toEqual({ ip: '2001:db8::5', mac: '52:54:00:01:02:03' });
  });

  it('names nothing for garbage', () => {
    for (const bad of ['', 'x', '!!!', discoveryId('10.0.0.5', 'nope'), Buffer.from('a,b,c').toString('base64url')]) expect(parseDiscoveryId(bad)).toBeNull();
  });
});
