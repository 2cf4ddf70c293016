import { ContractError, type RackInterface } from '@kiln/contracts';
import type { RackConfig } from '../config/rack.config';
import type { DhcpConfigFeed } from '../dhcp/dhcp-config.feed';
import type { RackNatsConnection } from '../nats/rack-nats.connection';
import type { RackIdentity } from './rack.identity';
import { RegistrationService } from './registration.service';

/** The rack re-reads its interfaces and tells the region only when they changed. */
describe('RegistrationService.reportInterfaces', () => {
  const eth0: RackInterface = { name: 'eth0', mac: '52:54:00:00:00:01', addresses: ['10.0.0.2/24'], vlan: null };
  let sent: unknown[];
  let fail: Error | null;
  let svc: RegistrationService;

  beforeEach(() => {
    sent = [];
    fail = null;
    const bus = {
      request: async (_c: unknown, _a: unknown, req: unknown) => {
        if (fail) throw fail;
        sent.push(req);
        return { changed: true };
      },
    };
    svc = new RegistrationService(
      { interfaces: null, interfacesPollMs: 10_000 } as unknown as RackConfig,
      { rackId: 'rack-1' } as unknown as RackIdentity,
      { bus: () => bus } as unknown as RackNatsConnection,
      {} as DhcpConfigFeed,
    );
    svc.state = 'registered';
    (svc as unknown as { reported: string }).reported = JSON.stringify([eth0]);
  });

  it('sends nothing while the interfaces are what the region was told', async () => {
    expect(await svc.reportInterfaces(() => [eth0])).toBe(false);
    expect(sent).toEqual([]);
  });

  it('reports a change once, and retries a failed report at the next re-read', async () => {
    const more = [eth0, { ...eth0, name: 'eth1', mac: '52:54:00:00:00:02', addresses: ['10.1.0.2/24'] }];
    fail = new ContractError('TIMEOUT', 'nobody answered');
    expect(await svc.reportInterfaces(() => more)).toBe(false);
    fail = null;
    expect(await svc.reportInterfaces(() => more)).toBe(true);
    expect(await svc.reportInterfaces(() => more)).toBe(false);
    expect(sent).toEqual([{ rackId: 'rack-1', interfaces: more }]);
  });

  it('does nothing before registration', async () => {
    svc.state = 'unregistered';
    expect(await svc.reportInterfaces(() => [])).toBe(false);
    expect(sent).toEqual([]);
  });
});
