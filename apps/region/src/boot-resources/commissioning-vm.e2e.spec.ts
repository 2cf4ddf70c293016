import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { RackProcess, VmLab } from '../testing/vm-lab.harness';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');
const API = '/MAAS/api/2.0';
/** One VM boot under TCG on a shared 2-core host: minutes. */
const BOOT_MS = 15 * 60_000;
const MEMORY_MB = 1536;
const DISKS = [2 * 1024 ** 3, 3 * 1024 ** 3];

interface MachineJson {
  system_id: string;
  hostname: string;
  fqdn: string;
  status_name: string;
  status_message: string | null;
  error_description: string;
  cpu_count: number;
  memory: number;
  interface_set: Array<{ mac_address: string }>;
  physicalblockdevice_set: Array<{ name: string; size: number }>;
}

interface ResultJson {
  name: string;
  status_name: string;
  exit_status: number | null;
  output?: string;
  stdout?: string;
  result?: string;
}

const script = (name: string, body: string) => `#!/bin/bash
# --- Start MAAS 1.0 script metadata ---
# name: ${name}
# title: ${name}
# script_type: commissioning
# timeout: 120
# --- End MAAS 1.0 script metadata ---
${body}
`;
const PASSING = '50-kiln-vm-proof';
const FAILING = '51-kiln-vm-broken';

/**
 * Issue 11's proof on a real VM, with one QEMU VM (TCG, 2 vCPUs, 1.5 GiB, two raw disks of 2 and
 * 3 GiB, two NICs) booted four times from a real rack in the lab namespaces:
 *  (a) an unknown VM PXE-boots, enlists itself through Kiln's runner and ends New with both MACs;
 *  (e) in the next boot Debian's cloud-init (the .deb's files, byte for byte) reads instance-id
 *      and local-hostname from Kiln through the rack's metadata proxy and names the machine so;
 *  (b) commissioning with a custom script ends Ready with the VM's CPUs, memory, disks and NICs,
 *      and the script's result and output are read back through the API;
 *  (c) commissioning with a failing custom script ends Failed commissioning naming it;
 *  (d) the VM's power cut while commissioning: the deadline fires and the machine is Failed
 *      commissioning. The deadline is shortened in the database once the plug is pulled (the
 *      region's node timeout is 1 minute at least, which a TCG boot cannot meet).
 * Power is manual (the test starts QEMU for each boot and QEMU exits at the guest's poweroff):
 * an ipmi_sim BMC driving QEMU is what lab.md describes, but it would add a BMC process, its
 * chassis scripts and the power polling to a test whose subject is the boot and the runner.
 *
 * Four VM boots, each from QEMU's start to the machine's end state (printed at the end as
 * "commissioning vm e2e timings"), on the shared 2-core host, in three runs: alone / with other
 * tests beside it / with another helper's VM e2e beside it:
 *   image import 3.0 / 3.7 / 5.2 s, rack sync 5.0 / 5.2 / 7.5 s;
 *   (a) enlistment to New and power-off 139 / 172 / 252 s;
 *   (b) commissioning to Ready 145 / 182 / 218 s;
 *   (c) the failing run to Failed commissioning 133 / 178 / 251 s;
 *   (d) runner at work 167 s after QEMU's start (runs 2 and 3), then the 10 s deadline fired
 *       after 11.3 s (2 s sweep).
 * The whole spec: 7 (alone, without (d)) to 15.7 minutes. It replaces the single-boot
 * ephemeral-boot-vm e2e, whose checks (b) makes: the files the rack served whole, the command line,
 * and the preseed through the rack's proxy naming the rack (X-Forwarded-Host), not the region.
 */
describe('a VM enlists, commissions with custom scripts, fails and times out (e2e)', () => {
  const lab = new VmLab();
  const rack = new RackProcess();
  const MAC = '52:54:00:77:01:01';
  const MAC2 = '52:54:00:77:01:02';
  let h: RegionHarness | undefined;
  let admin: ApiKey;
  let imageDir: string;
  let disks: string[];
  let systemId = '';
  let boots = 0;
  const timings: Record<string, number> = {};

  const machine = async (): Promise<MachineJson> => (await h!.call(admin, 'GET', `${API}/machines/${systemId}/`)).json() as MachineJson;
  const boot = async (): Promise<string> => {
    const idx = boots++;
    return lab.startVm(`vm${idx}`, idx, MAC, 'bios-ipxe', { memoryMb: MEMORY_MB, cpus: 2, tbMb: 256, disks, mac2: MAC2 });
  };
  const withSerial = (vmDir: string) => (e: Error) => {
    throw new Error(`${e.message}\n--- serial.log (end) ---\n${lab.serial(vmDir).slice(-6000)}`);
  };
  const untilStatus = (vmDir: string, want: string, what: string) =>
    pollUntil(machine, (m) => m.status_name === want, { timeoutMs: BOOT_MS, intervalMs: 3000, what }).catch(withSerial(vmDir));
  const commission = async (scripts: string) => {
    const r = await h!.call(admin, 'POST', `${API}/machines/${systemId}/?op=commission`, { commissioning_scripts: scripts, testing_scripts: 'none' });
    expect(r.status).toBe(200);
  };
  const results = async (): Promise<ResultJson[]> => {
    const r = await h!.call(admin, 'GET', `${API}/nodes/${systemId}/results/current-commissioning/?include_output=1`);
    expect(r.status).toBe(200);
    return (r.json() as { results: ResultJson[] }).results;
  };
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

  beforeAll(async () => {
    VmLab.assertRoot();
    imageDir =
      process.env.KILN_EPHEMERAL_IMAGE_DIR ||
      (await run(join(ROOT, 'tools/images/build-ephemeral.sh'), [], { maxBuffer: 16 << 20, timeout: 25 * 60_000 })).stdout.trim().split('\n').pop()!;
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000', KILN_SWEEP_INTERVAL_MS: '2000' });
    admin = await h.createUser('admin', true);
    let t = Date.now();
    const key = `${admin.consumerKey}:${admin.tokenKey}:${admin.tokenSecret}`;
    await run(process.execPath, ['-r', './tools/register.js', 'apps/cli/src/main.ts', 'boot-resource-import', imageDir, '--url', `${h.baseUrl}/MAAS`, '--apikey', key], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      timeout: 10 * 60_000,
    });
    timings.importMs = Date.now() - t;
    for (const [name, body] of [
      [PASSING, 'echo "kiln-vm-proof: $(nproc) cpus"\nprintf "status: passed\\nresults:\\n  cpus: %s\\n" "$(nproc)" > "$RESULT_PATH"'],
      [FAILING, 'echo "kiln-vm-broken: giving up" >&2\nexit 3'],
    ]) {
      const r = await h.call(admin, 'POST', `${API}/scripts/`, { name, script: script(name, body) });
      expect(r.status).toBe(200);
    }
    await lab.up();
    disks = DISKS.map((size, i) => {
      const p = join(lab.dir, `disk${i}.img`);
      writeFileSync(p, '');
      truncateSync(p, size);
      return p;
    });
    t = Date.now();
    await lab.startServingRack(rack, h, admin, { stateDir: join(lab.dir, 'rack'), hostname: `rack-${lab.prefix}`, images: 3 });
    timings.rackSyncMs = Date.now() - t;
  }, 40 * 60_000);

  afterAll(async () => {
    process.stderr.write(`commissioning vm e2e timings: ${JSON.stringify(timings)}\n`);
    await lab.stopAll(rack, h);
  }, 60_000);

  it('(a) an unknown VM PXE-boots, enlists and ends New with both MACs', async () => {
    const t = Date.now();
    const vm = await boot();
    const found = await pollUntil(
      async () => (await h!.call(admin, 'GET', `${API}/machines/?mac_address=${MAC}`)).json() as MachineJson[],
      (l) => l.length === 1 && l[0].status_name === 'New' && !lab.vmRunning(vm),
      { timeoutMs: BOOT_MS, intervalMs: 3000, what: 'the VM to enlist, end New and power off' },
    ).catch(withSerial(vm));
    timings.enlistMs = Date.now() - t;
    systemId = found[0].system_id;
    expect(found[0].interface_set.map((i) => i.mac_address).sort()).toEqual([MAC, MAC2]);
    // Manual power: the test is the hand that powers the VM on.
    const p = await h!.call(admin, 'PUT', `${API}/machines/${systemId}/`, { power_type: 'manual' });
    expect(p.status).toBe(200);
  }, BOOT_MS + 60_000);

  it('(b)+(e) commissioning with a custom script ends Ready with the VM inventory; Debian cloud-init reads its identity from Kiln', async () => {
    expect(systemId).not.toBe('');
    await commission(PASSING);
    const t = Date.now();
    const vm = await boot();
    await untilStatus(vm, 'Ready', 'the machine to commission to Ready');
    timings.commissionMs = Date.now() - t;
    const m = await machine();
    expect(m.cpu_count).toBe(2);
    expect(Math.abs(m.memory - MEMORY_MB) / MEMORY_MB).toBeLessThanOrEqual(0.05);
    expect(m.interface_set.map((i) => i.mac_address).sort()).toEqual([MAC, MAC2]);
    expect(m.physicalblockdevice_set.map((d) => d.size).sort((a, b) => a - b)).toEqual(DISKS);

    const mine = (await results()).find((r) => r.name === PASSING);
    expect(mine).toMatchObject({ status_name: 'Passed', exit_status: 0 });
    expect(b64(mine!.stdout)).toContain('kiln-vm-proof: 2 cpus');
    expect(b64(mine!.result)).toContain('cpus: 2');

    // (e) Debian's cloud-init asked Kiln (through the rack's proxy) who it is, and took the answer.
    const asked = (item: string) =>
      rack.lines('proxied to region').filter((l) => String(l.path).includes(`/meta-data/${item}`) && l.status === 200);
    expect(asked('instance-id').length).toBeGreaterThan(0);
    expect(asked('local-hostname').length).toBeGreaterThan(0);
    const serial = lab.serial(vm);
    // What the rack served this boot from its cache, each file whole: the kernel and initrd (iPXE),
    // the squashfs (live-boot's wget); and the command line the region decided for the machine.
    const manifest = JSON.parse(readFileSync(join(imageDir, 'manifest.json'), 'utf8')) as { inputsHash: string; files: Record<string, { size: number }> };
    const image = `debian/bookworm/amd64/generic/${manifest.inputsHash.slice(0, 16)}`;
    const ip = /^net0: (10\.77\.0\.\d+)\//m.exec(serial)?.[1];
    expect(ip).toBeDefined();
    const served = rack.lines('http file served').filter((l) => String(l.client).startsWith(`${ip}:`));
    const bytesOf = (file: string) => served.filter((l) => String(l.file) === `/images/${image}/${file}`).map((l) => l.bytes);
    expect(bytesOf('boot-kernel')).toContain(manifest.files.vmlinuz.size);
    expect(bytesOf('boot-initrd')).toContain(manifest.files['initrd.img'].size);
    expect(bytesOf('filesystem.squashfs')).toContain(manifest.files['filesystem.squashfs'].size);
    expect(serial).toContain(`cloud-config-url=http://10.77.0.1:5248/MAAS/metadata/latest/by-id/${systemId}/?op=get_preseed`);
    expect(serial).toMatch(/Cloud-init v\. \S+ /);
    expect(serial).toContain(`${m.hostname} login:`);
    await pollUntil(async () => lab.vmRunning(vm), (up) => !up, { timeoutMs: 120_000, intervalMs: 1000, what: 'the VM to power off' });
  }, BOOT_MS + 5 * 60_000);

  it("(e) the image's cloud-init is Debian's package, unmodified", async () => {
    // The Debian packages the build downloaded are kept beside the images (build-ephemeral.sh's
    // cache), every version it ever fetched: one of them is the image's, file for file.
    const debs = join(dirname(imageDir), 'debs');
    const candidates = readdirSync(debs).filter((f) => /^cloud-init_.*_all\.deb$/.test(f));
    expect(candidates.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cloud-init-'));
    try {
      const rel = 'usr/lib/python3/dist-packages/cloudinit';
      await run('unsquashfs', ['-q', '-n', '-d', join(dir, 'image'), join(imageDir, 'filesystem.squashfs'), rel, 'var/lib/dpkg/info/cloud-init.md5sums'], { maxBuffer: 16 << 20 });
      // The package's own list of its files and their md5 sums, as dpkg installed it in the image.
      const sums = readFileSync(join(dir, 'image/var/lib/dpkg/info/cloud-init.md5sums'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(`${rel}/`))
        .map((l) => l.split(/\s+/));
      expect(sums.length).toBeGreaterThan(100);
      expect(sums.some(([, file]) => file.endsWith('sources/DataSourceMAAS.py'))).toBe(true);
      const md5 = (p: string) => createHash('md5').update(readFileSync(p)).digest('hex');
      // Every file of the cloudinit module in the image has the sum dpkg recorded...
      expect(sums.filter(([sum, file]) => md5(join(dir, 'image', file)) !== sum)).toEqual([]);
      // ...and those are the bytes of a cloud-init .deb downloaded from Debian.
      const differingPerDeb: number[] = [];
      for (const [i, deb] of candidates.entries()) {
        await run('dpkg-deb', ['-x', join(debs, deb), join(dir, `deb${i}`)]);
        differingPerDeb.push(sums.filter(([sum, file]) => md5(join(dir, `deb${i}`, file)) !== sum).length);
      }
      expect(differingPerDeb).toContain(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 5 * 60_000);

  it('(c) a failing custom script ends Failed commissioning naming it', async () => {
    expect((await machine()).status_name).toBe('Ready');
    await commission(FAILING);
    const t = Date.now();
    const vm = await boot();
    const m = await untilStatus(vm, 'Failed commissioning', 'the machine to fail commissioning');
    timings.failMs = Date.now() - t;
    expect(m.status_message).toContain(FAILING);
    const mine = (await results()).find((r) => r.name === FAILING);
    expect(mine).toMatchObject({ status_name: 'Failed', exit_status: 3 });
    expect(b64(mine!.output)).toContain('kiln-vm-broken: giving up');
    // The failed run's environment powers the VM off too (cloud-init's power_state).
    await pollUntil(async () => lab.vmRunning(vm), (up) => !up, { timeoutMs: 180_000, intervalMs: 1000, what: 'the VM to power off' });
  }, BOOT_MS + 60_000);

  it("(d) the VM's power cut mid-commissioning: the deadline fires, Failed commissioning", async () => {
    await commission(PASSING);
    const t = Date.now();
    const vm = await boot();
    // The runner is at work once a script result is running or done in this run.
    await pollUntil(results, (l) => l.some((r) => ['Running', 'Passed'].includes(r.status_name)), {
      timeoutMs: BOOT_MS,
      intervalMs: 2000,
      what: 'the runner to start its scripts',
    }).catch(withSerial(vm));
    timings.runnerStartedMs = Date.now() - t;
    lab.killVm(vm);
    expect((await machine()).status_name).toBe('Commissioning');
    // The short timeout of the test: the deadline 10 s from now.
    await h!.ds.query(`UPDATE machines SET status_expires = now() + interval '10 seconds' WHERE system_id = $1`, [systemId]);
    const cut = Date.now();
    const m = await pollUntil(machine, (x) => x.status_name === 'Failed commissioning', { timeoutMs: 120_000, intervalMs: 1000, what: 'the deadline to fail the machine' });
    timings.deadlineMs = Date.now() - cut;
    expect(timings.deadlineMs).toBeGreaterThanOrEqual(8_000);
    // The reason stays in error_description; the status message moves on to the power-off that
    // follows a missed deadline (manual power here: a request to the operator).
    expect(m.error_description).toMatch(/^Commissioning timed out: deadline of \d+ minutes passed/);
    const events = (await h!.call(admin, 'GET', `${API}/events/?op=query&id=${systemId}&limit=50`)).json() as { events: Array<{ type: string; description: string }> };
    expect(events.events.some((e) => /^Commissioning timed out/.test(e.description))).toBe(true);
  }, BOOT_MS + 5 * 60_000);
});
