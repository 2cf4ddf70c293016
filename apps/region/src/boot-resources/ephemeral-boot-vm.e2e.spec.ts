import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { RackProcess, VmLab } from '../testing/vm-lab.harness';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');
const API = '/MAAS/api/2.0';
/** QEMU under TCG on a shared 2-core host: the whole boot takes minutes. */
const BOOT_TIMEOUT_MS = 15 * 60_000;

interface Manifest {
  inputsHash: string;
  files: Record<string, { sha256: string; size: number }>;
}

/**
 * The whole netboot path with the real ephemeral image (tools/images): the image is imported into
 * the region with `kiln boot-resource-import` (through the boot-resources/ API), a real rack
 * process in a lab namespace syncs it from the region into its cache (GetBootImages over NATS,
 * signed HTTP downloads), and a QEMU VM (TCG, iPXE) PXE-boots from the rack: the kernel and
 * initrd over HTTP from the rack's cache, live-boot's initramfs fetches the squashfs from the
 * rack, systemd reaches multi-user, and Debian's cloud-init asks the rack's /MAAS/metadata/ proxy
 * for the machine's preseed, which the rack relays to the region (the machine is commissioning,
 * so the region answers it with the machine's credentials).
 *
 * One VM boot. On the shared 2-core CI host it took 142 s in all: the import 4 s (the ~180 MB
 * image into Postgres), the rack's sync 6 s, and from QEMU's start to multi-user and cloud-init's
 * request 128 s (TCG; iPXE's HTTP downloads, then live-boot's wget of the squashfs).
 */
describe('a VM boots the ephemeral image the rack synced from the region (e2e)', () => {
  const lab = new VmLab();
  const rack = new RackProcess();
  const MAC = '52:54:00:77:00:21';
  let h: RegionHarness | undefined;
  let admin: ApiKey;
  let systemId: string;
  let vmDir: string;
  let imageDir: string;
  let manifest: Manifest;
  let base: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    VmLab.assertRoot();
    // Built once per host and cached (tools/images/README.md); this builds it when it is missing.
    // KILN_EPHEMERAL_IMAGE_DIR names an image directory already built to use instead.
    imageDir =
      process.env.KILN_EPHEMERAL_IMAGE_DIR ||
      (await run(join(ROOT, 'tools/images/build-ephemeral.sh'), [], { maxBuffer: 16 << 20, timeout: 25 * 60_000 })).stdout.trim().split('\n').pop()!;
    manifest = JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as Manifest;
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000' });
    admin = await h.createUser('admin', true);

    let t = Date.now();
    const key = `${admin.consumerKey}:${admin.tokenKey}:${admin.tokenSecret}`;
    await run(process.execPath, ['-r', './tools/register.js', 'apps/cli/src/main.ts', 'boot-resource-import', imageDir, '--url', `${h.baseUrl}/MAAS`, '--apikey', key], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      timeout: 10 * 60_000,
    });
    timings.importMs = Date.now() - t;

    const r = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: MAC, power_type: 'manual', commission: 'false' });
    systemId = (r.json() as { system_id: string }).system_id;

    await lab.up();
    t = Date.now();
    await lab.startServingRack(rack, h, admin, {
      stateDir: join(lab.dir, 'rack'),
      hostname: `rack-${lab.prefix}`,
    });
    await pollUntil(
      () => rack.lines('boot image file fetched and verified'),
      (l) => l.length === 3,
      { timeoutMs: 5 * 60_000, intervalMs: 500, what: 'the rack to fetch the image from the region' },
    );
    timings.rackSyncMs = Date.now() - t;
    base = 'http://10.77.0.1:5248';
    // Commissioning starts before the machine boots (its power type is manual: the test powers it).
    const c = await h.call(admin, 'POST', `${API}/machines/${systemId}/?op=commission`, { testing_scripts: 'none' });
    expect(c.status).toBe(200);
    vmDir = await lab.startVm('vm0', 0, MAC, 'bios-ipxe', { memoryMb: 1536, cpus: 2, tbMb: 256 });
    timings.vmStartedAt = Date.now();
  }, 40 * 60_000);

  afterAll(async () => {
    process.stderr.write(`ephemeral boot e2e timings: ${JSON.stringify(timings)}\n`);
    await lab.stopAll(rack, h);
  }, 60_000);

  it('boots to multi-user from the rack, and cloud-init asks for its preseed through the rack', async () => {
    const version = manifest.inputsHash.slice(0, 16);
    const image = `debian/bookworm/amd64/generic/${version}`;
    const preseedPath = `/MAAS/metadata/latest/by-id/${systemId}/`;
    const proxied = () => rack.lines('proxied to region').filter((l) => String(l.path).startsWith(preseedPath));
    const serial = await pollUntil(
      () => lab.serial(vmDir),
      (text) => /Reached target .*Multi-User System/.test(text) && proxied().length > 0,
      { timeoutMs: BOOT_TIMEOUT_MS, intervalMs: 2000, what: 'the VM to reach multi-user and ask for its preseed' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- serial.log (end) ---\n${lab.serial(vmDir).slice(-8000)}`);
    });
    timings.bootMs = Date.now() - timings.vmStartedAt;

    // What the rack served the VM, from its cache: the iPXE script, kernel and initrd (iPXE), the
    // squashfs (live-boot's wget), each whole.
    const ip = /^net0: (10\.77\.0\.\d+)\//m.exec(serial)?.[1];
    expect(ip).toBeDefined();
    const served = rack.lines('http file served').filter((l) => String(l.client).startsWith(`${ip}:`));
    const bytesOf = (file: string) => served.filter((l) => String(l.file) === `/images/${image}/${file}`).map((l) => l.bytes);
    expect(bytesOf('boot-kernel')).toContain(manifest.files.vmlinuz.size);
    expect(bytesOf('boot-initrd')).toContain(manifest.files['initrd.img'].size);
    expect(bytesOf('filesystem.squashfs')).toContain(manifest.files['filesystem.squashfs'].size);
    // The kernel command line the region decided (the preseed of this machine, through the rack).
    expect(serial).toContain(`cloud-config-url=${base}${preseedPath}?op=get_preseed`);
    // cloud-init's request went through the rack's proxy and was answered by the region (the
    // rack logs the region's status; 502/504 would be the rack's own answer for an unreachable one).
    const asked = proxied()[0];
    expect(asked.status).toBe(200);
  }, BOOT_TIMEOUT_MS + 60_000);

});
