/**
 * What a simulated machine's scripts print. `50-maas-01-commissioning` gets the machine-resources
 * document in the shape Kiln's built-in prints (LXD's resources API plus Kiln's `numa_nodes`,
 * `serial_ports` and `storage.disks[].rotational`); the other built-ins get plausible output.
 */
import { cpuCount, SimulatedMachine } from './machine.profile';

export interface ScriptOutput {
  stdout: string;
  stderr: string;
  exitStatus: number;
  /** The result YAML ($RESULT_PATH), when the script writes one. */
  resultYaml?: string;
}

const FLAGS = 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl xtopology cpuid pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm avx2 bmi1 bmi2'.split(' ');

export function machineResources(m: SimulatedMachine): Record<string, unknown> {
  const sockets = Array.from({ length: m.cpu.sockets }, (_, s) => ({
    name: m.cpu.model,
    vendor: m.cpu.vendor,
    socket: s,
    frequency: m.cpu.mhz,
    frequency_minimum: 800,
    frequency_turbo: m.cpu.mhz + 1000,
    cores: Array.from({ length: m.cpu.coresPerSocket }, (_, c) => ({
      core: c,
      frequency: m.cpu.mhz,
      flags: FLAGS,
      threads: Array.from({ length: m.cpu.threadsPerCore }, (_, t) => ({
        // Linux numbers the first thread of every core first, then the siblings.
        id: s * m.cpu.coresPerSocket + c + t * m.cpu.coresPerSocket * m.cpu.sockets,
        thread: t,
        online: true,
        numa_node: s,
      })),
    })),
  }));
  const perNode = Math.floor(m.memory / m.numaNodes);
  const memNodes = Array.from({ length: m.numaNodes }, (_, n) => ({ numa_node: n, hugepages_used: 0, hugepages_total: 0, used: Math.floor(perNode / 20), total: perNode }));
  const numa = Array.from({ length: m.numaNodes }, (_, n) => ({
    id: n,
    cpus: sockets[n].cores.flatMap((c) => c.threads.map((t) => t.id)).sort((a, b) => a - b),
    memory: perNode,
  }));
  const disks = m.disks.map((d, i) => ({
    id: d.name,
    device: `${d.kind === 'nvme' ? 259 : d.kind === 'virtio' ? 252 : 8}:${i * 16}`,
    model: d.model,
    type: d.kind,
    read_only: false,
    size: d.size,
    removable: false,
    wwn: d.kind === 'virtio' ? '' : `0x5000c500${d.serial.slice(-8).toLowerCase()}`,
    numa_node: 0,
    device_path: d.kind === 'nvme' ? `pci-0000:${(0x40 + i).toString(16)}:00.0-nvme-1` : `pci-0000:00:17.0-ata-${i + 1}`,
    device_id: d.kind === 'virtio' ? `virtio-${d.serial}` : `wwn-0x5000c500${d.serial.slice(-8).toLowerCase()}`,
    block_size: 512,
    firmware_version: 'GXA7',
    rpm: d.rotational ? 1 : 0,
    rotational: d.rotational,
    serial: d.serial,
    partitions: [],
  }));
  const cards = m.nics.map((n, i) => ({
    driver: n.driver,
    driver_version: '5.15.0',
    numa_node: 0,
    pci_address: n.pciAddress,
    vendor: n.vendor,
    vendor_id: n.driver === 'mlx5_core' ? '15b3' : n.driver === 'tg3' ? '14e4' : '8086',
    product: n.product,
    product_id: n.driver === 'mlx5_core' ? '1017' : n.driver === 'tg3' ? '165f' : '1572',
    firmware_version: '',
    ports: [{ id: n.name, address: n.mac, port: i, protocol: 'ethernet', auto_negotiation: true, link_detected: true, link_speed: n.speedMbps, link_duplex: 'full' }],
  }));
  const pciDevices = m.nics.map((n, i) => ({
    driver: n.driver,
    driver_version: '5.15.0',
    numa_node: 0,
    pci_address: n.pciAddress,
    vendor: n.vendor,
    vendor_id: cards[i].vendor_id,
    product: n.product,
    product_id: cards[i].product_id,
    class: '020000',
    iommu_group: 20 + i,
  }));
  const networks: Record<string, unknown> = {
    lo: { hwaddr: '00:00:00:00:00:00', mtu: 65536, state: 'up', type: 'loopback', physical: false, driver: '', speed: 0, link_detected: true, bond: null, bridge: null, vlan: null, addresses: [{ family: 'inet', address: '127.0.0.1', netmask: '8', scope: 'host' }] },
  };
  m.nics.forEach((n, i) => {
    networks[n.name] = {
      hwaddr: n.mac,
      mtu: 1500,
      state: 'up',
      type: 'broadcast',
      physical: true,
      driver: n.driver,
      speed: n.speedMbps,
      link_detected: true,
      bond: null,
      bridge: null,
      vlan: null,
      addresses: i === 0 ? [{ family: 'inet', address: `10.${(m.index >> 16) & 0xff}.${(m.index >> 8) & 0xff}.${(m.index & 0xff) || 1}`, netmask: '16', scope: 'global' }] : [],
    };
  });
  return {
    api_version: '1.0',
    api_extensions: ['resources', 'resources_v2', 'resources_cpu_socket', 'resources_system', 'resources_usb_pci', 'resources_disk_id'],
    resources: {
      cpu: { architecture: 'x86_64', sockets, total: cpuCount(m) },
      memory: { nodes: memNodes, hugepages_total: 0, hugepages_used: 0, hugepages_size: 2097152, used: Math.floor(m.memory / 20), total: m.memory },
      gpu: { cards: [], total: 0 },
      network: { cards, total: cards.length },
      storage: { disks, total: disks.length },
      usb: { devices: [], total: 0 },
      pci: { devices: pciDevices, total: pciDevices.length },
      system: {
        uuid: m.system.uuid,
        vendor: m.system.vendor,
        product: m.system.product,
        family: '',
        version: '',
        sku: '',
        serial: m.system.serial,
        type: 'physical',
        firmware: { vendor: m.system.vendor, date: '03/14/2024', version: '2.19.1', boot_mode: 'uefi' },
        chassis: { vendor: m.system.vendor, type: '23', serial: m.system.serial, version: '' },
        motherboard: { vendor: m.system.vendor, product: '0X5TYX', serial: `MB${m.system.serial}`, version: 'A01' },
      },
      numa_nodes: numa,
      serial_ports: [{ name: 'ttyS0', path: '/dev/ttyS0', driver: 'serial8250', address: '0x3f8' }],
    },
    networks,
  };
}

function lshw(m: SimulatedMachine): string {
  const nics = m.nics
    .map((n, i) => `    <node id="network:${i}" claimed="true" class="network" handle="PCI:${n.pciAddress}">\n     <description>Ethernet interface</description>\n     <product>${n.product}</product>\n     <vendor>${n.vendor}</vendor>\n     <logicalname>${n.name}</logicalname>\n     <serial>${n.mac}</serial>\n     <capacity units="bit/s">${n.speedMbps * 1_000_000}</capacity>\n    </node>`)
    .join('\n');
  const disks = m.disks
    .map((d, i) => `    <node id="disk:${i}" claimed="true" class="disk">\n     <description>${d.kind === 'nvme' ? 'NVMe disk' : 'ATA Disk'}</description>\n     <product>${d.model}</product>\n     <logicalname>/dev/${d.name}</logicalname>\n     <serial>${d.serial}</serial>\n     <size units="bytes">${d.size}</size>\n    </node>`)
    .join('\n');
  return `<?xml version="1.0" standalone="yes" ?>
<!-- generated by lshw-B.02.19.2 -->
<list>
<node id="${m.hostname}" claimed="true" class="system" handle="DMI:0001">
 <description>Rack Mount Chassis</description>
 <product>${m.system.product}</product>
 <vendor>${m.system.vendor}</vendor>
 <serial>${m.system.serial}</serial>
 <width units="bits">64</width>
 <configuration>
  <setting id="boot" value="normal" />
  <setting id="uuid" value="${m.system.uuid}" />
 </configuration>
  <node id="core" claimed="true" class="bus" handle="DMI:0002">
   <description>Motherboard</description>
    <node id="memory" claimed="true" class="memory" handle="DMI:1000">
     <description>System Memory</description>
     <size units="bytes">${m.memory}</size>
    </node>
    <node id="cpu" claimed="true" class="processor" handle="DMI:0400">
     <product>${m.cpu.model}</product>
     <vendor>${m.cpu.vendor === 'GenuineIntel' ? 'Intel Corp.' : 'Advanced Micro Devices [AMD]'}</vendor>
     <size units="Hz">${m.cpu.mhz * 1_000_000}</size>
    </node>
${nics}
${disks}
  </node>
</node>
</list>
`;
}

/** What `name` prints on machine `m` (scripts Kiln does not know print a line and pass). */
export function scriptOutput(m: SimulatedMachine, name: string): ScriptOutput {
  const bootMac = m.nics[0].mac;
  switch (name) {
    case '50-maas-01-commissioning':
      return { stdout: `${JSON.stringify(machineResources(m), null, 1)}\n`, stderr: '', exitStatus: 0 };
    case 'maas-kernel-cmdline':
      return {
        stdout: `BOOT_IMAGE=/images/ubuntu/amd64/ga-22.04/jammy/stable/boot-kernel nomodeset ro root=squash:http://rack:5248/images/ubuntu/amd64/ga-22.04/jammy/stable/squashfs ip=::::${m.hostname}:BOOTIF ip6=off overlayroot=tmpfs overlayroot_cfgdisk=disabled cc:{'datasource_list': ['MAAS']}end_cc console=tty1 console=ttyS0 BOOTIF=01-${bootMac.replace(/:/g, '-')}\n`,
        stderr: '',
        exitStatus: 0,
      };
    case 'maas-lshw':
      return { stdout: lshw(m), stderr: '', exitStatus: 0 };
    case 'maas-list-modaliases':
      return {
        stdout: `${m.nics.map((n) => `pci:v0000${n.driver === 'mlx5_core' ? '15B3' : n.driver === 'tg3' ? '14E4' : '8086'}d00001572sv00008086sd00000000bc02sc00i00`).join('\n')}\ndmi:bvn${m.system.vendor.replace(/\W/g, '')}:bvr2.19.1:svn${m.system.vendor.replace(/\W/g, '')}:pn${m.system.product.replace(/\W/g, '')}:\n`,
        stderr: '',
        exitStatus: 0,
      };
    case 'maas-serial-ports':
      // The JSON list the built-in prints (libs/scripts/builtin/maas-serial-ports).
      return { stdout: '[{"name": "ttyS0", "path": "/dev/ttyS0", "driver": "serial8250", "address": "0x3f8"}]\n', stderr: '', exitStatus: 0 };
    case '20-maas-03-machine-resources':
      return { stdout: `machine resources written (${m.disks.length} disks, ${m.nics.length} NICs)\n`, stderr: '', exitStatus: 0 };
    case '30-maas-01-bmc-config':
      // The simulated BMC is a webhook the simulator serves: nothing to configure in band.
      return { stdout: 'No IPMI or Redfish BMC found on this machine; its power is managed through a webhook.\n', stderr: '', exitStatus: 0 };
    case '20-maas-01-install-lldpd':
      return { stdout: 'lldpd installed and started\n', stderr: '', exitStatus: 0 };
    case 'maas-capture-lldpd':
      return { stdout: '<?xml version="1.0" encoding="UTF-8"?>\n<lldp label="LLDP neighbors"/>\n', stderr: '', exitStatus: 0 };
    case '20-maas-02-dhcp-unconfigured-ifaces':
      return { stdout: m.nics.slice(1).map((n) => `dhclient ${n.name}: no lease\n`).join(''), stderr: '', exitStatus: 0 };
    case 'maas-get-fruid-api-data':
      return { stdout: '', stderr: 'This machine has no OpenBMC FRUID API\n', exitStatus: 0, resultYaml: 'status: skipped\n' };
    case 'smartctl-validate':
      return { stdout: `SMART overall-health self-assessment test result: PASSED\n`, stderr: '', exitStatus: 0 };
    default:
      return { stdout: `${name}: done\n`, stderr: '', exitStatus: 0 };
  }
}
