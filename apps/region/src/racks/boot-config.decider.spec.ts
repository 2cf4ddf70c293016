import { GetBootConfig, RequestOf } from '@kiln/contracts';
import { ALL_STATUSES, NodeStatus, statusKey } from '@kiln/lifecycle';
import { BootImageRef, BootMachine, decideBootConfig, pickImage } from './boot-config.decider';

const req: RequestOf<typeof GetBootConfig> = { rackId: 'rack-1', mac: '52:54:00:00:00:01', serverAddress: '10.0.0.2' };
const machine = (status: NodeStatus, extra: Partial<BootMachine> = {}): BootMachine => ({
  systemId: 'abc123',
  hostname: 'node1',
  status,
  architecture: 'amd64/generic',
  ephemeralDeploy: false,
  ...extra,
});

const bookworm: BootImageRef = { name: 'debian/bookworm', architecture: 'amd64/generic', version: '20260101' };
const arm: BootImageRef = { name: 'debian/bookworm', architecture: 'arm64/generic', version: '20260102' };
const images = [bookworm, arm];

function netboot(c: ReturnType<typeof decideBootConfig>) {
  if (c.kind === 'local' || c.kind === 'no-image') throw new Error(`not a netboot: ${c.kind}`);
  return c;
}

describe('decideBootConfig', () => {
  it('enlists an unknown MAC, through the anonymous enlistment preseed on the rack', () => {
    const c = netboot(decideBootConfig(null, { ...req, clientArch: 0x0b }, images));
    expect(c).toMatchObject({ kind: 'enlist', purpose: 'enlistment', systemId: null, arch: 'arm64' });
    expect(c.cmdline).toContain('cloud-config-url=http://10.0.0.2:5248/MAAS/metadata/latest/enlist-preseed/?op=get_enlist_preseed');
    expect(c.kernel).toBe('debian/bookworm/arm64/generic/20260102/boot-kernel');
    expect(c.initrd).toBe('debian/bookworm/arm64/generic/20260102/boot-initrd');
  });

  it("ends the command line with MAAS's kernel_opts setting, when set", () => {
    const c = netboot(decideBootConfig(machine(NodeStatus.DEPLOYING), req, images, { kernelOpts: ' console=ttyS1 quiet ' }));
    expect(c.cmdline).toMatch(/get_preseed console=ttyS1 quiet$/);
    expect(netboot(decideBootConfig(null, req, images, { kernelOpts: null })).cmdline).toMatch(/get_enlist_preseed$/);
    expect(netboot(decideBootConfig(null, req, images, { kernelOpts: '' })).cmdline).toMatch(/get_enlist_preseed$/);
  });

  it("names the region's image with the command line its live-boot initramfs and cloud-init understand", () => {
    const c = netboot(decideBootConfig(machine(NodeStatus.COMMISSIONING), req, images));
    expect(c.kernel).toBe('debian/bookworm/amd64/generic/20260101/boot-kernel');
    expect(c.cmdline).toBe(
      'console=tty0 console=ttyS0,115200 boot=live ip=dhcp net.ifnames=0 ip6=off ' +
        'fetch=http://10.0.0.2:5248/images/debian/bookworm/amd64/generic/20260101/filesystem.squashfs ' +
        "cc:{'datasource_list': ['MAAS']}end_cc " +
        'cloud-config-url=http://10.0.0.2:5248/MAAS/metadata/latest/by-id/abc123/?op=get_preseed',
    );
  });

  it('says so, instead of naming files that do not exist, when the region has no image for the architecture', () => {
    expect(decideBootConfig(machine(NodeStatus.COMMISSIONING), req, [])).toMatchObject({
      kind: 'no-image',
      purpose: 'commissioning',
      systemId: 'abc123',
      arch: 'amd64',
      message: expect.stringContaining('no boot image for amd64'),
    });
    expect(decideBootConfig(null, { ...req, clientArch: 0x0b }, [bookworm])).toMatchObject({ kind: 'no-image', arch: 'arm64', systemId: null });
    // A machine that boots its disk needs no image.
    expect(decideBootConfig(machine(NodeStatus.DEPLOYED), req, [])).toMatchObject({ kind: 'local' });
  });

  it("picks the machine's subarchitecture, then the ephemeral image, then the newest version", () => {
    const hwe: BootImageRef = { name: 'ubuntu/jammy', architecture: 'amd64/hwe-22.04', version: '1' };
    const other: BootImageRef = { name: 'custom/thing', architecture: 'amd64/generic', version: '99' };
    expect(pickImage([other, bookworm, hwe], 'amd64/generic')).toBe(bookworm);
    expect(pickImage([other, bookworm, hwe], 'amd64/hwe-22.04')).toBe(hwe);
    expect(pickImage([other, { ...other, version: '100' }], 'amd64')).toEqual({ ...other, version: '100' });
    expect(pickImage([hwe], 'amd64')).toBe(hwe);
    expect(pickImage([arm], 'amd64/generic')).toBeNull();
  });

  it('boots a machine deployed in memory with the image of its release, or says the region has none', () => {
    const noble: BootImageRef = { name: 'ubuntu/noble', architecture: 'amd64/generic', version: '3' };
    expect(pickImage([bookworm, noble], 'amd64/generic', 'ubuntu/noble')).toBe(noble);
    expect(pickImage([bookworm], 'amd64/generic', 'ubuntu/noble')).toBeNull();
    const inMemory = { ...machine(NodeStatus.DEPLOYED), ephemeralDeploy: true, release: 'ubuntu/noble' };
    expect(decideBootConfig(inMemory, req, [bookworm, noble])).toMatchObject({ kind: 'ephemeral', purpose: 'deploying', kernel: 'ubuntu/noble/amd64/generic/3/boot-kernel' });
    expect(decideBootConfig(inMemory, req, [bookworm])).toMatchObject({
      kind: 'no-image',
      message: expect.stringContaining('no ubuntu/noble boot image for amd64 to deploy in memory'),
    });
  });

  it("builds boot URLs with the rack's own HTTP port when it has another one", () => {
    const c = netboot(decideBootConfig(null, { ...req, httpPort: 8248 }, images));
    expect(c.cmdline).toContain('fetch=http://10.0.0.2:8248/images/');
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
    const c = decideBootConfig(machine(NodeStatus[status]), req, images);
    expect(c).toMatchObject({ kind, purpose, systemId: 'abc123', hostname: 'node1' });
    if (c.kind !== 'local') expect(netboot(c).cmdline).toContain('cloud-config-url=http://10.0.0.2:5248/MAAS/metadata/latest/by-id/abc123/?op=get_preseed');
  });

  it('boots an ephemeral deployment into the ephemeral environment, also once deployed', () => {
    expect(decideBootConfig(machine(NodeStatus.DEPLOYED, { ephemeralDeploy: true }), req, images)).toMatchObject({ kind: 'ephemeral', purpose: 'deploying' });
  });

  it('boots a Deploying machine from its disk once the installer turned netboot off', () => {
    expect(decideBootConfig(machine(NodeStatus.DEPLOYING, { netboot: true }), req, images)).toMatchObject({ kind: 'installer', purpose: 'deploying' });
    expect(decideBootConfig(machine(NodeStatus.DEPLOYING, { netboot: false }), req, images)).toMatchObject({ kind: 'local', purpose: 'local' });
    expect(decideBootConfig(machine(NodeStatus.DEPLOYED, { netboot: false }), req, images)).toMatchObject({ kind: 'local' });
  });

  it('answers every status with a valid reply', () => {
    for (const s of ALL_STATUSES) {
      for (const known of [images, []]) {
        const parsed = GetBootConfig.reply.safeParse(decideBootConfig(machine(s), req, known));
        expect({ status: statusKey(s), ok: parsed.success }).toEqual({ status: statusKey(s), ok: true });
      }
    }
  });
});
