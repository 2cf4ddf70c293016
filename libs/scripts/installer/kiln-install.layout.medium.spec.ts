/**
 * Kiln's installer's partitioning stage (kiln-install.py --layout-only) on this host, against
 * loop devices over sparse files, with the LVM and bcache storage configurations the region
 * renders (testdata/*.storage.json; apps/region/src/machines/installer-layouts.fixture.spec.ts
 * keeps them equal to the renderer's output). What was built is read back with lsblk, pvs, lvs,
 * blkid and sysfs. Needs root, losetup, lvm2 and bcache-tools (tools/test.sh installs them).
 *
 * A kernel without device-mapper (or bcache) cannot build the stack: there the layout test is
 * skipped and the refusal is checked instead (the installer names what the kernel lacks and
 * touches no disk). The layout tests need a kernel with dm_mod and bcache (Debian's has both).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const INSTALLER = join(__dirname, 'kiln-install.py');
const TESTDATA = join(__dirname, 'testdata');
const MIB = 1024 ** 2;

interface Entry {
  id: string;
  type: string;
  path?: string;
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

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const quiet = (cmd: string, args: string[]): void => void spawnSync(cmd, args, { stdio: 'ignore' });
const readOr = (path: string, fallback = ''): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
};

// The kernel features the stacks need (loaded first where the kernel has modules).
quiet('modprobe', ['dm_mod']);
quiet('modprobe', ['bcache']);
const HAS_DM = readOr('/proc/misc').includes('device-mapper');
const HAS_BCACHE = existsSync('/sys/fs/bcache');

describe('kiln-install.py --layout-only on loop devices', () => {
  let dir: string;
  let loops: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-layout-'));
    loops = [];
    for (const [i, size] of [1024 * MIB, 512 * MIB].entries()) {
      const file = join(dir, `disk${i}.img`);
      writeFileSync(file, '');
      sh('truncate', ['-s', String(size), file]);
      loops.push(sh('losetup', ['-f', '--show', '-P', file]).trim());
    }
  });

  afterEach(() => {
    // Always: the volume group off, bcache stopped and its cache set unregistered, loops detached.
    quiet('vgchange', ['-an', 'kilntestvg']);
    for (const loop of loops) {
      const name = basename(loop);
      for (const part of readdirSync(`/sys/class/block/${name}`).filter((p) => p.startsWith(name))) {
        const bdir = `/sys/class/block/${part}/bcache`;
        if (existsSync(`${bdir}/stop`)) writeFileSync(`${bdir}/stop`, '1');
      }
    }
    for (const loop of loops) {
      const name = basename(loop);
      for (const part of readdirSync(`/sys/class/block/${name}`).filter((p) => p.startsWith(name))) {
        const unregister = `/sys/class/block/${part}/bcache/set/unregister`;
        if (existsSync(unregister)) writeFileSync(unregister, '1');
      }
    }
    for (const loop of loops) quiet('losetup', ['-d', loop]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The fixture with its disks pointed at this test's loop devices, plus `extra` entries. */
  const config = (name: string, extra: Entry[] = []): string => {
    const storage = JSON.parse(readFileSync(join(TESTDATA, `${name}.storage.json`), 'utf8')) as { version: 1; config: Entry[] };
    let n = 0;
    for (const e of storage.config) if (e.type === 'disk') e.path = loops[n++];
    storage.config.push(...extra);
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ storage }));
    return file;
  };
  const install = (file: string) => spawnSync('python3', [INSTALLER, '--layout-only', file], { encoding: 'utf8', timeout: 180_000 });
  const lsblk = (dev: string): LsblkDev =>
    (JSON.parse(sh('lsblk', ['-J', '-b', '-o', 'NAME,TYPE,SIZE,FSTYPE,LABEL', dev])) as { blockdevices: LsblkDev[] }).blockdevices[0]!;
  const blkid = (dev: string, tag: string): string => spawnSync('blkid', ['-p', '-s', tag, '-o', 'value', dev], { encoding: 'utf8' }).stdout.trim();
  /** A mark on each disk the refusal must leave in place. */
  const markDisks = (): void => {
    for (const loop of loops) sh('mkfs.ext4', ['-q', '-F', '-L', 'untouched', loop]);
  };
  const expectUntouched = (): void => {
    for (const loop of loops) expect(blkid(loop, 'LABEL')).toBe('untouched');
  };

  it('refuses a layout type it cannot build, naming it, before touching a disk', () => {
    markDisks();
    const r = install(config('lvm', [{ id: 'datastore1', name: 'datastore1', type: 'vmfs6', devices: ['vda-part2'] }]));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot lay out vmfs6');
    expectUntouched();
  });

  (HAS_DM ? it.skip : it)('on a kernel without device-mapper: refuses the LVM layout, naming it, before touching a disk', () => {
    markDisks();
    const r = install(config('lvm'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the running kernel has no device-mapper');
    expectUntouched();
  });

  (HAS_DM ? it : it.skip)('lays out the region-rendered LVM layout: PV on the partition, the VG, the LV of the size asked, ext4 on it', () => {
    const r = install(config('lvm'));
    expect(r.stderr).not.toContain('FAILED');
    expect(r.status).toBe(0);
    const devices = JSON.parse(r.stdout) as Record<string, string>;
    const fixture = (JSON.parse(readFileSync(join(TESTDATA, 'lvm.storage.json'), 'utf8')) as { config: Entry[] }).config;
    const vg = fixture.find((e) => e.type === 'lvm_volgroup')!;
    const lvEntry = fixture.find((e) => e.type === 'lvm_partition')!;
    const pvEntry = fixture.find((e) => e.id === (vg.devices as string[])[0])!;
    const pv = `${loops[0]}p${pvEntry.number as number}`;
    expect(devices[pvEntry.id]).toBe(pv);

    const pvs = sh('pvs', ['--noheadings', '--separator', ',', '-o', 'pv_name,vg_name']).split('\n').map((l) => l.trim().split(','));
    expect(pvs).toContainEqual([pv, vg.name]);
    const lvs = sh('lvs', ['--noheadings', '--nosuffix', '--units', 'b', '--separator', ',', '-o', 'lv_name,lv_size', vg.name as string]).trim().split(',');
    expect(lvs).toEqual([lvEntry.name, String(parseInt(lvEntry.size as string, 10))]);

    const lv = realpathSync(devices[lvEntry.id]!);
    expect(blkid(lv, 'TYPE')).toBe('ext4');
    expect(blkid(lv, 'LABEL')).toBe('root');
    // The disk: the PV partition of the fixture's size, the LV on it with its filesystem.
    const part = (lsblk(loops[0]!).children ?? []).find((c) => c.name === basename(pv))!;
    expect(Number(part.size)).toBe(parseInt(pvEntry.size as string, 10));
    expect(part.fstype).toBe('LVM2_member');
    expect(part.children?.map((c) => [c.type, c.fstype, c.label])).toEqual([['lvm', 'ext4', 'root']]);
  });

  (HAS_BCACHE ? it.skip : it)('on a kernel without bcache: refuses the bcache layout, naming it, before touching a disk', () => {
    markDisks();
    const r = install(config('bcache'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the running kernel has no bcache');
    expectUntouched();
  });

  (HAS_BCACHE ? it : it.skip)('lays out the region-rendered bcache layout: backing partition cached by the other disk, writeback, ext4 on /dev/bcacheN', () => {
    const r = install(config('bcache'));
    expect(r.stderr).not.toContain('FAILED');
    expect(r.status).toBe(0);
    const devices = JSON.parse(r.stdout) as Record<string, string>;
    const bcache = devices.bcache0!;
    expect(bcache).toMatch(/^\/dev\/bcache\d+$/);
    const name = basename(bcache);
    // The backing device is the fixture's vda-part2, the cache vdb-part1.
    expect(basename(realpathSync(`/sys/block/${name}/bcache`).replace(/\/bcache$/, ''))).toBe(basename(`${loops[0]}p2`));
    expect(blkid(`${loops[0]}p2`, 'TYPE')).toBe('bcache');
    expect(blkid(`${loops[1]}p1`, 'TYPE')).toBe('bcache');
    expect(readFileSync(`/sys/block/${name}/bcache/cache_mode`, 'utf8')).toContain('[writeback]');
    expect(readFileSync(`/sys/block/${name}/bcache/state`, 'utf8').trim()).not.toBe('no cache');
    expect(blkid(bcache, 'TYPE')).toBe('ext4');
    expect(blkid(bcache, 'LABEL')).toBe('root');
    expect(blkid(`${loops[0]}p1`, 'LABEL')).toBe('boot');
    expect(Number(lsblk(`${loops[1]}p1`).size)).toBe(256 * MIB);
  });
});
