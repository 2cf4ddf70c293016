import { parse } from 'yaml';
import { decideBootConfig } from '../racks/boot-config.decider';
import { nodeKey } from '../testing/metadata.testing';
import { BootConfigHandler } from '../racks/boot-config.handler';
import { registerBootImage, registerDeployableImage } from '../testing/boot-images.fixture';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MD = '/MAAS/metadata';
let macCounter = 0;
const nextMac = () => `52:54:00:de:${(++macCounter >> 8).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;

type Machine = { system_id: string; hostname: string; status: number; status_name: string; osystem: string; distro_series: string; error_description: string };

/**
 * Deployment through the region, the metadata API and the boot config, as the installer and the
 * installed system's cloud-init drive it (reference maas-api.md 4.3, 4.4, 4.13), against the real
 * Postgres/Redis/NATS. The installer itself runs in the VM test (deploy-vm.e2e.spec.ts).
 */
describe('deployment against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;
  let image: { sha256: string; size: number };

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
    await h.ds.query(`INSERT INTO ssh_keys (user_id, key) SELECT id, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnTestKeyOfAlice alice@kiln' FROM users WHERE username = 'alice'`);
  });
  afterAll(() => h.stop());

  async function allocated(opts: { diskSize?: number; beforeAllocate?: (sid: string) => Promise<void> } = {}): Promise<Machine> {
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: nextMac(), power_type: 'manual', deployed: 'true' });
    expect(created.status).toBe(200);
    const m = created.json() as Machine;
    await h.ds.query(
      `INSERT INTO block_devices (machine_id, name, size, model, serial, is_boot, tags)
       SELECT id, 'sda', $2::bigint, 'QEMU HARDDISK', 'KILN0001', true, '{}'::text[] FROM machines WHERE system_id = $1`,
      [m.system_id, opts.diskSize ?? 10_000_000_000],
    );
    expect((await h.call(admin, 'POST', `${API}/machines/${m.system_id}/?op=release`)).json()).toMatchObject({ status_name: 'Ready' });
    await opts.beforeAllocate?.(m.system_id);
    const a = await h.call(alice, 'POST', `${API}/machines/?op=allocate`, { system_id: m.system_id });
    expect(a.status).toBe(200);
    return a.json() as Machine;
  }

  const get = async (sid: string) => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as Machine;
  const deploy = (sid: string, params: Record<string, string>) => h.call(alice, 'POST', `${API}/machines/${sid}/?op=deploy`, params);

  it('refuses a release the region has no image of, an unknown series and oversized user data, changing nothing', async () => {
    const m = await allocated();
    const before = await get(m.system_id);

    const missing = await deploy(m.system_id, { distro_series: 'bookworm' });
    expect(missing.status).toBe(400);
    expect(missing.json()).toEqual({
      distro_series: ["'bookworm' is not available: the region has no debian/bookworm image for amd64/generic (import one with kiln boot-resource-import)."],
    });
    const unknown = await deploy(m.system_id, { distro_series: 'ubuntu/warty' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json())).toContain("'ubuntu/warty' is not available");
    const malformed = await deploy(m.system_id, { distro_series: 'x/y/z!' });
    expect(malformed.status).toBe(400);
    expect(malformed.json()).toHaveProperty('distro_series');

    image = await registerDeployableImage(h, { version: '20261204' });
    const kernel = await deploy(m.system_id, { distro_series: 'debian/12', hwe_kernel: 'hwe-22.04' });
    expect(kernel.status).toBe(400);
    expect(kernel.json()).toEqual({ hwe_kernel: ['hwe_kernel applies to Ubuntu releases; debian/bookworm installs the kernel its image carries.'] });
    const big = await deploy(m.system_id, { distro_series: 'debian/12', user_data: Buffer.alloc(16 * 1024 + 1, 'a').toString('base64') });
    expect(big.status).toBe(400);
    expect(big.json()).toEqual({ user_data: ['User data is 16385 bytes; the limit is 16384 bytes.'] });

    expect(await get(m.system_id)).toEqual(before);
    const [row] = await h.ds.query('SELECT status, user_data FROM machines WHERE system_id = $1', [m.system_id]);
    expect(row).toEqual({ status: 10, user_data: null });
  });

  /** What a refused deploy must leave as it was: the machine as the API shows it and its row. */
  const snapshot = async (sid: string) => ({
    api: await get(sid),
    row: (await h.ds.query('SELECT status, owner_id, user_data, osystem, distro_series, status_expires, netboot FROM machines WHERE system_id = $1', [sid]))[0],
  });
  const contentOf = async (sha256: string) => Number((await h.ds.query('SELECT id FROM boot_resource_contents WHERE sha256 = $1', [sha256]))[0].id);
  const userData = { user_data: Buffer.from('#!/bin/sh\necho hi\n').toString('base64') };

  it('refuses an image whose stored file is corrupt, cut short or missing, naming the image, changing nothing', async () => {
    const m = await allocated();
    const before = await snapshot(m.system_id);
    const cases: Array<{ release: string; version: string; spoil: (contentId: number) => Promise<unknown>; problem: (sha: string, size: number) => RegExp }> = [
      {
        release: 'ubuntu/noble',
        version: '20261201',
        spoil: (id) => h.ds.query(`UPDATE boot_resource_chunks SET data = overlay(data placing '\\x00'::bytea from 1 for 1) WHERE content_id = $1`, [id]),
        problem: (sha) => new RegExp(`its stored root-tgz does not match its sha256 \\(expected ${sha}, got [0-9a-f]{64}\\)`),
      },
      {
        release: 'ubuntu/jammy',
        version: '20261202',
        spoil: (id) => h.ds.query(`UPDATE boot_resource_chunks SET data = substring(data from 1 for 5) WHERE content_id = $1`, [id]),
        problem: (_, size) => new RegExp(`its stored root-tgz holds 5 of its ${size} bytes`),
      },
      {
        release: 'ubuntu/focal',
        version: '20261203',
        spoil: (id) => h.ds.query('DELETE FROM boot_resource_chunks WHERE content_id = $1', [id]),
        problem: () => /its stored root-tgz is missing/,
      },
    ];
    for (const c of cases) {
      const img = await registerDeployableImage(h, { name: c.release, version: c.version, root: Buffer.from(`root of ${c.release}, a few bytes\n`) });
      await c.spoil(await contentOf(img.sha256));
      const r = await deploy(m.system_id, { distro_series: c.release, ...userData });
      expect(r.status).toBe(400);
      const body = r.json() as { distro_series: string[] };
      expect(Object.keys(body)).toEqual(['distro_series']);
      expect(body.distro_series[0]).toMatch(new RegExp(`^The ${c.release} image for amd64/generic \\(version ${c.version}\\) is corrupt: `));
      expect(body.distro_series[0]).toMatch(c.problem(img.sha256, img.size));
      expect(body.distro_series[0]).toMatch(/; import it again with kiln boot-resource-import\.$/);
      expect(await snapshot(m.system_id)).toEqual(before);
    }
    // A whole image of the same release deploys.
    await registerDeployableImage(h, { name: 'ubuntu/noble', version: '20261205', root: Buffer.from('root of ubuntu/noble, imported again\n') });
    expect((await deploy(m.system_id, { distro_series: 'ubuntu/noble' })).status).toBe(200);
  });

  it('refuses a storage layout that does not fit the disks, naming the disk, changing nothing', async () => {
    image ??= await registerDeployableImage(h, { version: '20261204' });
    // The default (flat) layout on a disk too small for the EFI and root partitions.
    const small = await allocated({ diskSize: 3_000_000_000 });
    const smallBefore = await snapshot(small.system_id);
    const r1 = await deploy(small.system_id, { distro_series: 'debian/12', ...userData });
    expect(r1.status).toBe(400);
    expect(r1.json()).toEqual({ storage_layout: ['The flat storage layout does not fit disk sda: it needs 3.8 GB, the disk holds 3.0 GB.'] });
    expect(await snapshot(small.system_id)).toEqual(smallBefore);

    // A layout set when the disk was larger; the disk was replaced by a smaller one since.
    const m = await allocated({
      beforeAllocate: async (sid) =>
        expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=set_storage_layout`, { storage_layout: 'flat', root_size: '8G' })).status).toBe(200),
    });
    await h.ds.query(`UPDATE block_devices SET size = 6000000000 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [m.system_id]);
    const before = await snapshot(m.system_id);
    const r2 = await deploy(m.system_id, { distro_series: 'debian/12', ...userData });
    expect(r2.status).toBe(400);
    expect(r2.json()).toEqual({ storage_layout: ['The flat storage layout does not fit disk sda: it needs 8.5 GB, the disk holds 6.0 GB.'] });
    expect(await snapshot(m.system_id)).toEqual(before);
    // Back to a disk it fits: it deploys.
    await h.ds.query(`UPDATE block_devices SET size = 10000000000 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [m.system_id]);
    expect((await deploy(m.system_id, { distro_series: 'debian/12' })).status).toBe(200);
  });

  it('deploys: the installer through the curtin metadata URL, netboot off boots the disk, the installed system makes it Deployed', async () => {
    image ??= await registerDeployableImage(h, { version: '20261204' });
    const m = await allocated();
    const sid = m.system_id;
    const userData = '#!/bin/sh\necho deployed > /root/kiln-marker\n';
    const d = await deploy(sid, { distro_series: 'debian/12', user_data: Buffer.from(userData).toString('base64') });
    expect(d.status).toBe(200);
    expect(d.json()).toMatchObject({ status_name: 'Deploying', osystem: 'debian', distro_series: 'bookworm' });

    // The ephemeral environment's preseed points cloud-init at the curtin metadata URL.
    const pre = await h.call(null, 'GET', `${MD}/latest/by-id/${sid}/?op=get_preseed`, undefined, { 'x-forwarded-host': '10.9.0.1:5248' });
    expect(pre.status).toBe(200);
    const preseed = parse(pre.text) as { datasource: { MAAS: { metadata_url: string } }; reporting: { maas: { endpoint: string } }; power_state: { mode: string } };
    expect(preseed.datasource.MAAS.metadata_url).toBe('http://10.9.0.1:5248/MAAS/metadata/curtin/');
    expect(preseed.reporting.maas.endpoint).toBe(`http://10.9.0.1:5248/MAAS/metadata/status/${sid}`);
    expect(preseed.power_state.mode).toBe('reboot');
    const node = await nodeKey(h, sid);

    // Its user-data is the installer with the machine's configuration; the machine stays Deploying.
    const ud = await h.call(node, 'GET', `${MD}/curtin/2012-03-01/user-data`, undefined, { 'x-forwarded-host': '10.9.0.1:5248' });
    expect(ud.status).toBe(200);
    expect(ud.text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(ud.text).toContain('exec python3 "$dir/kiln-install.py" "$dir/config.json"');
    const json = ud.text.split("<<'KILN_CONFIG_EOF'\n")[1].split('\nKILN_CONFIG_EOF\n')[0];
    const config = JSON.parse(json);
    expect(config.sources['00_kiln']).toEqual({
      type: 'tgz',
      uri: 'http://10.9.0.1:5248/images/debian/bookworm/amd64/generic/20261204/root.tgz',
      sha256: image.sha256,
      size: image.size,
    });
    expect(config.reporting.maas).toEqual({
      type: 'webhook',
      endpoint: `http://10.9.0.1:5248/MAAS/metadata/status/${sid}`,
      consumer_key: node.consumerKey,
      token_key: node.tokenKey,
      token_secret: node.tokenSecret,
    });
    expect(config.kiln).toEqual({ metadata_url: 'http://10.9.0.1:5248/MAAS/metadata/', hostname: m.hostname, system_id: sid });
    expect(config.storage.config.map((e: { type: string }) => e.type)).toEqual(['disk', 'partition', 'format', 'mount']);
    expect(config.storage.config[0]).toMatchObject({ type: 'disk', serial: 'KILN0001', ptable: 'msdos', grub_device: true });
    expect((await get(sid)).status_name).toBe('Deploying');

    // get_curtin_config shows the same configuration, without the rack's address or secrets.
    const shown = await h.call(alice, 'GET', `${API}/machines/${sid}/?op=get_curtin_config`);
    expect(shown.status).toBe(200);
    const doc = parse(shown.text) as typeof config;
    expect(doc.sources['00_kiln']).toEqual({ ...config.sources['00_kiln'], uri: 'http://<rack>:5248/images/debian/bookworm/amd64/generic/20261204/root.tgz' });
    expect(doc.storage).toEqual(config.storage);
    expect(doc.reporting.maas.token_secret).toBeUndefined();

    // Each installer event pushes the deadline back.
    await h.ds.query(`UPDATE machines SET status_expires = now() + interval '1 minute' WHERE system_id = $1`, [sid]);
    const event = { event_type: 'progress', origin: 'curtin', name: 'cmd-install/stage-extract', description: '64 MiB of the image written' };
    expect((await h.call(node, 'POST', `${MD}/status/${sid}`, { raw: JSON.stringify(event), contentType: 'application/json' })).status).toBe(204);
    const [row] = await h.ds.query('SELECT status_expires FROM machines WHERE system_id = $1', [sid]);
    expect((new Date(row.status_expires).getTime() - Date.now()) / 60_000).toBeGreaterThan(29);

    // Until netboot_off the rack netboots the installer; afterwards the local disk.
    const boot = async () => {
      const [r] = await h.ds.query('SELECT status, netboot, ephemeral_deploy FROM machines WHERE system_id = $1', [sid]);
      const req = { rackId: 'r', mac: '52:54:00:00:00:01', serverAddress: '10.9.0.1' } as Parameters<typeof decideBootConfig>[1];
      return decideBootConfig({ systemId: sid, hostname: m.hostname, status: r.status, architecture: 'amd64/generic', ephemeralDeploy: r.ephemeral_deploy, netboot: r.netboot }, req, [
        { name: 'debian/bookworm', architecture: 'amd64/generic', version: '1' },
      ]).kind;
    };
    expect(await boot()).toBe('installer');
    expect((await h.call(node, 'POST', `${MD}/2012-03-01/?op=netboot_off`, { op: 'netboot_off' })).text).toBe('OK');
    expect(await boot()).toBe('local');
    expect((await get(sid)).status_name).toBe('Deploying');

    // The installed system's cloud-init: meta-data with the owner's key, then user-data -> Deployed.
    const keys = await h.call(node, 'GET', `${MD}/2012-03-01/meta-data/public-keys`);
    expect(keys.text).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnTestKeyOfAlice alice@kiln');
    const installed = await h.call(node, 'GET', `${MD}/2012-03-01/user-data`);
    expect(installed.status).toBe(200);
    expect(installed.text).toBe(userData);
    expect(await get(sid)).toMatchObject({ status_name: 'Deployed', osystem: 'debian', distro_series: 'bookworm' });
    // Fetched again after a reboot: still the user's data, still Deployed.
    expect((await h.call(node, 'GET', `${MD}/2012-03-01/user-data`)).text).toBe(userData);
    expect((await get(sid)).status_name).toBe('Deployed');
  });

  it('deploys in memory: the release\'s netboot image is the system, its user-data fetch makes it Deployed, SSH is started, release ends it', async () => {
    const m = await allocated();
    const sid = m.system_id;
    const [{ mac_address: mac }] = await h.ds.query(
      `SELECT i.mac_address FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
      [sid],
    );
    const userData = '#!/bin/sh\necho kiln-in-memory\n';
    const ud = Buffer.from(userData).toString('base64');
    const before = await snapshot(sid);

    // No netboot image of the release: refused before anything changes, naming what is missing.
    const missing = await deploy(sid, { distro_series: 'ubuntu/noble', ephemeral_deploy: 'true', user_data: ud });
    expect(missing.status).toBe(400);
    expect(missing.json()).toEqual({
      distro_series: [
        "'ubuntu/noble' cannot be deployed in memory: the region has no ubuntu/noble netboot image for amd64/generic (kernel, initrd and squashfs; import one with kiln boot-resource-import).",
      ],
    });
    expect(await snapshot(sid)).toEqual(before);

    // Two netboot images: the ephemeral environment's (debian/bookworm) and ubuntu/noble.
    const files = (what: string) => ({
      'boot-kernel': Buffer.from(`${what} kernel`),
      'boot-initrd': Buffer.from(`${what} initrd`),
      squashfs: Buffer.from(`${what} squashfs`),
    });
    await registerBootImage(h, { name: 'debian/bookworm', version: '20261204.1', files: files('bookworm') });
    await registerBootImage(h, { name: 'ubuntu/noble', version: '20261204.2', files: files('noble') });
    const d = await deploy(sid, { distro_series: 'ubuntu/noble', ephemeral_deploy: 'true', user_data: ud });
    expect(d.status).toBe(200);
    expect(d.json()).toMatchObject({ status_name: 'Deploying', osystem: 'ubuntu', distro_series: 'noble', ephemeral_deploy: true });

    // The rack netboots the release deployed (not the ephemeral environment's image), Deploying and Deployed alike.
    const boots = h.app.get(BootConfigHandler);
    const bootReq = { rackId: 'rack-mem', mac, serverAddress: '10.9.0.1' } as Parameters<BootConfigHandler['answer']>[0];
    const netbooted = await boots.answer(bootReq);
    expect(netbooted).toMatchObject({ kind: 'ephemeral', purpose: 'deploying', systemId: sid, kernel: 'ubuntu/noble/amd64/generic/20261204.2/boot-kernel' });

    // Its preseed: the plain metadata URL (no installer), nothing powers it off or reboots it.
    const preseed = async () => {
      const r = await h.call(null, 'GET', `${MD}/latest/by-id/${sid}/?op=get_preseed`, undefined, { 'x-forwarded-host': '10.9.0.1:5248' });
      expect(r.status).toBe(200);
      return parse(r.text) as { datasource: { MAAS: { metadata_url: string } }; power_state?: unknown };
    };
    const p1 = await preseed();
    expect(p1.datasource.MAAS.metadata_url).toBe('http://10.9.0.1:5248/MAAS/metadata/');
    expect(p1.power_state).toBeUndefined();

    // vendor-data starts the SSH server (the image leaves it off) as a vendor script.
    const node = await nodeKey(h, sid);
    const vendor = parse((await h.call(node, 'GET', `${MD}/2012-03-01/meta-data/vendor-data`)).text) as { 'cloud-init': string };
    expect(vendor['cloud-init']).toContain('Content-Type: text/x-shellscript');
    expect(vendor['cloud-init']).toContain('systemctl start ssh.service');
    expect(vendor['cloud-init']).toContain('manage_etc_hosts: true');

    // cloud-init of the running system fetches the owner's key and user-data: Deployed.
    expect((await h.call(node, 'GET', `${MD}/2012-03-01/meta-data/public-keys`)).text).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnTestKeyOfAlice alice@kiln');
    const fetched = await h.call(node, 'GET', `${MD}/2012-03-01/user-data`);
    expect(fetched.status).toBe(200);
    expect(fetched.text).toBe(userData);
    expect(await get(sid)).toMatchObject({ status_name: 'Deployed', osystem: 'ubuntu', distro_series: 'noble' });
    const events = (await h.ds.query('SELECT description FROM events WHERE system_id = $1 ORDER BY id', [sid])) as { description: string }[];
    expect(events.map((e) => e.description)).toContain('Deployment finished');

    // Rebooted while Deployed: netbooted the same way, still no power_state, still SSH.
    expect(await boots.answer(bootReq)).toMatchObject({ kind: 'ephemeral', kernel: 'ubuntu/noble/amd64/generic/20261204.2/boot-kernel' });
    expect((await preseed()).power_state).toBeUndefined();
    expect((await h.call(node, 'GET', `${MD}/2012-03-01/meta-data/vendor-data`)).text).toContain('systemctl start ssh.service');

    // Released: Ready, no longer in memory; the machine boots its disk (Ready) and its vendor-data is plain.
    const rel = await h.call(alice, 'POST', `${API}/machines/${sid}/?op=release`);
    expect(rel.status).toBe(200);
    const released = await get(sid);
    expect(released).toMatchObject({ status_name: 'Ready', ephemeral_deploy: false, osystem: '', distro_series: '' });
    expect(await boots.answer(bootReq)).toMatchObject({ kind: 'local' });
  });

  it('fails the deployment with the step and reason the installer reports', async () => {
    image ??= await registerDeployableImage(h, { version: '20261204' });
    const m = await allocated();
    const sid = m.system_id;
    expect((await deploy(sid, { distro_series: 'bookworm' })).status).toBe(200);
    await h.call(null, 'GET', `${MD}/latest/by-id/${sid}/?op=get_preseed`);
    const node = await nodeKey(h, sid);
    const failure = {
      event_type: 'finish',
      origin: 'curtin',
      name: 'cmd-install',
      description: 'extract: image sha256 mismatch: expected aa, got bb',
      result: 'FAIL',
    };
    expect((await h.call(node, 'POST', `${MD}/status/${sid}`, { raw: JSON.stringify(failure), contentType: 'application/json' })).status).toBe(204);
    const after = await get(sid);
    expect(after.status_name).toBe('Failed deployment');
    expect(after.error_description).toBe('Deploying failed: curtin reported cmd-install failed: extract: image sha256 mismatch: expected aa, got bb');
  });

  it('AUTO links take addresses when the deploy starts, the installed network carries them, release gives them back; a full subnet refuses the deploy', async () => {
    image ??= await registerDeployableImage(h, { version: '20261204' });
    const ok = async (method: string, path: string, body?: Record<string, string>) => {
      const r = await h.call(admin, method, `${API}/${path}`, body);
      if (r.status !== 200) throw new Error(`${method} ${path} → ${r.status} ${r.text}`);
      return r.json() as { id: number; vlans: { id: number; vid: number }[] };
    };
    const fabric = await ok('POST', 'fabrics/', { description: 'auto' });
    const vlan = String(fabric.vlans.find((v) => v.vid === 0)!.id);
    const wide = (await ok('POST', 'subnets/', { cidr: '10.94.0.0/24', vlan, gateway_ip: '10.94.0.1', dns_servers: '10.94.0.2' })).id;
    const tiny = (await ok('POST', 'subnets/', { cidr: '10.95.0.0/30', vlan, gateway_ip: '10.95.0.1' })).id;
    await ok('POST', 'ipranges/', { type: 'reserved', start_ip: '10.94.0.3', end_ip: '10.94.0.9', subnet: String(wide) });
    const linkAuto = (subnet: number) => async (sid: string) => {
      await h.ds.query(`UPDATE interfaces SET vlan_id = $2 WHERE machine_id = (SELECT id FROM machines WHERE system_id = $1)`, [sid, vlan]);
      const [i]: { id: number }[] = await h.ds.query(`SELECT i.id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`, [sid]);
      await ok('POST', `nodes/${sid}/interfaces/${i.id}/?op=link_subnet`, { mode: 'AUTO', subnet: String(subnet), default_gateway: 'true' });
    };
    const links = async (sid: string) =>
      ((await h.call(admin, 'GET', `${API}/nodes/${sid}/interfaces/`)).json() as { name: string; links: { mode: string; ip_address?: string }[] }[]).flatMap((i) =>
        i.links.map((l) => ({ name: i.name, mode: l.mode, ip: l.ip_address ?? null })),
      );

    const m = await allocated({ beforeAllocate: linkAuto(wide) });
    const sid = m.system_id;
    const [{ name }] = await links(sid);
    expect(await links(sid)).toEqual([{ name, mode: 'auto', ip: null }]);
    expect((await deploy(sid, { distro_series: 'debian/12' })).status).toBe(200);
    // The first address outside the gateway, the DNS server and the reserved range.
    expect(await links(sid)).toEqual([{ name, mode: 'auto', ip: '10.94.0.10' }]);
    const [held] = await h.ds.query(`SELECT alloc_type FROM static_ip_addresses WHERE host(ip) = '10.94.0.10'`);
    expect(held).toEqual({ alloc_type: 'auto' });
    const [event] = await h.ds.query(`SELECT description FROM events WHERE system_id = $1 AND type = 'Deploying'`, [sid]);
    expect(event.description).toContain(`AUTO addresses: ${name} 10.94.0.10`);
    const doc = parse((await h.call(alice, 'GET', `${API}/machines/${sid}/?op=get_curtin_config`)).text) as { network: { config: { name: string; subnets: unknown[] }[] } };
    expect(doc.network.config.find((e) => e.name === name)!.subnets).toEqual([{ type: 'static', address: '10.94.0.10/24', gateway: '10.94.0.1', dns_nameservers: ['10.94.0.2'] }]);

    // Released: the address goes back to the subnet; the link stays AUTO for the next deploy.
    expect((await h.call(alice, 'POST', `${API}/machines/${sid}/?op=release`)).json()).toMatchObject({ status_name: 'Ready' });
    expect(await links(sid)).toEqual([{ name, mode: 'auto', ip: null }]);
    expect(await h.ds.query(`SELECT 1 FROM static_ip_addresses WHERE host(ip) = '10.94.0.10'`)).toEqual([]);

    // A subnet with no address left refuses the deploy, naming it, and changes nothing.
    const full = await allocated({ beforeAllocate: linkAuto(tiny) });
    await ok('POST', 'ipaddresses/?op=reserve', { ip: '10.95.0.2' });
    const before = await snapshot(full.system_id);
    const refused = await deploy(full.system_id, { distro_series: 'debian/12' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain(`no free address is left on subnet 10.95.0.0/30 for the AUTO link of ${name}`);
    expect(await snapshot(full.system_id)).toEqual(before);
    expect((await links(full.system_id))[0].ip).toBeNull();
  });
});
