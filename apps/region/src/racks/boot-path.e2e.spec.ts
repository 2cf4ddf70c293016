import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPort, pollUntil } from '@kiln/testing';
import { registerBootImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { RackEnrollmentService } from './rack-enrollment.service';

const run = promisify(execFile);
const API = '/MAAS/api/2.0';

/**
 * The boot path through a real rack process: the rack asks the region what a MAC boots, renders
 * PXELINUX/iPXE configs for it, serves them with tftp-hpa and curl as clients, streams images with
 * Range, proxies the API for booting machines, and every file served becomes a machine event.
 */
describe('boot files through a rack process', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let rackProc: ChildProcess;
  let dir: string;
  let tftpPort: number;
  let httpPort: number;
  const MAC = '52:54:00:12:34:56';
  let systemId: string;

  beforeAll(async () => {
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000' });
    admin = await h.createUser('admin', true);
    const m = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: MAC, power_type: 'manual', commission: 'false' });
    systemId = (m.json() as { system_id: string }).system_id;
    dir = mkdtempSync(join(tmpdir(), 'kiln-rack-boot-'));
    // The region's image: the rack fetches it into its cache and serves it from there.
    await registerBootImage(h, { version: 'v1', files: { 'boot-kernel': Buffer.alloc(1 << 20, 7), 'boot-initrd': Buffer.alloc(4096, 8), squashfs: Buffer.alloc(8192, 9) } });
    [tftpPort, httpPort] = [await freeTcpPort(), await freeTcpPort()];
    // The rack enrolls on its first start with a one-time token, then connects with its own nkey.
    const { token } = await h.app.get(RackEnrollmentService).createToken();
    rackProc = spawn(process.execPath, ['-r', './tools/register.js', 'apps/rack/src/main.ts'], {
      cwd: resolve(__dirname, '../../../..'),
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        KILN_NATS_URL: h.config.nats.url,
        KILN_NATS_PREFIX: h.config.nats.prefix,
        KILN_RACK_ENROLL_TOKEN: token,
        KILN_RACK_STATE_DIR: dir,
        KILN_RACK_HOSTNAME: 'rack-boot',
        KILN_RACK_SERVICES: 'tftp,http',
        KILN_RACK_TFTP_ADDRESSES: '127.0.0.1',
        KILN_TFTP_PORT: String(tftpPort),
        KILN_RACK_HTTP_PORT: String(httpPort),
        KILN_REGION_URL: h.baseUrl,
        KILN_LOG_LEVEL: 'warn',
      },
    });
    await pollUntil(
      (): Promise<unknown[]> => h.ds.query(`SELECT 1 FROM rack_controllers WHERE hostname = 'rack-boot' AND status = 'running'`),
      (rows) => rows.length === 1,
      { timeoutMs: 30_000, what: 'the rack to register' },
    );
  }, 60_000);

  afterAll(async () => {
    if (rackProc && rackProc.exitCode === null) {
      rackProc.kill('SIGTERM');
      await new Promise((r) => rackProc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
    await h.stop();
  });

  it('renders the PXELINUX config of a New machine over TFTP (tftp-hpa) from the region\'s answer', async () => {
    const out = join(dir, 'pxe.cfg');
    await pollUntil(
      async () => {
        await run('tftp', ['127.0.0.1', String(tftpPort), '-m', 'binary', '-c', 'get', `pxelinux.cfg/01-${MAC.replace(/:/g, '-')}`, out]).catch(() => undefined);
        return (await run('cat', [out]).catch(() => ({ stdout: '' }))).stdout;
      },
      (text) => text.includes('KERNEL'),
      { timeoutMs: 20_000, what: 'tftp to serve the rendered config' },
    );
    const { stdout } = await run('cat', [out]);
    expect(stdout).toMatch(/^DEFAULT execute/);
    expect(stdout).toMatch(new RegExp(`KERNEL http://[\\d.]+:${httpPort}/images/debian/bookworm/amd64/generic/v1/boot-kernel`));
    expect(stdout).toContain('APPEND ');
  });

  it('serves the iPXE script and the kernel with Range over HTTP (curl), and proxies the region API', async () => {
    const script = await run('curl', ['-sS', `http://127.0.0.1:${httpPort}/ipxe.cfg?mac=${MAC}`]);
    expect(script.stdout).toMatch(/^#!ipxe/);
    expect(script.stdout).toContain('boot-kernel');
    // The rack fetches the image from the region when it connects.
    await pollUntil(
      () => run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${httpPort}/images/debian/bookworm/amd64/generic/v1/boot-kernel`]).then((r) => r.stdout),
      (code) => code === '200',
      { timeoutMs: 30_000, what: 'the rack to serve the image it fetched from the region' },
    );
    const range = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '-r', '100-199',
      `http://127.0.0.1:${httpPort}/images/debian/bookworm/amd64/generic/v1/boot-kernel`]);
    expect(range.stdout).toBe('206 100');
    const version = await run('curl', ['-sS', `http://127.0.0.1:${httpPort}/MAAS/api/2.0/version/`]);
    expect(JSON.parse(version.stdout).capabilities).toContain('authenticate-api');
  });

  it('records each served boot file as an event on the machine', async () => {
    const ev = await pollUntil(
      async () =>
        ((await h.call(admin, 'GET', `${API}/events/?op=query&id=${systemId}&level=DEBUG`)).json() as { events: { type: string; description: string }[] }).events,
      (e) => e.some((x) => x.type === 'TFTP Request') && e.some((x) => x.type === 'HTTP Request'),
      { timeoutMs: 20_000, what: 'boot events from the rack' },
    );
    expect(ev.find((x) => x.type === 'TFTP Request')!.description).toContain('pxelinux.cfg');
  });
});
