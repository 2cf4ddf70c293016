import { bootArchitectureName } from './boot-architectures';
import { GetBootConfig } from './boot-config.contract';
import { replyEnvelope } from './contract';
import { leaseEvent } from './rack-events.contract';
import { RegisterRack } from './rack-registration.contract';

describe('contracts', () => {
  it('normalises MACs on receipt and refuses malformed ones', () => {
    const ok = GetBootConfig.request.parse({ rackId: 'rack-1', mac: '52-54-00-AA-BB-CC', serverAddress: '10.0.0.2' });
    expect(ok.mac).toBe('52:54:00:aa:bb:cc');
    expect(GetBootConfig.request.safeParse({ rackId: 'rack-1', mac: '52:54:00:aa:bb', serverAddress: '10.0.0.2' }).success).toBe(false);
    expect(GetBootConfig.request.safeParse({ rackId: 'Rack 1', mac: '52:54:00:aa:bb:cc', serverAddress: '10.0.0.2' }).success).toBe(false);
    expect(GetBootConfig.request.safeParse({ rackId: 'rack-1', mac: '52:54:00:aa:bb:cc', serverAddress: '10.0.0.256' }).success).toBe(false);
  });

  it('cuts subjects by who answers', () => {
    expect(RegisterRack.subject('r1')).toBe('region.rack.r1.register');
    expect(RegisterRack.answeredBy).toBe('region');
    expect(GetBootConfig.subject('r1')).toBe('region.rack.r1.boot.config');
  });

  it('gives new fields defaults, so an older peer\'s message still validates', () => {
    const r = RegisterRack.request.parse({
      rackId: 'rack-1',
      hostname: 'r1',
      interfaces: [{ name: 'eth0', mac: '52:54:00:00:00:01' }],
    });
    expect(r).toMatchObject({ version: '', protocol: 1, interfaces: [{ addresses: [], vlan: null }] });
  });

  it('wraps replies in an ok/error envelope', () => {
    const env = replyEnvelope(RegisterRack.reply);
    expect(env.safeParse({ ok: false, error: { code: 'AUTH_FAILED', message: 'no' } }).success).toBe(true);
    expect(env.safeParse({ ok: true, data: { rackId: 'rack-1' } }).success).toBe(false);
  });

  it('validates lease events', () => {
    const e = { eventId: 'e'.repeat(10), rackId: 'rack-1', at: new Date().toISOString(), action: 'commit', mac: '52:54:00:00:00:01', ip: '10.0.0.5' };
    expect(leaseEvent.safeParse(e).success).toBe(true);
    expect(leaseEvent.safeParse({ ...e, action: 'steal' }).success).toBe(false);
    expect(leaseEvent.safeParse({ ...e, eventId: 'bad id!' }).success).toBe(false);
  });

  it('reads boot architectures by name or code', () => {
    expect(bootArchitectureName('PXE')).toBe('pxe');
    expect(bootArchitectureName('00:07')).toBe('uefi_amd64_tftp');
    expect(bootArchitectureName('0x0b')).toBe('uefi_arm64_tftp');
    expect(bootArchitectureName('19')).toBe('uefi_arm64_http');
    expect(bootArchitectureName('nonsense')).toBeUndefined();
  });
});
