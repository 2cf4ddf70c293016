import { macFromBootPath, normaliseMac } from './boot-path.parser';

describe('macFromBootPath', () => {
  it.each([
    ['pxelinux.cfg/01-52-54-00-12-34-56', '52:54:00:12:34:56'],
    ['pxelinux.cfg/01-AA-BB-CC-DD-EE-FF', 'aa:bb:cc:dd:ee:ff'],
    ['grub/grub.cfg-52:54:00:12:34:56', '52:54:00:12:34:56'],
    ['boot/grub/grub.cfg-52-54-00-12-34-56', '52:54:00:12:34:56'],
    ['ipxe/52:54:00:12:34:56.ipxe', '52:54:00:12:34:56'],
    ['ipxe/mac-525400123456.ipxe', '52:54:00:12:34:56'],
    ['ipxe/525400123456.ipxe', '52:54:00:12:34:56'],
  ])('%s -> %s', (path, mac) => {
    expect(macFromBootPath(path)).toBe(mac);
  });

  it.each(['pxelinux.0', 'pxelinux.cfg/default', 'pxelinux.cfg/0A4D0064', 'grub/grub.cfg', 'bootx64.efi', 'ipxe/1234567890123.ipxe', '52:54:00:12:34:56/grubx64.efi'])(
    'finds no MAC in %s',
    (path) => {
      expect(macFromBootPath(path)).toBeUndefined();
    },
  );

  it('prefers the mac= query parameter (iPXE ${net0/mac})', () => {
    expect(macFromBootPath('boot.ipxe', new URLSearchParams('mac=52:54:00:aa:bb:cc'))).toBe('52:54:00:aa:bb:cc');
    expect(macFromBootPath('boot.ipxe', new URLSearchParams('mac=junk'))).toBeUndefined();
  });

  it('normalises MAC spellings', () => {
    expect(normaliseMac('52-54-00-AA-BB-CC')).toBe('52:54:00:aa:bb:cc');
    expect(normaliseMac('525400aabbcc')).toBe('52:54:00:aa:bb:cc');
    expect(normaliseMac('52:54:00:aa:bb')).toBeUndefined();
  });
});
