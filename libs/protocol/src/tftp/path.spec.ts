import { confinePath, ConfinedPath } from './path';

const ROOT = '/var/lib/kiln/tftp';

describe('confinePath', () => {
  it.each<[string, ConfinedPath]>([
    // ordinary requests
    ['pxelinux.0', { ok: true, path: 'pxelinux.0' }],
    ['grub/x86_64-efi/grub.cfg', { ok: true, path: 'grub/x86_64-efi/grub.cfg' }],
    ['./boot.ipxe', { ok: true, path: 'boot.ipxe' }],
    ['a//b/./c/', { ok: true, path: 'a/b/c' }],
    // absolute paths are relative to root (tftp-hpa -s), or stripped of root (dnsmasq)
    ['/pxelinux.0', { ok: true, path: 'pxelinux.0' }],
    ['/var/lib/kiln/tftp/ipxe.efi', { ok: true, path: 'ipxe.efi' }],
    ['//var//lib/kiln/tftp/./ipxe.efi', { ok: true, path: 'ipxe.efi' }],
    ['/var/lib/kiln/tftpx/ipxe.efi', { ok: true, path: 'var/lib/kiln/tftpx/ipxe.efi' }],
    ['/etc/passwd', { ok: true, path: 'etc/passwd' }], // i.e. ROOT/etc/passwd, not /etc/passwd
    // Windows-style clients
    ['\\boot\\x64\\wdsmgfw.efi', { ok: true, path: 'boot/x64/wdsmgfw.efi' }],
    // no URL decoding: these are literal names
    ['%2e%2e/%2e%2e/etc/passwd', { ok: true, path: '%2e%2e/%2e%2e/etc/passwd' }],
    ['..%2fetc', { ok: true, path: '..%2fetc' }],
    ['...', { ok: true, path: '...' }],
    ['..foo/bar..', { ok: true, path: '..foo/bar..' }],
  ])('%j -> ok', (requested, expected) => {
    expect(confinePath(ROOT, requested)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['../etc/passwd', 'parent-directory'],
    ['/../../x', 'parent-directory'],
    ['a/../../b', 'parent-directory'],
    ['a/../b', 'parent-directory'], // stays inside, but refused anyway, as tftp-hpa does
    ['a\\..\\..\\b', 'parent-directory'],
    ['..\\..\\windows\\win.ini', 'parent-directory'],
    ['a/\\../b', 'parent-directory'],
    ['/var/lib/kiln/tftp/../../../etc/shadow', 'parent-directory'],
    ['/var/lib/kiln/tftp/..', 'parent-directory'],
    ['..', 'parent-directory'],
    ['pxelinux.0\0.jpg', 'nul-byte'],
    ['\0', 'nul-byte'],
    ['', 'empty'],
    ['/', 'empty'],
    ['./', 'empty'],
    ['\\', 'empty'],
    ['/var/lib/kiln/tftp', 'empty'],
  ])('%j -> refused (%s)', (requested, reason) => {
    const r = confinePath(ROOT, requested);
    expect(r).toMatchObject({ ok: false, reason });
  });

  it('works with root "/" and with a trailing slash on root', () => {
    expect(confinePath('/', '/boot/x')).toEqual({ ok: true, path: 'boot/x' });
    expect(confinePath('/srv/tftp/', '/srv/tftp/a')).toEqual({ ok: true, path: 'a' });
  });

  it('rejects a root that is not absolute or has ".." (configuration error)', () => {
    expect(() => confinePath('srv/tftp', 'a')).toThrow(TypeError);
    expect(() => confinePath('/srv/../etc', 'a')).toThrow(TypeError);
  });
});
