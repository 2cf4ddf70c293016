import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { registerBootImage } from '../testing/boot-images.fixture';
import { RackLogLine, RackProcess, VmLab } from '../testing/vm-lab.harness';

const API = '/MAAS/api/2.0';
type Json = Record<string, unknown>;
interface MachineEvent {
  type: string;
  description: string;
}

const lit = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The patterns of `steps` that no line matches, in order, after the previous step's line. */
function missingSteps(serial: string, steps: RegExp[]): string[] {
  const lines = serial.split('\n').map((l) => l.trim());
  let at = -1;
  return steps
    .filter((re) => {
      const i = lines.findIndex((l, n) => n > at && re.test(l));
      if (i >= 0) at = i;
      return i < 0;
    })
    .map(String);
}

/**
 * UEFI machines whose firmware is not iPXE network-boot from a real rack, as most servers do:
 * QEMU runs OVMF (Debian's ovmf, under TCG) with the NIC's iPXE option ROM disabled, so OVMF's own
 * UEFI PXE asks the rack's DHCP server for a lease (client arch 7) and is handed `bootx64.efi`.
 * The rack's boot root is filled by the production step, tools/rack/install-boot-loaders.sh:
 * bootx64.efi is Debian's shim (signed by Microsoft), which fetches grubx64.efi (Debian's signed
 * network GRUB) over TFTP; GRUB reads the rack's generic grub/grub.cfg at its prefix, which chains
 * to the per-MAC grub/grub.cfg-<mac> rendered from the region's boot config; that config has
 * GRUB fetch the kernel over HTTP from the rack (with http.mod from the boot root: Debian's GRUB
 * has no HTTP built in), and over TFTP when `linux` fails. The kernel is a stand-in, which GRUB
 * fetches and rejects. Two VMs boot side by side: a known machine with Secure Boot off, and an
 * unknown one (enlistment) with Secure Boot enforced and Microsoft's keys, whose GRUB may load no
 * module and so fetches the kernel over TFTP only. Evidence: each VM's serial console (OVMF, shim
 * and GRUB all print there), the known machine's events and the rack's log.
 */
describe('UEFI VMs without iPXE PXE-boot shim and GRUB from a rack process (OVMF, e2e)', () => {
  const lab = new VmLab();
  const rack = new RackProcess();
  const MAC = '52:54:00:77:00:02';
  const SB_MAC = '52:54:00:77:00:03';
  const RACK_HOSTNAME = `rack-${lab.prefix}`;
  const IMAGE = 'debian/bookworm/amd64/generic/lab';
  const KERNEL = `/images/${IMAGE}/boot-kernel`;
  const KERNEL_SIZE = 64 << 10;
  let h: RegionHarness | undefined;
  let admin: ApiKey;
  let systemId: string;
  let vmDir: string;
  let sbVmDir: string;
  let bootRoot: string;

  const ok = async (method: string, path: string, body?: Record<string, string>): Promise<Json> => {
    const r = await h!.call(admin, method, `${API}/${path}`, body);
    if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
    return r.json() as Json;
  };
  const events = async (): Promise<MachineEvent[]> =>
    ((await ok('GET', `events/?op=query&id=${systemId}&level=DEBUG&limit=100`)) as unknown as { events: MachineEvent[] }).events;
  const size = (name: string) => statSync(join(bootRoot, name)).size;
  /** Waits for `done` on the VM's console (or a line of the generic config's fallback). */
  const serialUntil = (dir: string, done: RegExp): Promise<string> =>
    pollUntil(
      () => lab.serial(dir),
      (text) => done.test(text) || text.includes('no boot config'),
      { timeoutMs: 55_000, intervalMs: 100, what: 'GRUB to fetch the kernel from the rack' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- serial.log ---\n${lab.serial(dir)}`);
    });
  const leasedIp = (serial: string): string | undefined => /^Station IP address is (10\.77\.0\.\d+)$/m.exec(serial.replace(/^ +/gm, ''))?.[1];
  /**
   * What the rack's TFTP and HTTP servers delivered whole to `ip`, in order, up to the kernel over
   * TFTP (the rack logs a TFTP transfer at its last ACK, which may come after GRUB's next line).
   */
  const servedTo = (ip: string): Promise<RackLogLine[]> =>
    pollUntil(
      () => rack.log.filter((l) => (l.msg === 'tftp file served' || l.msg === 'http file served') && String(l.client).startsWith(`${ip}:`)),
      (lines) => lines.some((l) => l.msg === 'tftp file served' && l.file === KERNEL.slice(1)),
      { timeoutMs: 5_000, what: 'the rack to log the kernel served over TFTP' },
    ).catch(() => rack.log.filter((l) => String(l.client).startsWith(`${ip}:`)));
  /** The rack's DHCP offered and acknowledged `ip` to `mac` with bootx64.efi (every reply so). */
  const expectBootx64Lease = (mac: string, ip: string): void => {
    const replies = rack.lines('dhcp reply sent').filter((l) => l.mac === mac);
    expect(replies.map((l) => l.type)).toEqual(expect.arrayContaining(['offer', 'ack']));
    expect(replies.map((l) => [l.bootFile, l.yiaddr])).toEqual(replies.map(() => ['bootx64.efi', ip]));
  };
  /** The console up to GRUB, the same with Secure Boot on or off. */
  const firmwareSteps = (ip: string, mac: string): RegExp[] => [
    /^>>Start PXE over IPv4\.$/,
    new RegExp(`^Station IP address is ${lit(ip)}$`),
    /^Server IP address is 10\.77\.0\.1$/,
    /^NBP filename is bootx64\.efi$/,
    new RegExp(`^NBP filesize is ${size('bootx64.efi')} Bytes$`),
    /^NBP file downloaded successfully\.$/,
    new RegExp(`^BdsDxe: starting Boot\\d+ "UEFI PXEv4 \\(MAC:${mac.replace(/:/g, '').toUpperCase()}\\)"`),
    /^Fetching Netboot Image grubx64\.efi$/,
    /^Welcome to GRUB!$/,
    new RegExp(`^Kiln: loading grub/grub\\.cfg-${lit(mac)}$`),
  ];

  beforeAll(async () => {
    VmLab.assertRoot();
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000' });
    admin = await h.createUser('admin', true);
    // A known machine in New: it boots the ephemeral environment (commissioning). SB_MAC is unknown.
    systemId = (await ok('POST', 'machines/', { architecture: 'amd64/generic', mac_addresses: MAC, power_type: 'manual', commission: 'false' }))
      .system_id as string;

    await lab.up();
    const stateDir = join(lab.dir, 'rack');
    bootRoot = join(stateDir, 'boot');
    await lab.installBootLoaders(bootRoot);
    // A stand-in kernel (GRUB rejects it after reading it) and initrd, as the region's image,
    // which the rack fetches into its cache and serves from there.
    await registerBootImage(h, {
      version: 'lab',
      files: { 'boot-kernel': Buffer.alloc(KERNEL_SIZE, 7), 'boot-initrd': Buffer.alloc(32 << 10, 9), squashfs: Buffer.alloc(4096, 1) },
    });
    await lab.startServingRack(rack, h, admin, { stateDir, hostname: RACK_HOSTNAME, images: 3 });

    vmDir = await lab.startVm('vm0', 0, MAC, 'uefi-pxe');
    sbVmDir = await lab.startVm('vm1', 1, SB_MAC, 'uefi-pxe-secure-boot');
  }, 90_000);

  afterAll(() => lab.stopAll(rack, h), 60_000);

  it('leases an address, loads shim and GRUB over TFTP, the generic and the per-MAC GRUB config, and GRUB fetches the kernel over HTTP, then TFTP', async () => {
    // Under TCG the whole chain takes ~12-20 s: OVMF ~6 s to its PXE, ~4 s of DHCP (UEFI PXE
    // collects offers for its first 4 s timeout), shim and GRUB ~2-3 s over TFTP.
    const serial = await serialUntil(vmDir, /^Kiln: no kernel over HTTP, loading it over TFTP$[\s\S]*you need to load the kernel first/m);

    // The VM's console, in order: OVMF's own PXE (not iPXE) gets a lease from the rack's range and
    // the boot file the lease names, shim loads GRUB, GRUB reads the rack's generic config, which
    // loads this MAC's config, whose entry runs: the stand-in kernel fails over HTTP, then TFTP.
    expect(serial).not.toMatch(/ipxe/i);
    const ip = leasedIp(serial);
    expect(ip).toMatch(/^10\.77\.0\.1\d\d$/);
    const missing = missingSteps(serial, [
      ...firmwareSteps(ip!, MAC),
      /^Booting `commissioning'$/,
      /^Kiln: commissioning$/,
      /^error: /,
      /^Kiln: no kernel over HTTP, loading it over TFTP$/,
      /^error: invalid magic number\.$/,
    ]);
    expect({ missing, ...(missing.length ? { serial } : {}) }).toEqual({ missing: [] });
    // GRUB had HTTP (http.mod loaded: no "disk `http,...' not found") and this MAC's config.
    expect(serial).not.toMatch(/disk `http,/);
    expect(serial).not.toContain('no boot config');

    // The rack's log: DHCP handed the UEFI client bootx64.efi; over TFTP, to the leased address,
    // shim, GRUB, the generic config, this MAC's config (made for this machine) and GRUB's http
    // module, each whole; the kernel over HTTP, whole, and then over TFTP.
    expectBootx64Lease(MAC, ip!);
    const served = await servedTo(ip!);
    expect(served.map((l) => [l.msg === 'http file served' ? 'http' : 'tftp', l.file, l.bytes])).toEqual([
      ['tftp', 'bootx64.efi', size('bootx64.efi')],
      ['tftp', 'grubx64.efi', size('grubx64.efi')],
      ['tftp', 'grub/grub.cfg', expect.any(Number)],
      ['tftp', `grub/grub.cfg-${MAC}`, expect.any(Number)],
      ['tftp', 'grub/x86_64-efi/http.mod', size('grub/x86_64-efi/http.mod')],
      ['http', KERNEL, KERNEL_SIZE],
      ['tftp', KERNEL.slice(1), KERNEL_SIZE],
    ]);
    expect(served[3]).toMatchObject({ mac: MAC, systemId });
    expect(served[5]).toMatchObject({ method: 'GET', status: 200 });

    // The region's record on the machine: its boot request from a UEFI x86-64 client (arch 7), the
    // lease, and the per-MAC GRUB config fetched over TFTP.
    const ev = await pollUntil(events, (e) => e.some((x) => x.type === 'DHCP lease') && e.some((x) => x.type === 'TFTP Request'), {
      timeoutMs: 10_000,
      what: 'boot events from the rack',
    });
    expect(ev.find((x) => x.type === 'PXE Request')?.description).toContain(`ephemeral (commissioning) ${IMAGE}/boot-kernel`);
    expect(ev.find((x) => x.type === 'DHCP ack')?.description).toMatch(new RegExp(`^bootx64\\.efi, ${lit(ip!)}, client arch 7, `));
    expect(ev.find((x) => x.type === 'DHCP lease')?.description).toMatch(new RegExp(`^${lit(ip!)} leased via rack \\S+ on rack0$`));
    expect(ev.find((x) => x.type === 'TFTP Request')?.description).toMatch(new RegExp(`^/grub/grub\\.cfg-${lit(MAC)}, \\d+ bytes, `));
  }, 60_000);

  it('with Secure Boot enforced, boots the signed shim and GRUB, and GRUB (which may load no module) fetches the kernel over TFTP', async () => {
    const serial = await serialUntil(sbVmDir, /^error: bad shim signature\.$/m);

    // Shim (Microsoft's signature) and GRUB (Debian's, which shim checks) run with Secure Boot on;
    // GRUB may not load http.mod, so the kernel comes over TFTP, where shim rejects the unsigned
    // stand-in. An unknown machine enlists.
    expect(serial).not.toMatch(/ipxe/i);
    const ip = leasedIp(serial);
    expect(ip).toMatch(/^10\.77\.0\.1\d\d$/);
    const missing = missingSteps(serial, [
      ...firmwareSteps(ip!, SB_MAC),
      /^Booting `enlistment'$/,
      /^Kiln: enlistment$/,
      /^error: prohibited by secure boot policy\.$/,
      /^Kiln: no kernel over HTTP, loading it over TFTP$/,
      /^error: bad shim signature\.$/,
    ]);
    expect({ missing, ...(missing.length ? { serial } : {}) }).toEqual({ missing: [] });

    // The rack's log: the same loaders and configs; GRUB reads http.mod and refuses it (for
    // `insmod http`, and again when `linux` names an http device); then the kernel over TFTP only.
    expectBootx64Lease(SB_MAC, ip!);
    const served = await servedTo(ip!);
    const httpMod = ['tftp', 'grub/x86_64-efi/http.mod', size('grub/x86_64-efi/http.mod')];
    expect(served.map((l) => [l.msg === 'http file served' ? 'http' : 'tftp', l.file, l.bytes])).toEqual([
      ['tftp', 'bootx64.efi', size('bootx64.efi')],
      ['tftp', 'grubx64.efi', size('grubx64.efi')],
      ['tftp', 'grub/grub.cfg', expect.any(Number)],
      ['tftp', `grub/grub.cfg-${SB_MAC}`, expect.any(Number)],
      httpMod,
      httpMod,
      ['tftp', KERNEL.slice(1), KERNEL_SIZE],
    ]);
  }, 60_000);
});
