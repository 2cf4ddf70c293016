import { staticRouteErrors } from './static-route.rules';

const base = { sourceId: 1, sourceCidr: '10.0.0.0/24', destinationId: 2, destinationCidr: '10.1.0.0/24', gatewayIp: '10.0.0.1', metric: undefined };

describe('static route rules (MAAS StaticRoute.clean)', () => {
  it('accepts a gateway inside the source subnet', () => {
    expect(staticRouteErrors(base)).toBeNull();
    expect(staticRouteErrors({ ...base, metric: '10' })).toBeNull();
  });

  it('refuses a gateway outside the source subnet, one subnet twice, mixed IP versions, bad metrics', () => {
    expect(staticRouteErrors({ ...base, gatewayIp: '10.1.0.1' })).toEqual({ gateway_ip: ['gateway_ip must be with in the source subnet.'] });
    expect(staticRouteErrors({ ...base, destinationId: 1, destinationCidr: base.sourceCidr })).toEqual({
      __all__: ['source and destination cannot be the same subnet.'],
    });
    expect(staticRouteErrors({ ...base, destinationCidr: 'fd00::/64' })).toEqual({ __all__: ['source and destination must be the same IP version.'] });
    expect(staticRouteErrors({ ...base, gatewayIp: 'nope' })).toEqual({ gateway_ip: ['Enter a valid IPv4 or IPv6 address.'] });
    expect(staticRouteErrors({ ...base, metric: '-1' })).toEqual({ metric: ['Ensure this value is greater than or equal to 0.'] });
  });
});
