/**
 * The storage configurations Kiln's installer is tested with on the host
 * (libs/scripts/installer/kiln-install.layout.medium.spec.ts) are the ones this renderer produces
 * for LVM and bcache layouts: this spec renders them and compares them with the fixture files.
 * After a deliberate renderer change, rewrite them with KILN_WRITE_FIXTURES=1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CurtinMachine, renderStorage } from './curtin-config.renderer';

const MIB = 1024 ** 2;
const TESTDATA = join(__dirname, '..', '..', '..', '..', 'libs', 'scripts', 'installer', 'testdata');

/** Two small disks (the host spec backs them with loop devices), booting BIOS. */
const machine: CurtinMachine = {
  hostname: 'layout-test',
  osystem: 'debian',
  distroSeries: 'bookworm',
  architecture: 'amd64/generic',
  hweKernel: null,
  biosBootMethod: 'pxe',
  swapSize: null,
  interfaces: [],
  disks: [
    { id: 1, name: 'vda', type: 'physical', size: 1024 * MIB, model: '', serial: '', idPath: '/dev/disk/by-kiln-test/disk0', isBoot: true },
    { id: 2, name: 'vdb', type: 'physical', size: 512 * MIB, model: '', serial: '', idPath: '/dev/disk/by-kiln-test/disk1', isBoot: false },
  ],
  storageLayout: null,
  specialFilesystems: [],
};

const LAYOUTS: Record<string, CurtinMachine['storageLayout']> = {
  lvm: { layout: 'lvm', boot_size: null, root_device: null, root_size: null, vg_name: 'kilntestvg', lv_name: 'lvroot', lv_size: 600 * MIB },
  bcache: { layout: 'bcache', boot_size: 128 * MIB, root_device: null, root_size: null, cache_device: 2, cache_mode: 'writeback', cache_size: 256 * MIB, cache_no_part: false },
};

describe('the installer layout fixtures', () => {
  it.each(Object.keys(LAYOUTS))('%s: the fixture is what the region renders', (name) => {
    const rendered = JSON.parse(JSON.stringify(renderStorage({ ...machine, storageLayout: LAYOUTS[name]! }))) as unknown;
    const file = join(TESTDATA, `${name}.storage.json`);
    if (process.env.KILN_WRITE_FIXTURES === '1') writeFileSync(file, JSON.stringify(rendered, null, 1) + '\n');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(rendered);
  });
});
