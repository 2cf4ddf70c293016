/**
 * A simulated machine's software once it has "booted" the ephemeral image: what cloud-init reads
 * (the preseed from cloud-config-url=, the datasource's meta-data and user-data) and then Kiln's
 * runner conversation (libs/scripts/runner/kiln-run-scripts.py), request for request, with the
 * scripts' output made up instead of run. No process, no VM: one async task per machine.
 */
import { readPreseed } from './cloud-config.reader';
import { SimulatedMachine } from './machine.profile';
import { AbortedError, API_VERSION, MetadataClient, Transport } from './metadata.client';
import { scriptOutput, ScriptOutput } from './script-output.generator';
import { readTar } from './tar.reader';

/** One index.json entry, as much of it as the runner uses. */
export interface IndexScript {
  name: string;
  path: string;
  script_result_id?: number;
  script_version_id?: number;
  parallel?: number;
  hardware_type?: number;
  packages?: { apt?: unknown[]; snap?: unknown[]; url?: unknown[] };
  apply_configured_networking?: boolean;
}

type SetKey = 'commissioning_scripts' | 'testing_scripts' | 'release_scripts' | 'deployment_scripts';
type ScriptsIndex = Partial<Record<SetKey, IndexScript[]>>;

const HARDWARE_ORDER: Record<number, number> = { 1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 0: 5 };
const SET_SIGNAL: Record<SetKey, string | null> = { commissioning_scripts: null, testing_scripts: 'TESTING', release_scripts: 'RELEASING', deployment_scripts: 'DEPLOYING' };
const SET_WORD: Record<SetKey, string> = { commissioning_scripts: 'commissioning', testing_scripts: 'test', release_scripts: 'release', deployment_scripts: 'deployment' };

/** The runner's order: hardware type (CPU, memory, storage, network, GPU, node), name, result id. */
export function runOrder(scripts: readonly IndexScript[]): IndexScript[] {
  return [...scripts].sort(
    (a, b) =>
      (HARDWARE_ORDER[a.hardware_type ?? 0] ?? 5) - (HARDWARE_ORDER[b.hardware_type ?? 0] ?? 5) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
      (a.script_result_id ?? 0) - (b.script_result_id ?? 0),
  );
}

export interface AgentOptions {
  machine: SimulatedMachine;
  transport: Transport;
  /** The metadata URL the machine is booted with (the rack's, http://rack:5248/MAAS/metadata/). */
  metadataUrl: string;
  heartbeatMs: number;
  /** How long each script "runs", in ms. */
  scriptMs: () => number;
  /** How long the machine takes from power on to cloud-init's first request (firmware, PXE, kernel), in ms. */
  bootMs?: () => number;
  /**
   * The BMC the simulated 30-maas-01-bmc-config finds, sent with the enlistment as the runner
   * sends what the script wrote; null when it finds none.
   */
  bmc: () => { powerType: string; parameters: Record<string, string> } | null;
  /** Scripts that fail on this machine (exit 1). */
  failScripts?: ReadonlySet<string>;
  /**
   * How long the simulated installer takes to write the image, in ms (partitioning and configuring
   * take a tenth of it each); 0 by default.
   */
  installMs?: () => number;
  onEvent?: (e: AgentEvent) => void;
}

export type AgentEvent =
  | { type: 'enlisted'; index: number; systemId: string }
  | { type: 'done'; index: number; systemId: string | null; outcome: 'ok' | 'failed' | 'registered' | 'deployed' }
  | { type: 'error'; index: number; systemId: string | null; error: string }
  | { type: 'poweroff'; index: number };

export type AgentState = 'off' | 'on';

export class SimulatedAgent {
  state: AgentState = 'off';
  systemId: string | null = null;
  /** Set when the last conversation ended on an error. */
  lastError: string | null = null;
  /** Increments at each power on; a conversation stops when the machine is powered off. */
  private boot = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly opts: AgentOptions) {}

  get machine(): SimulatedMachine {
    return this.opts.machine;
  }

  /** Power on: the machine boots and runs its conversation (as enlisting when Kiln does not know it). */
  powerOn(systemId?: string | null): void {
    if (this.state === 'on') return;
    if (systemId) this.systemId = systemId;
    this.state = 'on';
    const boot = ++this.boot;
    const aborted = () => this.boot !== boot || this.state !== 'on';
    this.running = this.converse(aborted).catch((e: unknown) => {
      if (e instanceof AbortedError || aborted()) return;
      this.lastError = (e as Error).message;
      this.opts.onEvent?.({ type: 'error', index: this.machine.index, systemId: this.systemId, error: this.lastError });
    });
  }

  powerOff(): void {
    this.state = 'off';
  }

  /** Resolves when the current conversation (if any) has ended. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async converse(aborted: () => boolean): Promise<void> {
    this.lastError = null;
    const boot = this.opts.bootMs?.() ?? 0;
    if (boot > 0) await new Promise((r) => setTimeout(r, boot));
    if (aborted()) return;
    const client = new MetadataClient(this.opts.transport, this.opts.metadataUrl, null, aborted);
    const outcome = this.systemId ? await this.bootKnown(client, this.systemId, aborted) : await this.enlist(client, aborted);
    this.opts.onEvent?.({ type: 'done', index: this.machine.index, systemId: this.systemId, outcome: outcome.result });
    if (!aborted() && outcome.powerState === 'poweroff') {
      this.state = 'off';
      this.opts.onEvent?.({ type: 'poweroff', index: this.machine.index });
    }
  }

  /**
   * cloud-init: the preseed of cloud-config-url=, then the datasource's required items and
   * user-data. A deploying machine's preseed names the installer's datasource (…/metadata/curtin/):
   * the items come from there, and its user-data is the installer.
   */
  private async cloudInit(client: MetadataClient, preseedPath: string) {
    const reply = await client.get(preseedPath, 'GET preseed');
    if (reply.status !== 200) throw new Error(`${preseedPath} answered ${reply.status}`);
    const preseed = readPreseed(reply.body.toString('utf8'));
    client.creds = preseed.credentials;
    const installer = !!preseed.metadataUrl && /\/curtin\/?$/.test(new URL(preseed.metadataUrl).pathname);
    const base = installer ? 'curtin/' : '';
    for (const item of ['meta-data/instance-id', 'meta-data/local-hostname']) {
      const r = await client.get(`${base}${API_VERSION}/${item}`, `GET ${base}${item}`);
      if (r.status !== 200) throw new Error(`cloud-init: ${base}${item} answered ${r.status}`);
    }
    const ud = await client.get(`${base}${API_VERSION}/user-data`, `GET ${base}user-data`);
    if (ud.status !== 200 && ud.status !== 404) throw new Error(`cloud-init: ${base}user-data answered ${ud.status}`);
    return { ...preseed, installer, userData: ud.status === 200 ? ud.body.toString('utf8') : '' };
  }

  private async bootKnown(client: MetadataClient, systemId: string, aborted: () => boolean) {
    const preseed = await this.cloudInit(client, `latest/by-id/${systemId}/?op=get_preseed`);
    if (!client.creds) throw new Error(`the preseed of ${systemId} holds no node credentials`);
    if (preseed.installer) return { result: await this.install(client, systemId, preseed.userData, aborted), powerState: null };
    const result = await this.run(client, aborted);
    return { result, powerState: preseed.powerState };
  }

  /**
   * Deployment as Kiln's installer (libs/scripts/installer/kiln-install.py) and then the installed
   * system play it: status events for each stage to the reporting endpoint of the installer's
   * configuration (progress while the image is written), netboot_off, the top-level finish; the
   * reboot (power_state reboot, a simulated boot); the installed system's cloud-init reports its
   * start and reads meta-data and its user-data, which makes the region mark the machine Deployed.
   * The machine then stays on until the region powers it off (release).
   */
  private async install(client: MetadataClient, systemId: string, userData: string, aborted: () => boolean): Promise<'deployed' | 'failed'> {
    const json = userData.split("<<'KILN_CONFIG_EOF'\n")[1]?.split('\nKILN_CONFIG_EOF\n')[0];
    if (!json) throw new Error(`${systemId}: the installer's user-data holds no configuration`);
    const cfg = JSON.parse(json) as { reporting?: { maas?: { endpoint?: string } }; kiln?: { metadata_url?: string }; sources?: Record<string, { uri?: string; size?: number }> };
    // The configuration's URLs name the rack as the region saw it; the machine reaches it as it booted.
    const here = new URL(this.opts.metadataUrl);
    const local = (u: string | undefined, what: string) => {
      if (!u) throw new Error(`${systemId}: the installer's configuration has no ${what}`);
      const x = new URL(u);
      return `${here.protocol}//${here.host}${x.pathname}${x.search}`;
    };
    const endpoint = local(cfg.reporting?.maas?.endpoint, 'reporting endpoint');
    const metadataUrl = local(cfg.kiln?.metadata_url, 'metadata_url');
    const source = Object.values(cfg.sources ?? {})[0];
    const event = async (eventType: 'start' | 'finish' | 'progress', name: string, description: string, result?: string, origin = 'curtin') => {
      const body = { event_type: eventType, origin, name, description, timestamp: Date.now() / 1000, ...(result ? { result } : {}) };
      const r = await client.request(endpoint, { body: Buffer.from(JSON.stringify(body)), contentType: 'application/json', what: 'status' });
      if (r.status !== 204 && r.status !== 200) throw new Error(`status event ${name}: ${r.status} ${r.body.toString('utf8', 0, 200)}`);
    };
    const pause = async (ms: number) => {
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      if (aborted()) throw new AbortedError();
    };
    const total = Math.max(0, this.opts.installMs?.() ?? 0);
    const t0 = performance.now();
    await event('start', 'cmd-install', 'curtin command install');
    if (!source?.uri) {
      await event('finish', 'cmd-install', 'start: the configuration names no image to install', 'FAIL');
      return 'failed';
    }
    await event('start', 'cmd-install/stage-partitioning', 'partitioning the disks');
    await pause(total / 10);
    await event('finish', 'cmd-install/stage-partitioning', 'disks partitioned and formatted', 'SUCCESS');
    await event('start', 'cmd-install/stage-extract', `writing the image ${source.uri}`);
    // The real installer reports every 64 MiB; the simulated image "arrives" in four parts.
    for (let i = 1; i <= 4; i++) {
      await pause(total / 5);
      await event('progress', 'cmd-install/stage-extract', `${i * 64} MiB of the image written`);
    }
    await event('finish', 'cmd-install/stage-extract', `image written (${source.size ?? 0} bytes, sha256 verified)`, 'SUCCESS');
    await event('start', 'cmd-install/stage-curthooks', 'configuring the installed system');
    await pause(total / 10);
    await event('finish', 'cmd-install/stage-curthooks', 'GRUB installed (BIOS), system configured', 'SUCCESS');
    const off = await client.request(`${metadataUrl.replace(/\/?$/, '/')}${API_VERSION}/?op=netboot_off`, {
      body: Buffer.from('op=netboot_off'),
      contentType: 'application/x-www-form-urlencoded',
      what: 'netboot_off',
    });
    if (off.status !== 200) {
      await event('finish', 'cmd-install', `netboot-off: the region did not take netboot_off (${off.status})`, 'FAIL');
      return 'failed';
    }
    await event('finish', 'cmd-install', `installed in ${((performance.now() - t0) / 1000).toFixed(0)} s; rebooting`, 'SUCCESS');

    // power_state: reboot. The disk boots (netboot is off) into the installed system.
    await pause(this.opts.bootMs?.() ?? 0);
    const installed = new MetadataClient(this.opts.transport, metadataUrl, client.creds, aborted);
    await event('start', 'init-local', 'searching for local datasources', undefined, 'cloudinit');
    for (const item of ['meta-data/instance-id', 'meta-data/local-hostname', 'meta-data/public-keys']) {
      const r = await installed.get(`${API_VERSION}/${item}`, `installed ${item}`);
      if (r.status !== 200 && !(item.endsWith('public-keys') && r.status === 404)) throw new Error(`installed system: ${item} answered ${r.status}`);
    }
    const ud = await installed.get(`${API_VERSION}/user-data`, 'installed user-data');
    if (ud.status !== 200 && ud.status !== 404) throw new Error(`installed system: user-data answered ${ud.status}`);
    return 'deployed';
  }

  private async downloadScripts(client: MetadataClient): Promise<ScriptsIndex | null> {
    const r = await client.get(`${API_VERSION}/maas-scripts`, 'GET maas-scripts');
    if (r.status === 204) return null;
    if (r.status !== 200) throw new Error(`maas-scripts answered ${r.status}`);
    const index = readTar(r.body).get('index.json');
    if (!index) throw new Error('maas-scripts: no index.json in the tar');
    return (JSON.parse(index.toString('utf8')) as { '1.0': ScriptsIndex })['1.0'];
  }

  /** The runner's run(): heartbeat, scripts by set, final OK or FAILED. */
  private async run(client: MetadataClient, aborted: () => boolean): Promise<'ok' | 'failed'> {
    const started = performance.now();
    await client.signal('WORKING');
    let beating: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      if (aborted()) return;
      beating = client.signal('WORKING', `Elapsed time (real): ${((performance.now() - started) / 1000).toFixed(2)}s`).catch(() => undefined);
    }, this.opts.heartbeatMs);
    timer.unref();
    // As the runner: the heartbeat stops, and one in flight lands, before the final signal ends
    // the run (and revokes the token a later heartbeat would be signed with).
    const final = async (status: 'OK' | 'FAILED', message: string) => {
      clearInterval(timer);
      await beating;
      await client.signal(status, message);
    };
    try {
      let index = await this.downloadScripts(client);
      if (index === null) {
        await final('OK', 'All scripts successfully ran');
        return 'ok';
      }
      const commissioning = index.commissioning_scripts ?? [];
      if (commissioning.length) {
        const failed = await this.runSet(client, 'commissioning_scripts', commissioning, aborted, true);
        if (failed) {
          await final('FAILED', `${failed} commissioning scripts failed to run`);
          return 'failed';
        }
        // The region may have added scripts for the hardware just discovered (for_hardware).
        index = await this.downloadScripts(client);
        if (index === null) {
          await final('OK', 'All scripts successfully ran');
          return 'ok';
        }
      }
      for (const key of ['testing_scripts', 'release_scripts', 'deployment_scripts'] as const) {
        const scripts = index[key] ?? [];
        if (!scripts.length) continue;
        await client.signal(SET_SIGNAL[key]!);
        const failed = await this.runSet(client, key, scripts, aborted, true);
        if (failed) {
          await final('FAILED', `${failed} ${SET_WORD[key]} scripts failed to run`);
          return 'failed';
        }
      }
      await final('OK', 'All scripts successfully ran');
      return 'ok';
    } finally {
      clearInterval(timer);
    }
  }

  /** Runs a set in the runner's order: serial, then per-name instances together, then the rest at once. */
  private async runSet(client: MetadataClient, key: SetKey, scripts: IndexScript[], aborted: () => boolean, send: boolean, held?: HeldSignal[]): Promise<number> {
    const ordered = runOrder(scripts);
    let failed = 0;
    const serial = ordered.filter((s) => (s.parallel ?? 0) === 0);
    const instance = ordered.filter((s) => s.parallel === 1);
    const anything = ordered.filter((s) => s.parallel === 2).sort((a, b) => Number(!!a.apply_configured_networking) - Number(!!b.apply_configured_networking));
    for (const s of serial) failed += (await this.runOne(client, s, aborted, send, held)) ? 0 : 1;
    const groups = new Map<string, IndexScript[]>();
    for (const s of instance) groups.set(s.name, [...(groups.get(s.name) ?? []), s]);
    for (const group of groups.values()) failed += (await Promise.all(group.map((s) => this.runOne(client, s, aborted, send, held)))).filter((ok) => !ok).length;
    if (anything.length) failed += (await Promise.all(anything.map((s) => this.runOne(client, s, aborted, send, held)))).filter((ok) => !ok).length;
    return failed;
  }

  private ident(s: IndexScript): string {
    return `${s.name} (id: ${s.script_result_id ?? 'None'}, script_version_id: ${s.script_version_id ?? 'None'})`;
  }

  private idFields(s: IndexScript): [string, string | number | undefined][] {
    return [
      ['script_result_id', s.script_result_id],
      ['name', s.name],
      ['script_version_id', s.script_version_id],
    ];
  }

  private output(name: string): ScriptOutput {
    if (this.opts.failScripts?.has(name)) return { stdout: '', stderr: `${name}: simulated failure\n`, exitStatus: 1 };
    const bmc = this.opts.bmc();
    if (name === '30-maas-01-bmc-config' && bmc && this.systemId === null) {
      return { stdout: `Found a ${bmc.powerType} BMC at ${bmc.parameters.power_query_uri ?? ''}\n`, stderr: '', exitStatus: 0 };
    }
    return scriptOutput(this.machine, name);
  }

  /** One script: Starting, (INSTALLING), the made-up run, Finished with its files. */
  private async runOne(client: MetadataClient, s: IndexScript, aborted: () => boolean, send: boolean, held?: HeldSignal[]): Promise<boolean> {
    if (aborted()) throw new AbortedError();
    if (send) await client.signal('WORKING', `Starting ${this.ident(s)}`, this.idFields(s));
    const p = s.packages ?? {};
    if (send && [p.apt, p.snap, p.url].some((x) => Array.isArray(x) && x.length)) {
      await client.signal('INSTALLING', `Installing packages for ${this.ident(s)}`, this.idFields(s));
    }
    const ms = Math.max(0, this.opts.scriptMs());
    const t0 = performance.now();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    if (aborted()) throw new AbortedError();
    const out = this.output(s.name);
    const runtime = Math.round(performance.now() - t0) / 1000;
    const combined = out.stdout + out.stderr;
    const files: [string, Uint8Array][] = [
      [s.name, Buffer.from(combined)],
      [`${s.name}.out`, Buffer.from(out.stdout)],
      [`${s.name}.err`, Buffer.from(out.stderr)],
    ];
    if (out.resultYaml !== undefined) files.push([`${s.name}.yaml`, Buffer.from(out.resultYaml)]);
    const fields: [string, string | number | undefined][] = [
      ['script_result_id', s.script_result_id],
      ['runtime', runtime],
      ['exit_status', out.exitStatus],
      ['name', s.name],
      ['script_version_id', s.script_version_id],
    ];
    const signal: HeldSignal = ['WORKING', `Finished ${this.ident(s)}: ${out.exitStatus}`, fields, files];
    if (send) await client.signal(...signal);
    else held?.push(signal);
    return out.exitStatus === 0;
  }

  /** Enlistment (reference §4.10), as the runner does it without a token secret. */
  private async enlist(client: MetadataClient, aborted: () => boolean) {
    const preseed = await this.cloudInit(client, 'latest/enlist-preseed/?op=get_enlist_preseed');
    const macs = [...new Set(this.machine.nics.map((n) => n.mac.toLowerCase()))].sort();
    const api = `${client.apiUrl}machines/`;
    const reg = await client.request(`${api}?op=is_registered&mac_address=${encodeURIComponent(macs.join(','))}`, { what: 'GET is_registered' });
    if (reg.status === 200 && reg.body.toString().trim().toLowerCase() === 'true') return { result: 'registered' as const, powerState: preseed.powerState };
    const held: HeldSignal[] = [];
    const index = await this.downloadScripts(client);
    if (index) {
      for (const s of runOrder(index.commissioning_scripts ?? []).filter((x) => (x.parallel ?? 0) === 0)) await this.runOne(client, s, aborted, false, held);
    }
    const form: [string, string][] = [
      ['architecture', this.machine.architecture],
      ['mac_addresses', macs.join(',')],
      ['commission', 'True'],
    ];
    const bmc = this.opts.bmc();
    const power: [string, string][] = bmc ? [['power_type', bmc.powerType], ['power_parameters', JSON.stringify(bmc.parameters)]] : [];
    const post = (fields: [string, string][]) =>
      client.request(api, { body: Buffer.from(new URLSearchParams(fields).toString()), contentType: 'application/x-www-form-urlencoded', what: 'POST machines' });
    let created = await post([...form, ...power]);
    if (created.status !== 200 && power.length) created = await post(form);
    if (created.status !== 200) throw new Error(`enlisting failed: ${created.status} ${created.body.toString('utf8', 0, 200)}`);
    const systemId = (JSON.parse(created.body.toString('utf8')) as { system_id: string }).system_id;
    this.systemId = systemId;
    this.opts.onEvent?.({ type: 'enlisted', index: this.machine.index, systemId });
    const own = await client.get(`latest/by-id/${systemId}/?op=get_preseed`, 'GET preseed');
    if (own.status !== 200) throw new Error(`get_preseed answered ${own.status}`);
    const known = readPreseed(own.body.toString('utf8'));
    if (!known.credentials) throw new Error(`the preseed of ${systemId} holds no node credentials`);
    client.creds = known.credentials;
    for (const h of held) await client.signal(...h);
    const result = await this.run(client, aborted);
    // The enlistment preseed's power_state is what the booted image follows.
    return { result, powerState: preseed.powerState };
  }
}

type HeldSignal = [string, string, [string, string | number | undefined][], [string, Uint8Array][]];
