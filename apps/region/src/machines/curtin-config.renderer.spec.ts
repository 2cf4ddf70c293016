import { curtinConfigYaml, CurtinMachine, installerRefusal, kernelPackage, renderCurtinConfig, renderNetwork, renderStorage } from './curtin-config.renderer';

const GB = 1e9;
const MIB = 1024 ** 2;
const machine: CurtinMachine = {
  hostname: 'node1',
  osystem: 'ubuntu',
  distroSeries: 'jammy',
  architecture: 'amd64/generic',
  hweKernel: 'ga-22.04',
  biosBootMethod: 'uefi',
  swapSize: null,
  interfaces: [
    { name: 'eth0', type: 'physical', macAddress: '52:54:00:00:00:01', mtu: 1500, enabled: true, isBoot: true },
    { name: 'eth1', type: 'physical', macAddress: '52:54:00:00:00:02', mtu: 9000, enabled: true, isBoot: false },
    { name: 'eth2', type: 'physical', macAddress: '52:54:00:00:00:03', mtu: 1500, enabled: false, isBoot: false },
  ],
  disks: [
    { id: 1, name: 'sda', type: 'physical', size: 100 * GB, model: 'QEMU HARDDISK', serial: 'QM0001', idPath: null, isBoot: true },
    { id: 2, name: 'sdb', type: 'physical', size: 50 * GB, model: '', serial: '', idPath: '/dev/disk/by-id/wwn-0x1', isBoot: false },
  ],
  storageLayout: null,
  specialFilesystems: [],
};

const ids = (m: CurtinMachine) => renderStorage(m).config.map((e) => e.id);

describe('renderCurtinConfig', () => {
  it('lays out the default (flat) layout on the boot disk, with the EFI partition of a UEFI machine', () => {
    const left = 100 * GB - 4 * MIB - MIB - 512 * MIB;
    expect(renderCurtinConfig(machine)).toEqual({
      install: { log_file: '/tmp/install.log', error_tarfile: '/tmp/curtin-logs.tar', post_files: ['/tmp/install.log', '/tmp/curtin-logs.tar'] },
      kernel: { package: 'linux-generic', mapping: {} },
      swap: undefined,
      storage: {
        version: 1,
        config: [
          { id: 'sda', name: 'sda', type: 'disk', wipe: 'superblock', ptable: 'gpt', serial: 'QM0001', model: 'QEMU HARDDISK', grub_device: true },
          { id: 'sda-part1', name: 'sda-part1', type: 'partition', number: 1, device: 'sda', size: `${512 * MIB}B`, wipe: 'superblock', flag: 'boot', offset: `${4 * MIB}B` },
          {
            id: 'sda-part2',
            name: 'sda-part2',
            type: 'partition',
            number: 2,
            device: 'sda',
            size: `${Math.floor(left / (4 * MIB)) * 4 * MIB}B`,
            wipe: 'superblock',
            flag: undefined,
            offset: undefined,
          },
          { id: 'sda-part1_format', type: 'format', fstype: 'fat32', label: 'efi', volume: 'sda-part1' },
          { id: 'sda-part2_format', type: 'format', fstype: 'ext4', label: 'root', volume: 'sda-part2' },
          { id: 'sda-part2_mount', type: 'mount', path: '/', device: 'sda-part2_format' },
          { id: 'sda-part1_mount', type: 'mount', path: '/boot/efi', device: 'sda-part1_format' },
        ],
      },
      network: {
        version: 1,
        config: [
          { id: 'eth0', name: 'eth0', type: 'physical', mac_address: '52:54:00:00:00:01', mtu: 1500, subnets: [{ type: 'dhcp' }] },
          { id: 'eth1', name: 'eth1', type: 'physical', mac_address: '52:54:00:00:00:02', mtu: 9000, subnets: [{ type: 'manual' }] },
        ],
      },
    });
  });

  it('puts the root on root_device, uses msdos and a /boot partition for a BIOS machine, and adds swap and special mounts', () => {
    const m: CurtinMachine = {
      ...machine,
      biosBootMethod: 'pxe',
      swapSize: 2 * 1024 ** 3,
      storageLayout: { layout: 'flat', boot_size: GB, root_device: 2, root_size: 20 * GB },
      specialFilesystems: [{ fstype: 'tmpfs', mount_point: '/scratch', mount_options: 'size=1G', uuid: 'u1', acquired: false }],
    };
    const out = renderCurtinConfig(m);
    expect(out.swap).toEqual({ size: `${2 * 1024 ** 3}B` });
    const storage = renderStorage(m).config;
    expect(storage.map((e) => e.id)).toEqual([
      'sda', 'sda-part1', 'sdb', 'sdb-part1', 'sda-part1_format', 'sdb-part1_format', 'sdb-part1_mount', 'sda-part1_mount', 'tmpfs-mount0',
    ]);
    expect(storage[0]).toMatchObject({ ptable: 'msdos', grub_device: true });
    expect(storage[2]).toEqual({ id: 'sdb', name: 'sdb', type: 'disk', wipe: 'superblock', ptable: 'msdos', path: '/dev/disk/by-id/wwn-0x1' });
    expect(storage[3]).toMatchObject({ size: `${Math.floor((20 * GB) / (4 * MIB)) * 4 * MIB}B` });
    expect(storage[6]).toMatchObject({ path: '/' });
    expect(storage[7]).toMatchObject({ path: '/boot' });
    expect(storage[8]).toEqual({ id: 'tmpfs-mount0', type: 'mount', fstype: 'tmpfs', spec: 'tmpfs', path: '/scratch', options: 'size=1G' });
  });

  it('renders lvm, bcache, vmfs and blank layouts', () => {
    const lvm = renderStorage({ ...machine, storageLayout: { layout: 'lvm', boot_size: null, root_device: null, root_size: null, vg_name: 'vg0', lv_name: null, lv_size: 20 * GB } });
    expect(lvm.config).toContainEqual({ id: 'vg0', name: 'vg0', type: 'lvm_volgroup', devices: ['sda-part2'] });
    expect(lvm.config).toContainEqual({ id: 'lvroot', name: 'lvroot', type: 'lvm_partition', volgroup: 'vg0', size: `${20 * GB}B` });
    expect(lvm.config).toContainEqual({ id: 'lvroot_mount', type: 'mount', path: '/', device: 'lvroot_format' });

    const bcache = { ...machine, storageLayout: { layout: 'bcache' as const, boot_size: null, root_device: null, root_size: null, cache_device: 2, cache_mode: null, cache_size: null, cache_no_part: false } };
    expect(ids(bcache)).toEqual([
      'sda', 'sda-part1', 'sda-part2', 'sda-part3', 'sdb', 'sdb-part1', 'bcache0',
      'sda-part1_format', 'sda-part2_format', 'bcache0_format', 'bcache0_mount', 'sda-part2_mount', 'sda-part1_mount',
    ]);
    expect(renderStorage(bcache).config).toContainEqual({
      id: 'bcache0', name: 'bcache0', type: 'bcache', backing_device: 'sda-part3', cache_device: 'sdb-part1', cache_mode: 'writethrough',
    });
    // bcache always has a 1 GiB /boot.
    expect(renderStorage(bcache).config[2]).toMatchObject({ size: `${1024 ** 3}B`, flag: 'boot' });

    const vmfs = renderStorage({ ...machine, storageLayout: { layout: 'vmfs7', boot_size: null, root_device: null, root_size: null } });
    expect(vmfs.config.filter((e) => e.type === 'partition').map((e) => e.number)).toEqual([1, 5, 6, 7, 8]);
    expect(vmfs.config).toContainEqual({ id: 'datastore1', name: 'datastore1', type: 'vmfs7', devices: ['sda-part8'] });

    const blank = renderStorage({ ...machine, storageLayout: { layout: 'blank', boot_size: null, root_device: null, root_size: null } });
    expect(blank.config.map((e) => [e.id, e.type, e.ptable])).toEqual([
      ['sda', 'disk', undefined],
      ['sdb', 'disk', undefined],
    ]);
  });

  it('gives a BIOS machine with a GPT boot disk its bios_grub partition, and a diskless machine no storage', () => {
    const big = { ...machine, biosBootMethod: null, disks: [{ ...machine.disks[0], size: 3 * 1024 ** 4 }] };
    expect(renderStorage(big).config[1]).toMatchObject({ id: 'sda-part1', flag: 'bios_grub', size: `${MIB}B` });
    expect(renderStorage({ ...machine, disks: [] })).toEqual({ version: 1, config: [] });
  });

  it("lets the installer lay out flat, lvm and bcache layouts, and names why not for vmfs and blank ones", () => {
    const layout = (l: NonNullable<CurtinMachine['storageLayout']>) => installerRefusal({ ...machine, storageLayout: l });
    const base = { boot_size: null, root_device: null, root_size: null };
    expect(installerRefusal(machine)).toBeNull();
    expect(layout({ layout: 'lvm', ...base, vg_name: 'vg0', lv_name: null, lv_size: null })).toBeNull();
    expect(layout({ layout: 'bcache', ...base, cache_device: 2, cache_mode: null, cache_size: null, cache_no_part: false })).toBeNull();
    expect(layout({ layout: 'vmfs6', ...base })).toBe("Kiln's installer cannot lay out vmfs6.");
    expect(layout({ layout: 'blank', ...base })).toBe('it mounts no filesystem at /.');
    // No disks known yet: nothing to judge.
    expect(installerRefusal({ ...machine, disks: [], storageLayout: { layout: 'blank', ...base } })).toBeNull();
  });

  it('picks the kernel package of the release', () => {
    expect(kernelPackage('ubuntu', 'ga-22.04')).toBe('linux-generic');
    expect(kernelPackage('ubuntu', 'hwe-22.04-edge')).toBe('linux-generic-hwe-22.04-edge');
    expect(kernelPackage('ubuntu', null)).toBeNull();
    expect(kernelPackage('centos', 'ga-8')).toBeNull();
  });

  it('writes YAML headed by the machine and its release', () => {
    const text = curtinConfigYaml(machine);
    expect(text.split('\n')[0]).toBe('# curtin configuration of node1: ubuntu/jammy on amd64/generic');
    expect(text).toContain('\nstorage:\n  config:\n  - grub_device: true\n    id: sda\n');
    expect(text).toContain('mac_address: "52:54:00:00:00:01"');
  });
});

describe('renderNetwork', () => {
  const link = (mode: string, address: string | null, gateway: string | null = null, family: 4 | 6 = 4) => ({ mode, family, address, gateway, dnsServers: gateway ? ['10.5.0.1'] : [] });

  it('without links: the boot interface asks DHCP, the other enabled physical interfaces stay manual', () => {
    expect(renderNetwork(machine).config.map((e) => [e.name, e.subnets])).toEqual([
      ['eth0', [{ type: 'dhcp' }]],
      ['eth1', [{ type: 'manual' }]],
    ]);
  });

  it('with links: bonds, VLANs and bridges after their parents, static addresses with the gateway, DHCP per family', () => {
    const m: CurtinMachine = {
      ...machine,
      interfaces: [
        { name: 'br0', type: 'bridge', macAddress: '52:54:00:00:00:01', mtu: 1500, enabled: true, isBoot: false, parents: ['bond0.40'], params: { bridge_stp: true, bridge_fd: 4 }, links: [link('static', '10.40.0.5/24', '10.40.0.1')] },
        { name: 'bond0.40', type: 'vlan', macAddress: '52:54:00:00:00:01', mtu: 1500, enabled: true, isBoot: false, parents: ['bond0'], vid: 40, links: [] },
        { name: 'bond0', type: 'bond', macAddress: '52:54:00:00:00:01', mtu: 9000, enabled: true, isBoot: false, parents: ['eth0', 'eth1'], params: { bond_mode: '802.3ad', bond_miimon: 100, bond_xmit_hash_policy: 'layer3+4' }, links: [link('dhcp', null), link('dhcp', null, null, 6)] },
        { name: 'eth0', type: 'physical', macAddress: '52:54:00:00:00:01', mtu: 9000, enabled: true, isBoot: true, links: [] },
        { name: 'eth1', type: 'physical', macAddress: '52:54:00:00:00:02', mtu: 9000, enabled: true, isBoot: false, links: [] },
        { name: 'eth2', type: 'physical', macAddress: '52:54:00:00:00:03', mtu: 1500, enabled: true, isBoot: false, links: [link('link_up', null)] },
      ],
    };
    expect(renderNetwork(m)).toEqual({
      version: 1,
      config: [
        { id: 'eth0', name: 'eth0', type: 'physical', mac_address: '52:54:00:00:00:01', mtu: 9000, subnets: [{ type: 'manual' }] },
        { id: 'eth1', name: 'eth1', type: 'physical', mac_address: '52:54:00:00:00:02', mtu: 9000, subnets: [{ type: 'manual' }] },
        {
          id: 'bond0', name: 'bond0', type: 'bond', mac_address: '52:54:00:00:00:01', mtu: 9000, bond_interfaces: ['eth0', 'eth1'],
          params: { 'bond-mode': '802.3ad', 'bond-miimon': 100, 'bond-xmit-hash-policy': 'layer3+4' }, subnets: [{ type: 'dhcp' }, { type: 'dhcp6' }],
        },
        { id: 'bond0.40', name: 'bond0.40', type: 'vlan', vlan_link: 'bond0', vlan_id: 40, mtu: 1500, subnets: [{ type: 'manual' }] },
        {
          id: 'br0', name: 'br0', type: 'bridge', mac_address: '52:54:00:00:00:01', mtu: 1500, bridge_interfaces: ['bond0.40'], params: { bridge_stp: true, bridge_fd: 4 },
          subnets: [{ type: 'static', address: '10.40.0.5/24', gateway: '10.40.0.1', dns_nameservers: ['10.5.0.1'] }],
        },
        { id: 'eth2', name: 'eth2', type: 'physical', mac_address: '52:54:00:00:00:03', mtu: 1500, subnets: [{ type: 'manual' }] },
      ],
    });
  });
});
