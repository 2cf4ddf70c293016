import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bootInterfaceMac,
  CommissioningOutputError,
  parseMachineResources,
  parseModaliases,
  parseSerialPorts,
} from './commissioning-resources.mapper';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));
const GiB = 1024 ** 3;

/** Throws CommissioningOutputError with a reason matching `reason`. */
function expectUnreadable(fn: () => unknown, reason: RegExp) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CommissioningOutputError);
  expect((caught as CommissioningOutputError).reason).toMatch(reason);
}

describe('50-maas-01-commissioning output → inventory', () => {
  describe('a container host (captured from the built-in script on a Debian 12 build host)', () => {
    const inv = parseMachineResources(fixture('debian-container-host.resources.json'));

    it('reads CPUs, speed from the current frequency rounded to 100 MHz, memory in MiB, the architecture', () => {
      expect(inv.cpuCount).toBe(2);
      // No "@ x.yzGHz" in the model, no turbo frequency: the average current frequency, rounded (2445 → 2400).
      expect(inv.cpuSpeed).toBe(2400);
      expect(inv.memory).toBe(Math.trunc(25276203008 / 1024 / 1024));
      expect(inv.architecture).toBe('amd64/generic');
      expect(inv.hardwareInfo.cpu_model).toBe('AMD EPYC');
    });

    it('has one NUMA node with both CPUs and all the memory', () => {
      expect(inv.numaNodes).toEqual([{ index: 0, cores: [0, 1], memory: 24105 }]);
    });

    it('models the virtio disk with no by-id link by its /dev path, tagged rotary from the rotational flag', () => {
      expect(inv.disks).toEqual([
        {
          name: 'vda',
          model: '',
          serial: 'overlayblk',
          idPath: '/dev/vda',
          size: 274877906944,
          blockSize: 512,
          firmwareVersion: null,
          tags: ['rotary'],
          numaNode: 0,
        },
      ]);
    });

    it('models the virtio NIC and leaves out loopback and the virtual ifb interfaces', () => {
      expect(inv.interfaces).toEqual([
        {
          name: 'eth0',
          mac: '02:fc:00:00:00:01',
          vendor: 'Red Hat, Inc.',
          product: 'Virtio 1.0 network device',
          firmwareVersion: null,
          linkSpeed: 0,
          interfaceSpeed: 0,
          linkConnected: true,
          mtu: 1400,
          numaNode: 0,
          sriovMaxVf: 0,
        },
      ]);
    });

    it('knows nothing of the system but that it is virtual, and keeps no empty hardware_info values', () => {
      expect(inv.hardwareInfo).toEqual({ cpu_model: 'AMD EPYC' });
      expect(inv.hardwareUuid).toBeNull();
      expect(inv.virtual).toBe(true);
      expect(inv.biosBootMethod).toBe('pxe');
      expect(inv.serialPorts).toEqual([{ name: 'ttyS0', path: '/dev/ttyS0', driver: 'port', address: '0x3F8' }]);
    });
  });

  describe('a two-socket server (hand-written: 2 NUMA nodes, 2 disks and a DVD drive, a 2-port NIC)', () => {
    const inv = parseMachineResources(fixture('two-numa-server.resources.json'));

    it('counts threads, takes the speed from the model name and the model without it', () => {
      expect(inv.cpuCount).toBe(8);
      expect(inv.cpuSpeed).toBe(2100);
      expect(inv.hardwareInfo.cpu_model).toBe('Intel(R) Xeon(R) Gold 6130 CPU');
      expect(inv.memory).toBe(65536);
    });

    it('puts each thread and each node memory on its NUMA node', () => {
      expect(inv.numaNodes).toEqual([
        { index: 0, cores: [0, 1, 4, 5], memory: 32768 },
        { index: 1, cores: [2, 3, 6, 7], memory: 32768 },
      ]);
    });

    it('models both disks with MAAS tags and by-id paths, and skips the read-only DVD drive', () => {
      expect(inv.disks).toEqual([
        {
          name: 'sda',
          model: 'Samsung SSD 860 PRO 512GB',
          serial: 'S42YNF0M123456',
          idPath: '/dev/disk/by-id/wwn-0x5002538e40a1b2c3',
          size: 512110190592,
          blockSize: 4096,
          firmwareVersion: 'EDA7602Q',
          tags: ['ssd', 'sata'],
          numaNode: 0,
        },
        {
          name: 'sdb',
          model: 'ST4000NM0035-1V4107',
          serial: 'ZC1A2B3C',
          idPath: '/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC1A2B3C',
          size: 4000787030016,
          blockSize: 512,
          firmwareVersion: 'TN03',
          tags: ['rotary', '7200rpm'],
          numaNode: 1,
        },
      ]);
    });

    it('models both ports of the NIC: speeds, link, MTU from the interface, card vendor and firmware', () => {
      expect(inv.interfaces).toEqual([
        {
          name: 'eno1',
          mac: '3c:fd:fe:a1:b2:c0',
          vendor: 'Intel Corporation',
          product: 'Ethernet Controller X710 for 10GbE SFP+',
          firmwareVersion: '6.01 0x800034a4 1.1747.0',
          linkSpeed: 10000,
          interfaceSpeed: 10000,
          linkConnected: true,
          mtu: 9000,
          numaNode: 0,
          sriovMaxVf: 0,
        },
        {
          name: 'eno2',
          mac: '3c:fd:fe:a1:b2:c1',
          vendor: 'Intel Corporation',
          product: 'Ethernet Controller X710 for 10GbE SFP+',
          firmwareVersion: '6.01 0x800034a4 1.1747.0',
          linkSpeed: 0,
          interfaceSpeed: 10000,
          linkConnected: false,
          mtu: 1500,
          numaNode: 0,
          sriovMaxVf: 0,
        },
      ]);
    });

    it('fills hardware_info with MAAS keys, the UUID, and UEFI as the boot method', () => {
      expect(inv.hardwareInfo).toEqual({
        system_vendor: 'Dell Inc.',
        system_product: 'PowerEdge R640',
        system_family: 'PowerEdge',
        system_sku: 'SKU=NotProvided;ModelName=PowerEdge R640',
        system_serial: '4B5RVD2',
        cpu_model: 'Intel(R) Xeon(R) Gold 6130 CPU',
        mainboard_vendor: 'Dell Inc.',
        mainboard_product: '0W23H8',
        mainboard_serial: '.4B5RVD2.CNIVC009A1234.',
        mainboard_version: 'A01',
        mainboard_firmware_vendor: 'Dell Inc.',
        mainboard_firmware_date: '07/08/2020',
        mainboard_firmware_version: '2.8.1',
        chassis_vendor: 'Dell Inc.',
        chassis_type: 'Rack Mount Chassis',
        chassis_serial: '4B5RVD2',
      });
      expect(inv.hardwareUuid).toBe('4c4c4544-0042-3510-8052-b4c04f564432');
      expect(inv.virtual).toBe(false);
      expect(inv.biosBootMethod).toBe('uefi');
    });
  });

  describe('MAAS rules on edge cases', () => {
    const base = () => JSON.parse(fixture('two-numa-server.resources.json').toString('utf8'));

    it('drops vendor placeholders and a UUID that is a service tag', () => {
      const doc = base();
      doc.resources.system.serial = '0123456789';
      doc.resources.system.product = 'None';
      doc.resources.system.uuid = 'ABCD123';
      const inv = parseMachineResources(JSON.stringify(doc));
      expect(inv.hardwareInfo.system_serial).toBeUndefined();
      expect(inv.hardwareInfo.system_product).toBeUndefined();
      expect(inv.hardwareUuid).toBeNull();
    });

    it('takes the turbo frequency when sockets disagree on the model', () => {
      const doc = base();
      doc.resources.cpu.sockets[1].name = 'Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz';
      const inv = parseMachineResources(JSON.stringify(doc));
      expect(inv.cpuSpeed).toBe(3700);
      expect(inv.hardwareInfo.cpu_model).toBeUndefined();
    });

    it('keeps a removable disk tagged removable, skips tiny and loop devices', () => {
      const doc = base();
      doc.resources.storage.disks.push(
        { ...doc.resources.storage.disks[0], id: 'sdc', serial: 'USB1', device_id: 'usb-Kingston_DT_USB1', type: 'usb', removable: true, size: 16 * GiB },
        { ...doc.resources.storage.disks[0], id: 'sdd', serial: 'TINY', size: 4 * 1024 * 1024 },
        { ...doc.resources.storage.disks[0], id: 'loop0', serial: '', size: GiB },
      );
      const names = parseMachineResources(JSON.stringify(doc)).disks.map((d) => [d.name, d.tags]);
      expect(names).toEqual([
        ['sda', ['ssd', 'sata']],
        ['sdb', ['rotary', '7200rpm']],
        ['sdc', ['ssd', 'removable']],
      ]);
    });

    it('puts all memory on node 0 when there is no per-node breakdown', () => {
      const doc = base();
      delete doc.resources.memory.nodes;
      expect(parseMachineResources(JSON.stringify(doc)).numaNodes).toEqual([
        { index: 0, cores: [0, 1, 4, 5], memory: 65536 },
        { index: 1, cores: [2, 3, 6, 7], memory: 0 },
      ]);
    });

    it('says why output cannot be read', () => {
      expectUnreadable(() => parseMachineResources('{"api_version": "1.0", "resources": '), /invalid JSON/);
      expectUnreadable(() => parseMachineResources('[]'), /not a JSON object/);
      expectUnreadable(() => parseMachineResources('{"api_version": "2.0", "resources": {}}'), /API 1\.0/);
      expectUnreadable(() => parseMachineResources('{"api_version": "1.0"}'), /no "resources"/);
      expectUnreadable(() => parseMachineResources('{"api_version": "1.0", "resources": {}}'), /no "networks"/);
      const doc = base();
      doc.resources.storage.disks[0].size = 'big';
      expectUnreadable(() => parseMachineResources(JSON.stringify(doc)), /resources\.storage\.disks\[0\]\.size is not a number/);
      const twice = base();
      twice.resources.storage.disks.push({ ...twice.resources.storage.disks[1], serial: 'OTHER' });
      expectUnreadable(() => parseMachineResources(JSON.stringify(twice)), /disk sdb is listed twice/);
      const noCards = base();
      noCards.resources.network.cards = {};
      expectUnreadable(() => parseMachineResources(JSON.stringify(noCards)), /resources\.network\.cards is not a list/);
    });
  });
});

describe('the other commissioning outputs', () => {
  it('finds the BOOTIF MAC on a kernel command line, in either separator', () => {
    expect(bootInterfaceMac('ro root=squash:http://10.0.0.1:5248/x ip=::::m1:BOOTIF:dhcp BOOTIF=01-52-54-00-AB-cd-01 ---')).toBe('52:54:00:ab:cd:01');
    expect(bootInterfaceMac('BOOTIF=01-52:54:00:ab:cd:02')).toBe('52:54:00:ab:cd:02');
    expect(bootInterfaceMac('console=ttyS0 quiet')).toBeNull();
  });

  it('reads modaliases one per line, sorted and without repeats, and refuses what is not one', () => {
    const lines = parseModaliases(fixture('debian-container-host.modaliases.txt').toString('utf8'));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines).toContain('acpi:PNP0303:');
    expect(parseModaliases('pci:v00008086d00001572sv*\n\npci:v00008086d00001572sv*\nacpi:PNP0A03:\n')).toEqual(['acpi:PNP0A03:', 'pci:v00008086d00001572sv*']);
    expectUnreadable(() => parseModaliases('<html>oops</html>'), /not a modalias/);
  });

  it('reads maas-serial-ports output, where the I/O port is "port"', () => {
    expect(parseSerialPorts([{ name: 'ttyS1', path: '/dev/ttyS1', driver: 'serial8250', port: '0x2F8', iomem_base: '0x0' }])).toEqual([
      { name: 'ttyS1', path: '/dev/ttyS1', driver: 'serial8250', address: '0x2F8' },
    ]);
    expectUnreadable(() => parseSerialPorts({ ttyS0: {} }), /not a list/);
  });
});
