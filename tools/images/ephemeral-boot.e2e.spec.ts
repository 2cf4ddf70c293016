/**
 * The ephemeral environment boots as a rack would boot it: build (or take from the cache) the
 * image with build-ephemeral.sh, serve its squashfs over HTTP from the host's loopback, boot the
 * kernel and initramfs in QEMU under TCG (2 vCPUs, 1536 MB) with user-mode networking (the guest
 * reaches the host's 127.0.0.1 at 10.0.2.2), and read the serial console and the server's request
 * log: the initramfs fetched the squashfs over HTTP, systemd reached multi-user, and Debian's
 * cloud-init took its settings from the kernel command line, asked the MAAS datasource's
 * metadata URL, ran the user-data and powered the machine off.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ENLIST_PRESEED_PATH,
  METADATA_PATH,
  RackHttpFixture,
  SQUASHFS_PATH,
} from './rack-http.fixture';

const run = promisify(execFile);
const BUILD_SCRIPT = join(__dirname, 'build-ephemeral.sh');
const BOOT_TIMEOUT_MS = 12 * 60_000;
const MARKER = 'KILN-ENLIST-USER-DATA-RAN';

interface Manifest {
  architecture: string;
  series: string;
  inputsHash: string;
  files: Record<string, { sha256: string; size: number }>;
  packages: { name: string; version: string }[];
}

/** Resolves with QEMU's exit code once it ends, or null when the timeout struck first. */
function waitForExit(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

describe('ephemeral image boots under QEMU (TCG) from HTTP and runs the MAAS datasource', () => {
  // Kept after the run (tmp/ is ignored by git), to read when a boot goes wrong.
  const work = join(__dirname, '..', '..', 'tmp', 'images');
  const consoleLog = join(work, 'ephemeral-boot-console.log');
  let imageDir = '';
  let manifest: Manifest;
  let rack: RackHttpFixture;
  let qemu: ChildProcess | undefined;
  let exitCode: number | null = null;
  let bootMs = 0;
  let consoleText = '';

  beforeAll(async () => {
    mkdirSync(work, { recursive: true });
    rmSync(consoleLog, { force: true });
    const build = await run(BUILD_SCRIPT, [], { maxBuffer: 16 << 20, timeout: 25 * 60_000 });
    imageDir = build.stdout.trim().split('\n').pop() ?? '';
    manifest = JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as Manifest;

    rack = new RackHttpFixture({
      squashfs: join(imageDir, 'filesystem.squashfs'),
      guestHost: '10.0.2.2',
      userDataMarker: MARKER,
    });
    await rack.start();

    const append = [
      'console=ttyS0,115200',
      'boot=live',
      `fetch=${rack.guestUrl(SQUASHFS_PATH)}`,
      'ip=dhcp',
      'net.ifnames=0',
      'ip6=off',
      "cc:{'datasource_list': ['MAAS']}end_cc",
      `cloud-config-url=${rack.guestUrl(ENLIST_PRESEED_PATH)}`,
      'panic=5',
    ].join(' ');
    const started = Date.now();
    qemu = spawn(
      'qemu-system-x86_64',
      [
        '-accel', 'tcg,tb-size=256',
        '-cpu', 'max',
        '-smp', '2',
        '-m', '1536',
        '-nodefaults',
        '-no-user-config',
        '-nographic',
        '-serial', `file:${consoleLog}`,
        '-monitor', 'none',
        '-no-reboot',
        '-kernel', join(imageDir, 'vmlinuz'),
        '-initrd', join(imageDir, 'initrd.img'),
        '-append', append,
        // User-mode networking: the guest's only peer is 10.0.2.2, the host's loopback, where the
        // fixture listens; the image itself contacts nothing else (no apt, no NTP, no DNS names).
        '-netdev', 'user,id=n0',
        '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    qemu.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    // cloud-init's power_state (from the enlistment preseed) powers the guest off at the end, and
    // with -no-reboot QEMU then exits.
    exitCode = await waitForExit(qemu, BOOT_TIMEOUT_MS);
    bootMs = Date.now() - started;
    consoleText = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '';
    if (exitCode === null || exitCode !== 0) {
      process.stderr.write(
        `qemu exit ${exitCode}; stderr:\n${stderr}\nconsole (all of it in ${consoleLog}):\n${consoleText.slice(-6000)}\n`,
      );
    } else {
      process.stderr.write(`ephemeral boot: QEMU start to power-off in ${Math.round(bootMs / 1000)} s\n`);
    }
  });

  afterAll(async () => {
    if (qemu && qemu.exitCode === null) {
      qemu.kill('SIGKILL');
      await waitForExit(qemu, 10_000);
    }
    await rack?.stop();
  });

  it('is a bookworm amd64 image whose manifest matches its files and lists Debian cloud-init', async () => {
    expect(manifest.architecture).toBe('amd64');
    expect(manifest.series).toBe('bookworm');
    expect(manifest.inputsHash).toMatch(/^[0-9a-f]{64}$/);
    for (const name of ['vmlinuz', 'initrd.img', 'filesystem.squashfs']) {
      const { stdout } = await run('sha256sum', [join(imageDir, name)]);
      expect(stdout.split(' ')[0]).toBe(manifest.files[name].sha256);
    }
    const names = manifest.packages.map((p) => p.name);
    for (const pkg of ['cloud-init', 'python3', 'live-boot', 'openssh-server', 'lldpd', 'lshw', 'dmidecode']) {
      expect(names).toContain(pkg);
    }
  });

  it('powered itself off at the end (cloud-init power_state), within the time allowed', () => {
    expect(exitCode).toBe(0);
  });

  it('fetched the squashfs over HTTP from the rack with the initramfs wget', () => {
    const fetches = rack.requested(SQUASHFS_PATH);
    expect(fetches).toHaveLength(1);
    expect(fetches[0].status).toBe(200);
    expect(fetches[0].userAgent).toMatch(/wget/i);
    expect(consoleText).toContain(rack.guestUrl(SQUASHFS_PATH));
  });

  it('reached multi-user', () => {
    // systemd prints no status while cloud-init's units own the console, so the user-data (run by
    // cloud-final, ordered after multi-user.target) reports the target's state.
    expect(consoleText).toMatch(new RegExp(`${MARKER} \\S+ root multi-user=active`));
  });

  it("ran Debian's cloud-init, which read the preseed URL and asked the MAAS metadata URL", () => {
    expect(consoleText).toMatch(/Cloud-init v\. 22\.4[^\n]*running 'init/);
    expect(rack.requested(ENLIST_PRESEED_PATH).length).toBeGreaterThanOrEqual(1);
    const md = `${METADATA_PATH}2012-03-01/`;
    const instanceId = rack.requested(`${md}meta-data/instance-id`);
    expect(instanceId.length).toBeGreaterThanOrEqual(1);
    expect(instanceId[0].userAgent).toMatch(/Cloud-Init/i);
    expect(rack.requested(`${md}meta-data/local-hostname`).length).toBeGreaterThanOrEqual(1);
    expect(rack.requested(`${md}user-data`).length).toBeGreaterThanOrEqual(1);
    // The datasource was read after the squashfs was fetched, i.e. from the booted image.
    expect(instanceId[0].at).toBeGreaterThan(rack.requested(SQUASHFS_PATH)[0].at);
  });

  it('ran the user-data the metadata server gave it, as root, and finished', () => {
    expect(consoleText).toMatch(new RegExp(`${MARKER} \\S+-amd64 root `));
    expect(consoleText).toMatch(/Cloud-init v\. 22\.4[^\n]*finished/);
  });
});
