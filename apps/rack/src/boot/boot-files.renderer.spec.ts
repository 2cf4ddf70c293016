import { FakeBootConfigSource } from './boot-config.fake';
import {
  addressFacing,
  BootFilesRenderer,
  GRUB_GENERIC_CONFIG_PATH,
  grubKernelArgs,
  renderBootFile,
  renderGrubGenericConfig,
  renderNoImage,
  templateFor,
} from './boot-files.renderer';

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
    expect(templateFor(GRUB_GENERIC_CONFIG_PATH)).toBeNull();
  });

  it('renders the generic GRUB config at the network GRUB\'s prefix, chaining to the per-MAC one', () => {
    expect(GRUB_GENERIC_CONFIG_PATH).toBe('grub/grub.cfg');
    const cfg = renderGrubGenericConfig();
    const lines = cfg.split('\n').filter((l) => l && !l.startsWith('#'));
    // The per-MAC path it names is one the rack renders, for GRUB's form of the MAC.
    const chained = lines.find((l) => l.startsWith('configfile '))!;
    expect(chained).toBe('configfile /grub/grub.cfg-${net_default_mac}');
    expect(templateFor(chained.slice('configfile /'.length).replace('${net_default_mac}', '52:54:00:12:34:56'))).toBe('grub');
    // Past configfile only when the rack could not render that one: say so, back to the firmware.
    expect(lines.slice(lines.indexOf(chained) + 1)).toEqual([expect.stringMatching(/^echo "Kiln: .*no boot config/), 'sleep 10', 'exit']);
  });

  it('serves the generic GRUB config to any client without asking the region', async () => {
    const source = new FakeBootConfigSource();
    const renderer = new BootFilesRenderer(source, () => '10.0.0.1', 5248);
    for (const protocol of ['tftp', 'http'] as const) {
      const file = await renderer.render({ protocol, path: 'grub/grub.cfg', client: { address: '10.0.0.99', port: 1234 } });
      expect(file?.content.toString()).toBe(renderGrubGenericConfig());
      expect(file?.systemId).toBeUndefined();
    }
    expect(source.queries).toEqual([]);
    // Static boot loaders are still not rendered.
    expect(await renderer.render({ protocol: 'tftp', path: 'grubx64.efi', client: { address: '10.0.0.99', port: 1234 } })).toBeNull();
  });

  it('renders the per-MAC GRUB config from the region\'s answer for that MAC', async () => {
    const source = new FakeBootConfigSource();
    source.answers.set('52:54:00:12:34:56', netboot);
    const renderer = new BootFilesRenderer(source, () => '10.0.0.1', 5248);
    const file = await renderer.render({ protocol: 'tftp', path: 'grub/grub.cfg-52:54:00:12:34:56', mac: '52:54:00:12:34:56', client: { address: '10.0.0.99', port: 1 } });
    expect(file).toMatchObject({ mac: '52:54:00:12:34:56', systemId: 'abc123' });
    // The kernel and initrd over HTTP; if GRUB cannot load the kernel so, over TFTP.
    const k = 'ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel';
    const args = 'ro root=squash:http://10.0.0.1:5248/images/x/squashfs BOOTIF=01-52-54-00-12-34-56';
    const i = 'ubuntu/amd64/ga-22.04/jammy/stable/boot-initrd';
    const q = '\\?mac=52:54:00:12:34:56';
    expect(file!.content.toString()).toBe(
      'set default="0"\nset timeout=0\nmenuentry "commissioning" {\n  echo "Kiln: commissioning"\n  insmod http\n' +
        `  if linux (http,10.0.0.1:5248)/images/${k}${q} ${args}; then\n    initrd (http,10.0.0.1:5248)/images/${i}${q}\n  else\n` +
        '    echo "Kiln: no kernel over HTTP, loading it over TFTP"\n' +
        `    linux (tftp,10.0.0.1)/images/${k} ${args}\n    initrd (tftp,10.0.0.1)/images/${i}\n  fi\n}\n`,
    );
    expect(source.queries).toEqual([{ mac: '52:54:00:12:34:56', serverAddress: '10.0.0.1' }]);
  });

  it('renders a network boot for each loader', () => {
    const base = 'http://10.0.0.1:5248';
    expect(renderBootFile('pxelinux', netboot, base)).toBe(
      'DEFAULT execute\nLABEL execute\n  KERNEL http://10.0.0.1:5248/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel\n' +
        '  INITRD http://10.0.0.1:5248/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-initrd\n' +
        '  APPEND ro root=squash:http://10.0.0.1:5248/images/x/squashfs\n  IPAPPEND 2\n',
    );
    expect(renderBootFile('grub', netboot, base)).toContain('if linux (http,10.0.0.1:5248)/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel ro root=');
    expect(renderBootFile('ipxe', netboot, base)).toMatch(/^#!ipxe\n.*\nkernel http:\/\/10\.0\.0\.1:5248\/images\/.*boot-kernel ro root=.*\ninitrd .*boot-initrd\nboot\n$/);
  });

  it('tags kernel and initrd URLs with the MAC and gives GRUB and iPXE the BOOTIF PXELINUX adds itself', () => {
    const base = 'http://10.0.0.1:5248';
    const mac = '52:54:00:12:34:56';
    const pxe = renderBootFile('pxelinux', netboot, base, mac);
    expect(pxe).toContain(`KERNEL ${base}/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel?mac=${mac}\n`);
    expect(pxe).toContain(`INITRD ${base}/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-initrd?mac=${mac}\n`);
    expect(pxe).toContain('IPAPPEND 2');
    expect(pxe).not.toContain('BOOTIF');
    const ipxe = renderBootFile('ipxe', netboot, base, mac);
    expect(ipxe).toContain(`boot-kernel?mac=${mac} ro root=squash:${base}/images/x/squashfs BOOTIF=01-52-54-00-12-34-56\n`);
    expect(ipxe).toContain(`initrd ${base}/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-initrd?mac=${mac}\n`);
    const grub = renderBootFile('grub', netboot, base, mac);
    // GRUB reads `?` as a wildcard unless escaped.
    expect(grub).toContain(`if linux (http,10.0.0.1:5248)/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel\\?mac=${mac} ro root=`);
    expect(grub).toContain(`initrd (http,10.0.0.1:5248)/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-initrd\\?mac=${mac}\n`);
    // Over TFTP the path is a file name: no query.
    expect(grub).toContain('linux (tftp,10.0.0.1)/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel ro root=');
    expect(grub.match(/BOOTIF=01-52-54-00-12-34-56[;\n]/g)).toHaveLength(2);
  });

  it('escapes GRUB\'s own syntax in the kernel command line, leaving quotes to GRUB', () => {
    // MAAS's cloud-config seed: unescaped braces are a GRUB syntax error that loses the menu entry.
    expect(grubKernelArgs("ro cc:{'datasource_list': ['MAAS']}end_cc ip=::::h:BOOTIF")).toBe(
      "ro cc:\\{'datasource_list': ['MAAS']\\}end_cc ip=::::h:BOOTIF",
    );
    expect(grubKernelArgs('a=$x;b|c&d<e>f\\g')).toBe('a=\\$x\\;b\\|c\\&d\\<e\\>f\\\\g');
    // Inside quotes: single quotes are literal to GRUB, double quotes still expand $ and \.
    expect(grubKernelArgs(`x='{$}' y="{$}"`)).toBe(`x='{$}' y="{\\$}"`);
    const grub = renderBootFile('grub', { ...netboot, cmdline: "ro cc:{'datasource_list': ['MAAS']}end_cc" }, 'http://10.0.0.1:5248');
    expect(grub).toContain("/boot-kernel ro cc:\\{'datasource_list': ['MAAS']\\}end_cc\n");
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

  it('hands the ephemeral image its whole command line through PXELINUX, GRUB and iPXE alike', () => {
    const base = 'http://10.0.0.1:5248';
    const cmdline =
      `console=tty0 console=ttyS0,115200 boot=live ip=dhcp net.ifnames=0 ip6=off fetch=${base}/images/debian/bookworm/amd64/generic/v1/filesystem.squashfs ` +
      `cc:{'datasource_list': ['MAAS']}end_cc cloud-config-url=${base}/MAAS/metadata/latest/by-id/abc123/?op=get_preseed`;
    const image = { ...netboot, kernel: 'debian/bookworm/amd64/generic/v1/boot-kernel', initrd: 'debian/bookworm/amd64/generic/v1/boot-initrd', cmdline };
    const mac = '52:54:00:12:34:56';
    expect(renderBootFile('pxelinux', image, base, mac)).toContain(`\n  APPEND ${cmdline}\n  IPAPPEND 2\n`);
    expect(renderBootFile('ipxe', image, base, mac)).toContain(`/boot-kernel?mac=${mac} ${cmdline} BOOTIF=01-52-54-00-12-34-56\n`);
    // GRUB: braces escaped; the quotes are GRUB's (the same YAML reaches cloud-init without them).
    const grub = renderBootFile('grub', image, base, mac);
    expect(grub).toContain(
      `/boot-kernel\\?mac=${mac} console=tty0 console=ttyS0,115200 boot=live ip=dhcp net.ifnames=0 ip6=off fetch=${base}/images/debian/bookworm/amd64/generic/v1/filesystem.squashfs ` +
        `cc:\\{'datasource_list': ['MAAS']\\}end_cc cloud-config-url=${base}/MAAS/metadata/latest/by-id/abc123/?op=get_preseed BOOTIF=01-52-54-00-12-34-56; then\n`,
    );
  });

  it('tells a machine on its console that the region has no image, and sends it back to its firmware', () => {
    const config = { kind: 'no-image' as const, systemId: null, hostname: null, purpose: 'enlistment' as const, arch: 'amd64', message: 'The region has no boot image for amd64: import one (kiln boot-resource-import <dir>).' };
    const pxe = renderBootFile('pxelinux', config, 'http://x', '52:54:00:12:34:56');
    expect(pxe).toContain('SAY Kiln: The region has no boot image for amd64');
    expect(pxe).toContain('LOCALBOOT -1');
    expect(pxe).not.toContain('KERNEL');
    expect(renderBootFile('ipxe', config, 'http://x')).toBe(`#!ipxe\necho Kiln: ${config.message}\nsleep 30\nexit\n`);
    expect(renderBootFile('grub', config, 'http://x')).toMatch(/^set default="0"\nset timeout=0\necho "Kiln: The region has no boot image for amd64[^"]*"\nsleep 30\nexit\n$/);
    // Nothing in the message can break out of GRUB's quotes.
    expect(renderNoImage('grub', 'a"b$c\\d')).toContain('echo "Kiln: a b c d"');
  });
});
