/**
 * The virsh driver against a real libvirtd with the QEMU driver: a private daemon the test
 * starts (tools/lab/libvirtd-up.sh, see libvirtd.harness.ts) and a small QEMU domain (TCG, 64 MB,
 * no disk and no NIC: it runs SeaBIOS and stays there, which is all power control needs; the
 * BIOS prints to a serial file, so a reset shows as a second banner). Kiln drives it only
 * through VirshDriver, over libvirt's remote protocol (qemu+tcp://127.0.0.1:PORT/system), and
 * every state is cross-checked with `virsh domstate` over the daemon's unix socket.
 * Needs root and libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients, qemu-system-x86.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PowerError, tidyOutput } from '../../power.errors';
import { PrivateLibvirtd } from '../../testing/libvirtd.harness';
import { VirshDriver } from './virsh.driver';
import { VirshSettings } from './virsh.settings';

jest.setTimeout(60_000);

const ctx = { timeoutMs: 20_000 };
const BANNER = /SeaBIOS \(version/g;

const domainXml = (name: string, serial: string) =>
  [
    "<domain type='qemu'>",
    `  <name>${name}</name>`,
    "  <memory unit='MiB'>64</memory>",
    '  <vcpu>1</vcpu>',
    "  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/><boot dev='hd'/><bios useserial='yes'/></os>",
    '  <devices>',
    `    <serial type='file'><source path='${serial}' append='on'/></serial>`,
    "    <memballoon model='none'/>",
    '  </devices>',
    '</domain>',
  ].join('\n');

async function failure(p: Promise<unknown>): Promise<PowerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PowerError) return e;
    throw e;
  }
  throw new Error('expected a PowerError');
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('virsh driver against a private libvirtd (QEMU, TCG)', () => {
  const d = new VirshDriver();
  const name = `kiln-vm-${randomBytes(3).toString('hex')}`;
  let lv: PrivateLibvirtd | undefined;
  let s: VirshSettings;
  let serial: string;

  const libvirtd = (): PrivateLibvirtd => {
    if (!lv) throw new Error('libvirtd did not start');
    return lv;
  };
  const banners = () => (existsSync(serial) ? (readFileSync(serial, 'utf8').match(BANNER) ?? []).length : 0);

  beforeAll(async () => {
    lv = await PrivateLibvirtd.start();
    serial = join(lv.dir, `${name}.serial.log`);
    await lv.define(domainXml(name, serial));
    s = d.parseSettings({ power_address: lv.tcpUri, power_id: name });
  });

  afterAll(async () => {
    if (!lv) return;
    try {
      await lv.virsh('destroy', '--', name);
      await lv.virsh('undefine', '--', name);
    } finally {
      await lv.stop();
    }
  });

  it('refuses the unix socket URI, as MAAS refuses any URI parameters (hence qemu+tcp here)', () => {
    const refused = failure(Promise.resolve().then(() => d.parseSettings({ power_address: libvirtd().unixUri, power_id: name })));
    return expect(refused).resolves.toMatchObject({ code: 'BAD_SETTINGS', message: expect.stringMatching(/extra parameters/) });
  });

  it('reads a defined domain that is not running as off', async () => {
    expect(await libvirtd().domstate(name)).toBe('shut off');
    expect(await d.query(s, ctx)).toBe('off');
  });

  it('powers on: the domain runs and its BIOS starts', async () => {
    await expect(d.on(s, ctx)).resolves.toEqual({ kind: 'accepted' });
    expect(await libvirtd().domstate(name)).toBe('running');
    expect(await d.query(s, ctx)).toBe('on');
    await until('the SeaBIOS banner on the serial console', () => banners() >= 1);
    // Already on: virsh's "already active" counts as done.
    await expect(d.on(s, ctx)).resolves.toEqual({ kind: 'accepted' });
    expect(await libvirtd().domstate(name)).toBe('running');
  });

  it('cannot set a boot device (as MAAS) and leaves the domain’s boot order as defined', async () => {
    const before = await libvirtd().virshOk('dumpxml', '--inactive', '--', name);
    expect(before).toMatch(/<boot dev='network'\/>\s*<boot dev='hd'\/>/);
    for (const device of ['pxe', 'disk'] as const) {
      expect(await failure(d.setBootDevice(s, device, ctx))).toMatchObject({ code: 'UNSUPPORTED' });
    }
    expect(d.canQueryBootDevice).toBe(false);
    expect(await libvirtd().virshOk('dumpxml', '--inactive', '--', name)).toBe(before);
    expect(await libvirtd().domstate(name)).toBe('running');
  });

  it('cycles a running domain with a reset: same QEMU, the BIOS starts again', async () => {
    await until('the first boot to settle', () => banners() >= 1);
    const booted = banners();
    const qemu = libvirtd().qemuPid(name);
    expect(qemu).not.toBeNull();
    await expect(d.cycle(s, ctx)).resolves.toEqual({ kind: 'accepted' });
    expect(await libvirtd().domstate(name)).toBe('running');
    expect(await d.query(s, ctx)).toBe('on');
    await until('a second SeaBIOS banner after the reset', () => banners() > booted);
    expect(libvirtd().qemuPid(name)).toBe(qemu);
  });

  it('asks for a soft off, which a guest without an OS ignores (the domain keeps running)', async () => {
    await expect(d.off(s, 'soft', ctx)).resolves.toEqual({ kind: 'accepted' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await libvirtd().domstate(name)).toBe('running');
    expect(await d.query(s, ctx)).toBe('on');
  });

  it('powers off hard: libvirt destroys the domain', async () => {
    const qemu = libvirtd().qemuPid(name);
    expect(qemu).not.toBeNull();
    await expect(d.off(s, 'hard', ctx)).resolves.toEqual({ kind: 'accepted' });
    expect((await libvirtd().virshOk('domstate', '--reason', '--', name)).trim()).toBe('shut off (destroyed)');
    expect(await d.query(s, ctx)).toBe('off');
    expect(libvirtd().qemuPid(name)).toBeNull();
    // Already off: "domain is not running" counts as done.
    await expect(d.off(s, 'hard', ctx)).resolves.toEqual({ kind: 'accepted' });
    expect(await libvirtd().domstate(name)).toBe('shut off');
  });

  it('cycles a domain that is off by starting it: a new QEMU, a new boot', async () => {
    const before = banners();
    expect(libvirtd().qemuPid(name)).toBeNull();
    await expect(d.cycle(s, ctx)).resolves.toEqual({ kind: 'accepted' });
    expect(await libvirtd().domstate(name)).toBe('running');
    expect(await d.query(s, ctx)).toBe('on');
    expect(libvirtd().qemuPid(name)).not.toBeNull();
    await until('the SeaBIOS banner of the new boot', () => banners() > before);
  });

  it('names a missing domain as a fatal settings error, in virsh’s own words', async () => {
    const missing = `${name}-missing`;
    const direct = await libvirtd().virsh('domstate', '--', missing);
    expect(direct.code).not.toBe(0);
    const words = tidyOutput(direct.stderr);
    expect(words).toBe(`error: failed to get domain '${missing}'`);
    const wrong = d.parseSettings({ power_address: libvirtd().tcpUri, power_id: missing });
    for (const call of [() => d.query(wrong, ctx), () => d.on(wrong, ctx), () => d.off(wrong, 'hard', ctx)]) {
      expect(await failure(call())).toMatchObject({ code: 'BAD_SETTINGS', fatal: true, bmcSays: words });
    }
    // The real domain was not touched.
    expect(await libvirtd().domstate(name)).toBe('running');
  });
});
