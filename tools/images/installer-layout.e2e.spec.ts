/**
 * Kiln's installer lays out LVM and bcache in the ephemeral environment: boot the ephemeral image
 * (build-ephemeral.sh, from the cache when built) in QEMU with two blank virtio disks, and give it
 * user-data that runs kiln-install.py --layout-only with the LVM, then the bcache storage
 * configuration the region renders (libs/scripts/installer/testdata, kept equal to the renderer by
 * apps/region/src/machines/installer-layouts.fixture.spec.ts). The guest reports what it built
 * (the installer's output, lsblk, pvs/lvs, bcache's sysfs) to the HTTP fixture, then powers off.
 * The bcache run goes over the disk the LVM run used: the installer must clear the volume group.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ENLIST_PRESEED_PATH, RackHttpFixture, SQUASHFS_PATH } from './rack-http.fixture';

const run = promisify(execFile);
const BUILD_SCRIPT = join(__dirname, 'build-ephemeral.sh');
const INSTALLER_DIR = join(__dirname, '..', '..', 'libs', 'scripts', 'installer');
const REPORT_PATH = '/kiln-layout-report/';
const TIMEOUT_MS = 15 * 60_000;
const MIB = 1024 ** 2;

interface StorageEntry {
  id: string;
  type: string;
  path?: string;
  size?: string;
  name?: string;
  [k: string]: unknown;
}
interface LsblkDev {
  name: string;
  type: string;
  size: number;
  fstype: string | null;
  label: string | null;
  children?: LsblkDev[];
}
interface Report {
  rc: number;
  stdout: string;
  stderr: string;
  lsblk: { blockdevices: LsblkDev[] };
  pvs?: string;
  lvs?: string;
  bcache?: { name: string; cache_mode: string; state: string; backing: string };
}

const fixture = (name: string): { version: 1; config: StorageEntry[] } =>
  JSON.parse(readFileSync(join(INSTALLER_DIR, 'testdata', `${name}.storage.json`), 'utf8')) as { version: 1; config: StorageEntry[] };

/** The fixture's disks as the guest's virtio disks, in order. */
function forGuest(name: string): string {
  const storage = fixture(name);
  const disks = ['/dev/vda', '/dev/vdb'];
  let n = 0;
  for (const e of storage.config) if (e.type === 'disk') e.path = disks[n++];
  return JSON.stringify({ storage });
}

/** Runs in the guest (python3): each layout, then what it built, sent to the fixture. */
const DRIVER = `
import base64, json, os, subprocess, sys, urllib.request
base = sys.argv[1]
def out(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
for name in ("lvm", "bcache"):
    p = subprocess.run(["python3", "/root/kiln/kiln-install.py", "--layout-only", "/root/kiln/%s.json" % name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    subprocess.run(["udevadm", "settle"])
    r = {"rc": p.returncode, "stdout": p.stdout.decode(), "stderr": p.stderr.decode()[-3000:],
         "lsblk": json.loads(out(["lsblk", "-J", "-b", "-o", "NAME,TYPE,SIZE,FSTYPE,LABEL", "/dev/vda", "/dev/vdb"]))}
    if name == "lvm":
        r["pvs"] = out(["pvs", "--noheadings", "--separator", ",", "-o", "pv_name,vg_name"])
        r["lvs"] = out(["lvs", "--noheadings", "--nosuffix", "--units", "b", "--separator", ",", "-o", "lv_name,lv_size,vg_name"])
    else:
        try:
            dev = json.loads(p.stdout.decode())["bcache0"]
            n = os.path.basename(dev)
            r["bcache"] = {"name": n, "cache_mode": open("/sys/block/%s/bcache/cache_mode" % n).read().strip(),
                           "state": open("/sys/block/%s/bcache/state" % n).read().strip(),
                           "backing": os.path.basename(os.path.dirname(os.path.realpath("/sys/block/%s/bcache" % n)))}
        except Exception as e:
            r["bcache_error"] = str(e)
    data = base64.urlsafe_b64encode(json.dumps(r).encode()).decode()
    try:
        urllib.request.urlopen(base + "${REPORT_PATH}" + name + "?" + data, timeout=30)
    except Exception:
        pass
`;

function userData(base: string): string {
  const heredoc = (path: string, text: string, tag: string) => [`cat > ${path} <<'${tag}'`, text.endsWith('\n') ? text.slice(0, -1) : text, tag];
  return [
    '#!/bin/sh',
    'mkdir -p /root/kiln',
    ...heredoc('/root/kiln/kiln-install.py', readFileSync(join(INSTALLER_DIR, 'kiln-install.py'), 'utf8'), 'KILN_INSTALLER_EOF'),
    ...heredoc('/root/kiln/lvm.json', forGuest('lvm'), 'KILN_LVM_EOF'),
    ...heredoc('/root/kiln/bcache.json', forGuest('bcache'), 'KILN_BCACHE_EOF'),
    ...heredoc('/root/kiln/driver.py', DRIVER, 'KILN_DRIVER_EOF'),
    `python3 /root/kiln/driver.py ${base} > /dev/console 2>&1`,
    '',
  ].join('\n');
}

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

describe('kiln-install.py lays out LVM and bcache in the ephemeral environment (QEMU)', () => {
  const work = join(__dirname, '..', '..', 'tmp', 'images', 'installer-layout');
  const consoleLog = join(work, 'console.log');
  let rack: RackHttpFixture;
  let qemu: ChildProcess | undefined;
  const reports: Record<string, Report> = {};

  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const build = await run(BUILD_SCRIPT, [], { maxBuffer: 16 << 20, timeout: 25 * 60_000 });
    const imageDir = build.stdout.trim().split('\n').pop() ?? '';
    const disks = [1024 * MIB, 512 * MIB].map((size, i) => {
      const file = join(work, `disk${i}.img`);
      writeFileSync(file, '');
      truncateSync(file, size);
      return file;
    });
    rack = new RackHttpFixture({ squashfs: join(imageDir, 'filesystem.squashfs'), guestHost: '10.0.2.2', userDataMarker: '', userData });
    await rack.start();

    qemu = spawn(
      'qemu-system-x86_64',
      [
        // TCG, as the boot test: nested KVM is not to be relied on where the tests run.
        '-accel', 'tcg,tb-size=256', '-cpu', 'max',
        '-smp', '2', '-m', '1536', '-nodefaults', '-no-user-config', '-nographic',
        '-serial', `file:${consoleLog}`, '-monitor', 'none', '-no-reboot',
        '-kernel', join(imageDir, 'vmlinuz'),
        '-initrd', join(imageDir, 'initrd.img'),
        '-append', [
          'console=ttyS0,115200', 'boot=live', `fetch=${rack.guestUrl(SQUASHFS_PATH)}`, 'ip=dhcp', 'net.ifnames=0', 'ip6=off',
          "cc:{'datasource_list': ['MAAS']}end_cc", `cloud-config-url=${rack.guestUrl(ENLIST_PRESEED_PATH)}`, 'panic=5',
        ].join(' '),
        '-netdev', 'user,id=n0',
        '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:12:34:57',
        ...disks.flatMap((f) => ['-drive', `file=${f},if=virtio,format=raw,cache=unsafe`]),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const code = await waitForExit(qemu, TIMEOUT_MS);
    for (const r of rack.requests.filter((q) => q.url.startsWith(REPORT_PATH))) {
      const [path, data] = r.url.split('?');
      reports[path!.slice(REPORT_PATH.length)] = JSON.parse(Buffer.from(data!, 'base64url').toString('utf8')) as Report;
    }
    if (code !== 0 || Object.keys(reports).length < 2) {
      const text = existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '';
      process.stderr.write(`qemu exit ${code}; console (all of it in ${consoleLog}):\n${text.slice(-6000)}\n`);
    }
  });

  afterAll(async () => {
    if (qemu && qemu.exitCode === null) {
      qemu.kill('SIGKILL');
      await waitForExit(qemu, 10_000);
    }
    await rack?.stop();
  });

  it('LVM: the PV on the partition, the volume group, the LV of the size asked with ext4 "root" on it', () => {
    const r = reports.lvm!;
    expect(r).toBeDefined();
    if (r.rc !== 0) process.stderr.write(r.stderr);
    expect(r.rc).toBe(0);
    const config = fixture('lvm').config;
    const vg = config.find((e) => e.type === 'lvm_volgroup')!;
    const lv = config.find((e) => e.type === 'lvm_partition')!;
    const pvPart = config.find((e) => e.id === (vg.devices as string[])[0])!;
    const devices = JSON.parse(r.stdout) as Record<string, string>;
    expect(devices[pvPart.id]).toBe(`/dev/vda${pvPart.number as number}`);
    expect(r.pvs!.split('\n').map((l) => l.trim())).toContain(`/dev/vda${pvPart.number as number},${vg.name}`);
    expect(r.lvs!.trim()).toBe(`${lv.name},${parseInt(lv.size!, 10)},${vg.name}`);
    const vda = r.lsblk.blockdevices.find((d) => d.name === 'vda')!;
    const part = vda.children!.find((c) => c.name === `vda${pvPart.number as number}`)!;
    expect(Number(part.size)).toBe(parseInt(pvPart.size!, 10));
    expect(part.fstype).toBe('LVM2_member');
    expect(part.children!.map((c) => [c.type, c.fstype, c.label, Number(c.size)])).toEqual([['lvm', 'ext4', 'root', parseInt(lv.size!, 10)]]);
  });

  it('bcache over the same disk: the old volume group cleared, backing vda2 cached by vdb1 in writeback, ext4 "root" on it', () => {
    const r = reports.bcache!;
    expect(r).toBeDefined();
    if (r.rc !== 0) process.stderr.write(r.stderr);
    expect(r.rc).toBe(0);
    const config = fixture('bcache').config;
    const b = config.find((e) => e.type === 'bcache')!;
    const devices = JSON.parse(r.stdout) as Record<string, string>;
    expect(devices.bcache0).toMatch(/^\/dev\/bcache\d+$/);
    expect(r.bcache).toMatchObject({ backing: `vda${(config.find((e) => e.id === b.backing_device)!.number as number)}` });
    expect(r.bcache!.cache_mode).toContain(`[${b.cache_mode as string}]`);
    expect(r.bcache!.state).not.toBe('no cache');
    const vda = r.lsblk.blockdevices.find((d) => d.name === 'vda')!;
    const vdb = r.lsblk.blockdevices.find((d) => d.name === 'vdb')!;
    const cachePart = config.find((e) => e.id === b.cache_device)!;
    expect(Number(vdb.children!.find((c) => c.name === `vdb${cachePart.number as number}`)!.size)).toBe(parseInt(cachePart.size!, 10));
    const backing = vda.children!.find((c) => c.fstype === 'bcache' && c.children?.length)!;
    expect(backing.children!.map((c) => [c.fstype, c.label])).toEqual([['ext4', 'root']]);
    expect(vda.children!.find((c) => c.label === 'boot')?.fstype).toBe('ext4');
    // No trace of the LVM run's volume group.
    expect(JSON.stringify(r.lsblk)).not.toContain('LVM2_member');
    expect(r.stderr).toContain('vgremove');
  });
});
