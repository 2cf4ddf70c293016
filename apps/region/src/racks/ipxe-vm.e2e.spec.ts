import { join } from 'node:path';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { registerBootImage } from '../testing/boot-images.fixture';
import { RackProcess, VmLab } from '../testing/vm-lab.harness';

const API = '/MAAS/api/2.0';
type Json = Record<string, unknown>;
interface MachineEvent {
  type: string;
  description: string;
}

/**
 * A QEMU VM network-boots from a real rack: its iPXE ROM (Debian's ipxe-qemu, under TCG) gets a
 * lease from the rack's DHCP server on a subnet configured through the region's API, fetches the
 * boot file the lease names (the rack's iPXE script, rendered from the region's boot config for
 * the machine with that MAC) over HTTP, and then the kernel and initrd the script names.
 * The rack runs in a lab namespace with its production ports (DHCP 67, TFTP 69, HTTP 5248), the
 * VM in another one on a bridge (tools/lab/vm-lab-up.sh, vm-start.sh); the evidence is the VM's
 * serial console, the machine's events in the region and the rack's log. TFTP is not on this
 * path: an iPXE client (user class "iPXE", option 175) is handed the script's URL, with 175.176
 * so that it does not wait for ProxyDHCP offers; only PXE ROMs that are not iPXE load a boot
 * loader over TFTP.
 */
describe('a QEMU VM PXE-boots from a rack process (iPXE, e2e)', () => {
  const lab = new VmLab();
  const rack = new RackProcess();
  const MAC = '52:54:00:77:00:01';
  const RACK_HOSTNAME = `rack-${lab.prefix}`;
  const IMAGE = 'debian/bookworm/amd64/generic/lab';
  const KERNEL_RAN = 'Kiln lab: the stand-in kernel from the rack ran';
  const KERNEL = `#!ipxe\necho ${KERNEL_RAN}\n`;
  let h: RegionHarness | undefined;
  let admin: ApiKey;
  let systemId: string;
  let vmDir: string;

  const ok = async (method: string, path: string, body?: Record<string, string>): Promise<Json> => {
    const r = await h!.call(admin, method, `${API}/${path}`, body);
    if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
    return r.json() as Json;
  };
  const events = async (): Promise<MachineEvent[]> =>
    ((await ok('GET', `events/?op=query&id=${systemId}&level=DEBUG&limit=100`)) as unknown as { events: MachineEvent[] }).events;

  beforeAll(async () => {
    VmLab.assertRoot();
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000' });
    admin = await h.createUser('admin', true);
    // A known machine in New: it boots the ephemeral environment (commissioning).
    systemId = (await ok('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: MAC, power_type: 'manual', commission: 'false' }))
      .system_id as string;

    await lab.up();
    // Stand-ins for the ephemeral kernel and initrd. The "kernel" is an iPXE script, which iPXE
    // runs when the rack's script says `boot`: its line on the console shows that what the rack
    // served arrived whole and ran, and the VM then stays in its firmware.
    // They are the region's image, which the rack fetches into its cache and serves from there.
    const stateDir = join(lab.dir, 'rack');
    await registerBootImage(h, { version: 'lab', files: { 'boot-kernel': Buffer.from(KERNEL), 'boot-initrd': Buffer.alloc(32 << 10, 9), squashfs: Buffer.alloc(4096, 1) } });
    await lab.startServingRack(rack, h, admin, { stateDir, hostname: RACK_HOSTNAME, images: 3 });

    vmDir = await lab.startVm('vm0', 0, MAC);
  }, 60_000);

  afterAll(() => lab.stopAll(rack, h), 60_000);

  it('leases an address from the rack, fetches its iPXE script over HTTP and then the kernel and initrd', async () => {
    const base = 'http://10.77.0.1:5248';
    const serial = await pollUntil(
      () => lab.serial(vmDir),
      (text) => text.includes(KERNEL_RAN),
      { timeoutMs: 30_000, intervalMs: 100, what: 'iPXE to boot what the rack served' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- serial.log ---\n${lab.serial(vmDir)}`);
    });

    // The VM's console, in order: a lease from the rack's range, the boot file the lease named
    // (the rack's iPXE script for this MAC, over HTTP), the script, its kernel and initrd.
    const ip = /^net0: (10\.77\.0\.\d+)\/255\.255\.255\.0 gw 10\.77\.0\.1$/m.exec(serial)?.[1];
    expect(ip).toMatch(/^10\.77\.0\.1\d\d$/);
    const lit = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const steps = [
      new RegExp(`^Configuring \\(net0 ${MAC}\\)\\.* ok$`),
      new RegExp(`^net0: ${lit(ip!)}/`),
      new RegExp(`^Filename: ${lit(`${base}/ipxe.cfg?mac=${MAC}`)}$`),
      new RegExp(`^${lit(`${base}/ipxe.cfg`)}\\.+ ok$`),
      /^Kiln: commissioning$/,
      new RegExp(`^${lit(`${base}/images/${IMAGE}/boot-kernel`)}\\.+ ok$`),
      new RegExp(`^${lit(`${base}/images/${IMAGE}/boot-initrd`)}\\.+ ok$`),
      new RegExp(`^${lit(KERNEL_RAN)}$`),
    ];
    const lines = serial.split('\n').map((l) => l.trim());
    let at = -1;
    const missing = steps.filter((re) => {
      const i = lines.findIndex((l, n) => n > at && re.test(l));
      if (i >= 0) at = i;
      return i < 0;
    });
    expect({ missing: missing.map(String) }).toEqual({ missing: [] });

    // The region's record on the machine: its boot request, the lease, and the script, kernel and
    // initrd served to it (their URLs carry the MAC).
    const httpEvents = (e: { type: string }[]) => e.filter((x) => x.type === 'HTTP Request').length;
    const ev = await pollUntil(events, (e) => e.some((x) => x.type === 'DHCP lease') && httpEvents(e) >= 3, {
      timeoutMs: 10_000,
      what: 'boot events from the rack',
    });
    expect(ev.find((x) => x.type === 'PXE Request')?.description).toContain(`ephemeral (commissioning) ${IMAGE}/boot-kernel`);
    expect(ev.find((x) => x.type === 'DHCP ack')?.description).toMatch(new RegExp(`^${lit(`${base}/ipxe.cfg?mac=${MAC}, ${ip}`)}, client arch 0, `));
    expect(ev.find((x) => x.type === 'DHCP lease')?.description).toMatch(new RegExp(`^${lit(ip!)} leased via rack \\S+ on rack0$`));
    const served = ev.filter((x) => x.type === 'HTTP Request').map((x) => x.description).reverse();
    expect(served).toEqual([
      expect.stringMatching(/^\/ipxe\.cfg, \d+ bytes, /),
      expect.stringMatching(new RegExp(`^${lit(`/images/${IMAGE}/boot-kernel, ${KERNEL.length} bytes, `)}`)),
      expect.stringMatching(new RegExp(`^${lit(`/images/${IMAGE}/boot-initrd, ${32 << 10} bytes, `)}`)),
    ]);

    // The rack's log: the script, then the kernel and initrd, each to the leased address.
    const logged = rack.lines('http file served').filter((l) => String(l.client).startsWith(`${ip}:`));
    expect(logged.map((l) => [l.file, l.status, l.bytes])).toEqual([
      ['/ipxe.cfg', 200, expect.any(Number)],
      [`/images/${IMAGE}/boot-kernel`, 200, KERNEL.length],
      [`/images/${IMAGE}/boot-initrd`, 200, 32 << 10],
    ]);
  }, 45_000);
});
