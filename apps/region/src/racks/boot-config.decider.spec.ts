import { GetBootConfig, RequestOf } from '@kiln/contracts';
import { ALL_STATUSES, NodeStatus, statusKey } from '@kiln/lifecycle';
import { BootMachine, decideBootConfig } from './boot-config.decider';

const req: RequestOf<typeof GetBootConfig> = { rackId: 'rack-1', mac: '52:54:00:00:00:01', serverAddress: '10.0.0.2' };
const machine = (status: NodeStatus, extra: Partial<BootMachine> = {}): BootMachine => ({
  systemId: 'abc123',
  hostname: 'node1',
  status,
  architecture: 'amd64/generic',
  ephemeralDeploy: false,
  ...extra,
});

describe('decideBootConfig', () => {
  it('enlists an unknown MAC, through the anonymous enlistment preseed on the rack', () => {
    const c = decideBootConfig(null, { ...req, clientArch: 0x0b });
    expect(c).toMatchObject({ kind: 'enlist', purpose: 'enlistment', systemId: null, arch: 'arm64' });
    if (c.kind === 'local') throw new Error('unreachable');
    expect(c.cmdline).toContain('cloud-config-url=http://10.0.0.2:5248/MAAS/metadata/latest/enlist-preseed/?op=get_enlist_preseed');
    expect(c.kernel).toBe('ubuntu/arm64/ga-22.04/jammy/stable/boot-kernel');
  });

  it("builds boot URLs with the rack's own HTTP port when it has another one", () => {
    const c = decideBootConfig(null, { ...req, httpPort: 8248 });
    if (c.kind === 'local') throw new Error('unreachable');
    expect(c.cmdline).toContain('root=squash:http://10.0.0.2:8248/images/');
    expect(c.cmdline).toContain('cloud-config-url=http://10.0.0.2:8248/MAAS/metadata/');
    expect(c.cmdline).not.toContain(':5248');
  });

  it.each([
    ['NEW', 'ephemeral', 'commissioning'],
    ['COMMISSIONING', 'ephemeral', 'commissioning'],
    ['TESTING', 'ephemeral', 'testing'],
    ['RELEASING', 'ephemeral', 'releasing'],
    ['DISK_ERASING', 'ephemeral', 'disk-erasing'],
    ['ENTERING_RESCUE_MODE', 'ephemeral', 'rescue'],
    ['RESCUE_MODE', 'ephemeral', 'rescue'],
    ['DEPLOYING', 'installer', 'deploying'],
    ['DEPLOYED', 'local', 'local'],
    ['READY', 'local', 'local'],
    ['ALLOCATED', 'local', 'local'],
    ['BROKEN', 'local', 'local'],
    ['FAILED_COMMISSIONING', 'local', 'local'],
  ] as const)('boots a %s machine: %s (%s)', (status, kind, purpose) => {
    const c = decideBootConfig(machine(NodeStatus[status]), req);
    expect(c).toMatchObject({ kind, purpose, systemId: 'abc123', hostname: 'node1' });
    if (c.kind !== 'local') {
      expect(c.cmdline).toContain('cloud-config-url=http://10.0.0.2:5248/MAAS/metadata/latest/by-id/abc123/?op=get_preseed');
      expect(c.cmdline).toContain('ip=::::node1:BOOTIF');
    }
  });

  it('boots an ephemeral deployment into the ephemeral environment, also once deployed', () => {
    expect(decideBootConfig(machine(NodeStatus.DEPLOYED, { ephemeralDeploy: true }), req)).toMatchObject({ kind: 'ephemeral', purpose: 'deploying' });
  });

  it('answers every status with a valid reply', () => {
    for (const s of ALL_STATUSES) {
      const parsed = GetBootConfig.reply.safeParse(decideBootConfig(machine(s), req));
      expect({ status: statusKey(s), ok: parsed.success }).toEqual({ status: statusKey(s), ok: true });
    }
  });
});
