// The PXE lab from a test's side: tools/lab scripts make two network namespaces with a unique
// prefix per run (the rack's, and a switch with QEMU VMs on taps), radvd as a fixture, and a way
// for the rack in its namespace to reach the NATS server of the root namespace (a Unix socket
// relay, so no namespace gets a link to the root one). A real rack process runs inside the rack
// namespace with the rack's production ports. Everything is torn down by prefix, also after a
// failure.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from './region.harness';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..', '..', '..');
const LAB = join(ROOT, 'tools', 'lab');

/** One line of the rack's JSON log (pino). */
export type RackLogLine = Record<string, unknown> & { msg?: string };

/**
 * What network-boots a lab VM (tools/lab/vm-start.sh): a BIOS with iPXE, or UEFI's own PXE, with
 * Secure Boot off or enforced (Microsoft's keys enrolled).
 */
export type VmFirmware = 'bios-ipxe' | 'uefi-pxe' | 'uefi-pxe-secure-boot';

/** The parts of a rackcontrollers/ interface the lab reads. */
interface RackInterfaceJson {
  name: string;
  vlan: { id: number } | null;
  links: { subnet?: { id: number; cidr: string } }[];
}

export class VmLab {
  readonly prefix = `kv${randomBytes(3).toString('hex')}`;
  readonly dir = mkdtempSync(join(tmpdir(), `kiln-vm-lab-${this.prefix}-`));
  private readonly relays: Server[] = [];
  private readonly relayed = new Set<Socket>();

  static assertRoot(): void {
    if (process.getuid?.() !== 0) throw new Error('the PXE VM e2e test needs root (network namespaces, taps); CI runs as root');
  }

  ns(name: 'rack' | 'machines'): string {
    return `${this.prefix}-${name}`;
  }

  /** The namespaces, bridge and rack0 (vm-lab-up.sh), and radvd on rack0 (ra-up.sh). */
  async up(): Promise<void> {
    await run(join(LAB, 'vm-lab-up.sh'), [this.prefix], { timeout: 30_000 });
    await run(join(LAB, 'ra-up.sh'), [this.prefix, join(this.dir, 'radvd')], { timeout: 30_000 });
  }

  /**
   * Makes `target` (host:port in the root namespace) reachable at 127.0.0.1:`port` inside the rack
   * namespace: this process relays a Unix socket to the target, socat in the namespace relays the
   * port to that Unix socket (ns-forward.sh).
   */
  async forwardIntoRack(port: number, target: { host: string; port: number }): Promise<void> {
    const path = join(this.dir, `relay-${port}.sock`);
    const relay = createServer((inner) => {
      const outer = connect(target.port, target.host);
      for (const s of [inner, outer]) {
        this.relayed.add(s);
        s.on('close', () => this.relayed.delete(s));
        s.on('error', () => {
          inner.destroy();
          outer.destroy();
        });
      }
      inner.pipe(outer).pipe(inner);
    });
    this.relays.push(relay);
    await new Promise<void>((ok, ko) => {
      relay.once('error', ko);
      relay.listen(path, () => ok());
    });
    await run(join(LAB, 'ns-forward.sh'), [this.ns('rack'), String(port), path], { timeout: 30_000 });
  }

  /**
   * Puts the boot loaders a rack hands out (lpxelinux.0, bootx64.efi, grubx64.efi, ...) into
   * `bootRoot` with the production step, tools/rack/install-boot-loaders.sh (Debian's packages,
   * which tools/test.sh installs beforehand).
   */
  /**
   * Starts `rack` in the rack namespace as a rack of `region` (NATS and the region's HTTP port
   * through relays) and waits until it has registered (and, with `images`, fetched that many
   * image files from the region); then, through the REST API as `admin`, puts the lab subnet the
   * rack found on rack0 (10.77.0.0/24 on the untagged VLAN of a new fabric, dynamic range .100-.199) under DHCP with
   * this rack as primary, and waits until the rack serves DHCP on rack0.
   */
  async startServingRack(
    rack: RackProcess,
    region: RegionHarness,
    admin: ApiKey,
    opts: { stateDir: string; hostname: string; env?: Record<string, string>; images?: number },
  ): Promise<void> {
    // The region's own auth-on NATS server, reached through the relay; the rack is provisioned
    // as enrollment leaves it (its id, nkey, box key and the pinned region key in its state dir).
    const nats = new URL(region.config.nats.url);
    await this.forwardIntoRack(4222, { host: nats.hostname, port: Number(nats.port || 4222) });
    // The region's HTTP port too: the rack fetches boot images from it and relays the metadata API to it.
    await this.forwardIntoRack(5240, { host: '127.0.0.1', port: Number(new URL(region.baseUrl).port) });
    const enrolled = await region.provisionRack({ hostname: opts.hostname, stateDir: opts.stateDir });
    rack.start(this.ns('rack'), {
      ...enrolled.env,
      KILN_NATS_URL: 'nats://127.0.0.1:4222',
      KILN_RACK_HOSTNAME: opts.hostname,
      KILN_RACK_INTERFACES: 'rack0',
      KILN_RACK_SERVICES: 'dhcp,tftp,http',
      KILN_LOG_LEVEL: 'info',
      KILN_REGION_URL: 'http://127.0.0.1:5240',
      ...opts.env,
    });
    await pollUntil(
      (): Promise<unknown[]> => region.ds.query(`SELECT 1 FROM rack_controllers WHERE hostname = $1 AND status = 'running'`, [opts.hostname]),
      (rows) => rows.length === 1,
      { timeoutMs: 30_000, what: 'the rack to register' },
    );
    if (opts.images) {
      // The files of the images the region holds, fetched into the rack's cache.
      await pollUntil(() => this.rackFetched(rack), (n) => n >= opts.images!, { timeoutMs: 120_000, intervalMs: 250, what: 'the rack to fetch the boot images' });
    }
    const ok = async (method: string, path: string, body: Record<string, string>): Promise<Record<string, unknown>> => {
      const r = await region.call(admin, method, `/MAAS/api/2.0/${path}`, body);
      if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
      return r.json() as Record<string, unknown>;
    };
    // The network the rack found on rack0 (registration made 10.77.0.0/24 on a new fabric's untagged VLAN), as README's quick start uses it.
    const found = await pollUntil(
      async () => {
        const r = await region.call(admin, 'GET', `/MAAS/api/2.0/rackcontrollers/${enrolled.rackId}/`);
        const ifaces = r.status === 200 ? (r.json() as { interface_set: RackInterfaceJson[] }).interface_set : [];
        return ifaces.find((i) => i.name === 'rack0' && i.vlan && i.links.some((l) => l.subnet?.cidr === '10.77.0.0/24'));
      },
      (i) => i !== undefined,
      { timeoutMs: 15_000, what: 'the region to link rack0 to 10.77.0.0/24' },
    );
    const vlan = found!.vlan!;
    const subnet = found!.links.find((l) => l.subnet?.cidr === '10.77.0.0/24')!.subnet!;
    await ok('PUT', `subnets/${subnet.id}/`, { gateway_ip: '10.77.0.1', dns_servers: '10.77.0.1' });
    await ok('POST', 'ipranges/', { type: 'dynamic', start_ip: '10.77.0.100', end_ip: '10.77.0.199' });
    await ok('PUT', `vlans/${vlan.id}/`, { dhcp_on: 'true', primary_rack: opts.hostname });
    await pollUntil(
      () => [...rack.lines('dhcp server listening'), ...rack.lines('dhcp interfaces changed')],
      (l) => l.some((x) => (x.interfaces as string[] | undefined)?.includes('rack0')),
      { timeoutMs: 15_000, what: 'the rack to serve DHCP on rack0' },
    );
  }

  private rackFetched(rack: RackProcess): number {
    return rack.lines('boot image file fetched and verified').length;
  }

  /** Stops the rack, then the lab (VMs, fixtures, namespaces), then the region, each even if one before failed. */
  async stopAll(rack: RackProcess, region: RegionHarness | undefined): Promise<void> {
    try {
      await rack.stop();
    } finally {
      try {
        await this.down();
      } finally {
        await region?.stop();
      }
    }
  }

  async installBootLoaders(bootRoot: string): Promise<void> {
    await run(join(ROOT, 'tools', 'rack', 'install-boot-loaders.sh'), [bootRoot], { timeout: 120_000 });
  }

  /**
   * Starts a PXE-booting QEMU VM on tap`idx` (vm-start.sh): SeaBIOS with QEMU's iPXE ROM, or OVMF
   * with its own UEFI PXE and the NIC's ROM disabled (with Secure Boot off or enforced). Returns
   * its directory (serial.log, qemu.pid). `size.disks` are raw disk images (paths) the VM gets as
   * virtio disks, `size.mac2` the MAC of a second NIC on the same bridge.
   */
  async startVm(
    name: string,
    idx: number,
    mac: string,
    firmware: VmFirmware = 'bios-ipxe',
    size: { memoryMb?: number; cpus?: number; tbMb?: number; disks?: string[]; mac2?: string; disk?: string; diskSerial?: string } = {},
  ): Promise<string> {
    const dir = join(this.dir, 'vms', name);
    const env = {
      ...process.env,
      ...(size.memoryMb ? { KILN_VM_MEMORY_MB: String(size.memoryMb) } : {}),
      ...(size.cpus ? { KILN_VM_CPUS: String(size.cpus) } : {}),
      ...(size.tbMb ? { KILN_VM_TB_MB: String(size.tbMb) } : {}),
      ...(size.disks?.length ? { KILN_VM_DISKS: size.disks.join(',') } : {}),
      ...(size.mac2 ? { KILN_VM_MAC2: size.mac2 } : {}),
      ...(size.disk ? { KILN_VM_DISK: size.disk, KILN_VM_DISK_SERIAL: size.diskSerial ?? 'KILNDISK' } : {}),
    };
    await run(join(LAB, 'vm-start.sh'), [this.prefix, name, String(idx), mac, dir, firmware], { timeout: 30_000, env });
    return dir;
  }

  /**
   * The VM's serial console so far as plain lines: without terminal control sequences (SeaBIOS's,
   * and OVMF's such as ESC [=3h), and with the lines SeaBIOS's 80-column console cut in two joined
   * again.
   */
  serial(vmDir: string): string {
    let text: string;
    try {
      text = readFileSync(join(vmDir, 'serial.log'), 'latin1');
    } catch {
      return '';
    }
    const rows = text.replace(/\x1b(\[[0-9;?=]*[A-Za-z]|c)/g, '').replace(/[\x08\r]/g, '').split('\n');
    const lines: string[] = [];
    let cut = false;
    for (const row of rows) {
      if (cut) lines[lines.length - 1] += row;
      else lines.push(row);
      cut = row.length === 80;
    }
    return lines.join('\n');
  }

  /** Whether the VM's QEMU still runs (it exits when the guest powers off). */
  vmRunning(vmDir: string): boolean {
    try {
      process.kill(Number(readFileSync(join(vmDir, 'qemu.pid'), 'utf8').trim()), 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Cuts the VM's power: QEMU is killed, as a pulled plug. */
  killVm(vmDir: string): void {
    try {
      process.kill(Number(readFileSync(join(vmDir, 'qemu.pid'), 'utf8').trim()), 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Kills every process of the lab (QEMU, radvd, socat, the rack), deletes its namespaces and files. */
  async down(): Promise<void> {
    for (const s of this.relayed) s.destroy();
    await Promise.all(this.relays.map((relay) => new Promise<void>((r) => relay.close(() => r()))));
    await run(join(LAB, 'lab-down.sh'), [this.prefix], { timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A real rack process (apps/rack/src/main.ts, as boot-path.e2e.spec.ts starts it) inside a lab
 * namespace, with its JSON log collected from stdout.
 */
export class RackProcess {
  readonly log: RackLogLine[] = [];
  private proc: ChildProcess | undefined;
  private partial = '';

  start(netns: string, env: Record<string, string>): void {
    this.proc = spawn('ip', ['netns', 'exec', netns, process.execPath, '-r', './tools/register.js', 'apps/rack/src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: process.env.PATH, ...env },
    });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.log.push(JSON.parse(line) as RackLogLine);
        } catch {
          this.log.push({ msg: line });
        }
      }
    });
  }

  /** Log lines with this message. */
  lines(msg: string): RackLogLine[] {
    return this.log.filter((l) => l.msg === msg);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
