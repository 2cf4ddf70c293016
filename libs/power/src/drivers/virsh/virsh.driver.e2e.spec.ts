/**
 * The virsh driver against the real virsh (package libvirt-clients) and libvirt's built-in test
 * driver (`test:///...` URIs), which needs no daemon. Each virsh run opens a fresh test
 * connection, so state does not carry from one command to the next: this checks our commands,
 * their parsing and error handling against the real tool, not a power change across calls
 * (virsh.libvirtd.e2e.spec.ts does that against a real libvirtd). Needs libvirt-clients
 * (tools/test.sh installs it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PowerError } from '../../power.errors';
import { VirshDriver } from './virsh.driver';

const ctx = { timeoutMs: 10_000 };

describe('virsh driver against virsh with libvirt’s test driver', () => {
  // Kiln's own tests may name a test-driver node file; a rack's driver never accepts one.
  const d = new VirshDriver({ testDriverFiles: true });
  let dir: string;
  let uri: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-virsh-'));
    // A test-driver node with two domains (the test driver starts defined domains running).
    const domain = (name: string, uuid: string) => `<domain type='test'><name>${name}</name><uuid>${uuid}</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`;
    writeFileSync(
      join(dir, 'node.xml'),
      `<node>${domain('up', '11111111-1111-1111-1111-111111111111')}${domain('down', '22222222-2222-2222-2222-222222222222')}</node>`,
    );
    uri = `test://${join(dir, 'node.xml')}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const s = (domain: string, address = 'test:///default') => d.parseSettings({ power_address: address, power_id: domain });

  it('reads a running domain as on', async () => {
    expect(await d.query(s('test'), ctx)).toBe('on');
  });

  it('reads domains of a test node (defined domains start running in the test driver)', async () => {
    expect(await d.query(s('up', uri), ctx)).toBe('on');
  });

  it('starts, destroys, shuts down and resets through the real tool', async () => {
    await expect(d.on(s('test'), ctx)).resolves.toEqual({ kind: 'accepted' }); // "already active" counts as done
    await expect(d.off(s('test'), 'hard', ctx)).resolves.toEqual({ kind: 'accepted' });
    await expect(d.off(s('test'), 'soft', ctx)).resolves.toEqual({ kind: 'accepted' });
    await expect(d.cycle(s('test'), ctx)).resolves.toEqual({ kind: 'accepted' });
  });

  it('never lets a power address make virsh read a file of the rack (its error would quote a line of it)', async () => {
    const secret = join(dir, 'rack.secret');
    writeFileSync(secret, 'kiln-marker-secret-line\n');
    const rack = new VirshDriver();
    const e = await Promise.resolve()
      .then(async () => rack.query(rack.parseSettings({ power_address: `test://${secret}`, power_id: 'x' }), ctx))
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PowerError);
    expect((e as PowerError).describe()).not.toContain('kiln-marker');
    expect(e).toMatchObject({ code: 'BAD_SETTINGS', fatal: true });
    expect(await rack.query(rack.parseSettings({ power_address: 'test:///default', power_id: 'test' }), ctx)).toBe('on');
  });

  it('names a missing domain as a settings error, in virsh’s words', async () => {
    const e = await d.query(s('nope'), ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PowerError);
    expect(e).toMatchObject({ code: 'BAD_SETTINGS', fatal: true, bmcSays: "error: failed to get domain 'nope'" });
  });

  it('reports an unreachable hypervisor as retryable', async () => {
    const e = await d.query(s('vm', 'qemu+tcp://127.0.0.1:1/system'), ctx).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'BMC_UNREACHABLE', fatal: false, bmcSays: expect.stringMatching(/failed to connect to the hypervisor/) });
  });
});
