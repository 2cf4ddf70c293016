import { addressFacing, renderBootFile, templateFor } from './boot-files.renderer';

const netboot = {
  kind: 'ephemeral' as const,
  systemId: 'abc123',
  hostname: 'node1',
  purpose: 'commissioning' as const,
  arch: 'amd64',
  kernel: 'ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel',
  initrd: 'ubuntu/amd64/ga-22.04/jammy/stable/boot-initrd',
  cmdline: 'ro root=squash:http://10.0.0.1:5248/images/x/squashfs',
};

describe('boot files', () => {
  it('knows the per-machine paths of PXELINUX, GRUB and iPXE', () => {
    expect(templateFor('pxelinux.cfg/01-52-54-00-12-34-56')).toBe('pxelinux');
    expect(templateFor('grub/grub.cfg-52:54:00:12:34:56')).toBe('grub');
    expect(templateFor('ipxe.cfg')).toBe('ipxe');
    expect(templateFor('boot.ipxe')).toBe('ipxe');
    expect(templateFor('lpxelinux.0')).toBeNull();
    expect(templateFor('pxelinux.cfg/default')).toBeNull();
  });

  it('renders a network boot for each loader', () => {
    const base = 'http://10.0.0.1:5248';
    expect(renderBootFile('pxelinux', netboot, base)).toBe(
      'DEFAULT execute\nLABEL execute\n  KERNEL http://10.0.0.1:5248/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel\n' +
        '  INITRD http://10.0.0.1:5248/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-initrd\n' +
        '  APPEND ro root=squash:http://10.0.0.1:5248/images/x/squashfs\n  IPAPPEND 2\n',
    );
    expect(renderBootFile('grub', netboot, base)).toContain('linux (http,10.0.0.1:5248)/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel ro root=');
    expect(renderBootFile('ipxe', netboot, base)).toMatch(/^#!ipxe\n.*\nkernel http:\/\/10\.0\.0\.1:5248\/images\/.*boot-kernel ro root=.*\ninitrd .*boot-initrd\nboot\n$/);
  });

  it('boots deployed machines from the local disk', () => {
    const local = { kind: 'local' as const, systemId: 'abc123', hostname: 'node1', purpose: 'local' as const };
    expect(renderBootFile('pxelinux', local, 'x')).toContain('LOCALBOOT 0');
    expect(renderBootFile('grub', local, 'x')).toContain('exit');
    expect(renderBootFile('ipxe', local, 'x')).toBe('#!ipxe\necho Booting from the local disk\nexit\n');
  });

  it('puts the rack address on the client\'s subnet in the URLs', () => {
    const cidrs = ['192.168.1.1/24', '10.20.0.1/16'];
    expect(addressFacing(cidrs, '10.20.3.4')).toBe('10.20.0.1');
    expect(addressFacing(cidrs, '192.168.1.77')).toBe('192.168.1.1');
    expect(addressFacing(cidrs, '172.16.0.9')).toBe('192.168.1.1');
    expect(addressFacing([], '1.2.3.4')).toBe('127.0.0.1');
  });
});
