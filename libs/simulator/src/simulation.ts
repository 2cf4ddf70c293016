/**
 * `kiln simulate`: N simulated machines in one process, each an emulated BMC (the webhook power
 * driver's three URLs on a loopback server) plus an agent speaking the metadata API as the runner
 * does. Modes:
 *   enlist       unknown machines power on and enlist themselves anonymously (they end New);
 *   commission   machines are added through the API with their BMC; Kiln powers them on and they
 *                commission (they end Ready);
 *   enlist-commission  both, one after the other, on the same machines (enlisted, then the
 *                operator sets each one's BMC and commissions it).
 *   enlist-commission-deploy  then the operator allocates each Ready machine and deploys it (Kiln
 *                powers it on, the agent plays the installer and the installed system: it ends
 *                Deployed), then releases it (Kiln powers it off: it ends Ready).
 */
import { randomBytes } from 'node:crypto';
import { SimulatedBmcServer } from './bmc.server';
import { KilnApiClient, MachineSummary } from './kiln-api.client';
import { simulatedMachine, SimulatedMachine } from './machine.profile';
import { Transport, TrafficStats } from './metadata.client';
import { NodeCredentials } from './oauth.signer';
import { AgentEvent, SimulatedAgent } from './simulated.agent';

export type SimulationMode = 'enlist' | 'commission' | 'enlist-commission' | 'enlist-commission-deploy';
export const SIMULATION_MODES: readonly SimulationMode[] = ['enlist', 'commission', 'enlist-commission', 'enlist-commission-deploy'];

export interface SimulationOptions {
  machines: number;
  mode: SimulationMode;
  /** The region's URL (the operator's API). */
  regionUrl: string;
  /** The metadata URL machines boot with: the rack's proxy (http://rack:5248/MAAS/metadata/) by default. */
  metadataUrl: string;
  apiKey: NodeCredentials | null;
  /** Distinguishes fleets (MACs, serials, hostnames); random by default. */
  seed?: number;
  hostnamePrefix?: string;
  heartbeatMs?: number;
  /** Simulated runtime of each script: uniform in [min, max] ms. */
  scriptMs?: [number, number];
  /** Simulated time from power on to the first request (firmware, PXE, kernel): uniform in [min, max] ms. */
  bootMs?: [number, number];
  /** Most machines talking at once (a power-on beyond it waits for a slot, as in a boot queue). */
  concurrency?: number;
  /** Most HTTP connections open at once across the fleet. */
  maxSockets?: number;
  /** How long to wait for every machine to reach its status, per phase. */
  timeoutMs?: number;
  pollMs?: number;
  /** Machines (by index) whose scripts of these names fail. */
  failScripts?: Map<number, Set<string>>;
  /** Address the BMC server binds (loopback by default); Kiln's rack must reach it. */
  bmcHost?: string;
  retryDelaysS?: readonly number[];
  /** Progress lines (phase changes, counts while waiting). */
  progress?: (line: string) => void;
  /** Passed to the API's commission op (e.g. testing_scripts=none). */
  commissionParams?: [string, string][];
  /** The release deployed (deploy mode); a stand-in root tarball is uploaded when the region has none. */
  deploySeries?: string;
  /** Simulated time the installer takes to write the image: uniform in [min, max] ms. */
  installMs?: [number, number];
}

export interface PhaseReport {
  phase: 'enlist' | 'commission' | 'deploy' | 'release';
  target: string;
  /** Machines in this phase (in commission after enlistment: those that enlisted). */
  of: number;
  wallMs: number;
  reached: number;
  /** Machines not in the target status at the end, by status. */
  elsewhere: Record<string, number>;
}

export interface SimulationReport {
  mode: SimulationMode;
  machines: number;
  seed: number;
  bmc: string;
  phases: PhaseReport[];
  signal: { count: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number };
  resultsSent: number;
  retries: number;
  retryReasons: Record<string, number>;
  agentErrors: { index: number; systemId: string | null; error: string }[];
  requests: Record<string, number>;
  signals: Record<string, number>;
  /** system_id of every machine, by index. */
  systemIds: (string | null)[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A bound on machines talking at once. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** A machine's power as its BMC sees it, with the agent booting once a slot is free. */
class SimulatedNode {
  private pending = false;
  constructor(
    readonly agent: SimulatedAgent,
    private readonly slots: Slots,
  ) {}

  get state(): 'on' | 'off' {
    return this.pending ? 'on' : this.agent.state;
  }

  powerOn(systemId: string | null): void {
    if (this.state === 'on') return;
    this.pending = true;
    void this.slots.take().then(async () => {
      if (!this.pending) return this.slots.give();
      this.pending = false;
      this.agent.powerOn(systemId);
      try {
        await this.agent.settled();
      } finally {
        this.slots.give();
      }
    });
  }

  powerOff(): void {
    this.pending = false;
    this.agent.powerOff();
  }
}

export class Simulation {
  readonly machines: SimulatedMachine[];
  readonly nodes: SimulatedNode[];
  readonly transport: Transport;
  readonly bmc: SimulatedBmcServer;
  readonly seed: number;
  readonly errors: { index: number; systemId: string | null; error: string }[] = [];
  private readonly api: KilnApiClient | null;

  constructor(private readonly opts: SimulationOptions) {
    this.seed = opts.seed ?? randomBytes(2).readUInt16BE(0);
    this.transport = new Transport({ maxSockets: opts.maxSockets ?? 256, retryDelaysS: opts.retryDelaysS });
    this.api = opts.apiKey ? new KilnApiClient(this.transport, opts.regionUrl, opts.apiKey) : null;
    this.bmc = new SimulatedBmcServer((i) => this.nodes[i], randomBytes(16).toString('hex'), opts.bmcHost ?? '127.0.0.1');
    const slots = new Slots(opts.concurrency ?? opts.machines);
    const [lo, hi] = opts.scriptMs ?? [50, 250];
    const [bootLo, bootHi] = opts.bootMs ?? [1000, 3000];
    const [installLo, installHi] = opts.installMs ?? [2000, 4000];
    this.machines = Array.from({ length: opts.machines }, (_, i) => simulatedMachine(this.seed, i, opts.hostnamePrefix ?? 'sim'));
    this.nodes = this.machines.map(
      (m) =>
        new SimulatedNode(
          new SimulatedAgent({
            machine: m,
            transport: this.transport,
            metadataUrl: opts.metadataUrl,
            heartbeatMs: opts.heartbeatMs ?? 120_000,
            scriptMs: () => lo + Math.random() * (hi - lo),
            bootMs: () => bootLo + Math.random() * (bootHi - bootLo),
            // Enlisting machines report no BMC: Kiln takes webhook URLs only from an administrator,
            // who sets each machine's emulated BMC before commissioning it.
            bmc: () => null,
            failScripts: opts.failScripts?.get(m.index),
            installMs: () => installLo + Math.random() * (installHi - installLo),
            onEvent: (e) => this.onEvent(e),
          }),
          slots,
        ),
    );
  }

  private onEvent(e: AgentEvent): void {
    if (e.type === 'error') {
      this.errors.push({ index: e.index, systemId: e.systemId, error: e.error });
      this.opts.progress?.(`machine ${e.index}${e.systemId ? ` (${e.systemId})` : ''}: ${e.error}`);
    }
  }

  get stats(): TrafficStats {
    return this.transport.stats;
  }

  async run(): Promise<SimulationReport> {
    await this.bmc.start(this.nodes.length);
    const phases: PhaseReport[] = [];
    try {
      const mode = this.opts.mode;
      const deploy = mode === 'enlist-commission-deploy';
      if (mode === 'enlist' || mode === 'enlist-commission' || deploy) phases.push(await this.enlistPhase());
      if (mode === 'commission') phases.push(await this.addAndCommissionPhase());
      if (mode === 'enlist-commission' || deploy) phases.push(await this.commissionEnlistedPhase());
      if (deploy) {
        const deployed = await this.deployPhase();
        phases.push(deployed.report);
        phases.push(await this.releasePhase(deployed.ids));
      }
    } finally {
      for (const n of this.nodes) n.powerOff();
      await Promise.all(this.nodes.map((n) => n.agent.settled()));
      await this.bmc.stop();
      this.transport.close();
    }
    return this.report(phases);
  }

  report(phases: PhaseReport[]): SimulationReport {
    const s = [...this.stats.signalMs].sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      mode: this.opts.mode,
      machines: this.machines.length,
      seed: this.seed,
      bmc: this.bmc.url,
      phases,
      signal: { count: s.length, p50Ms: round(percentile(s, 50)), p90Ms: round(percentile(s, 90)), p99Ms: round(percentile(s, 99)), maxMs: round(s.length ? s[s.length - 1] : 0) },
      resultsSent: this.stats.resultsSent,
      retries: this.stats.retries,
      retryReasons: Object.fromEntries(this.stats.retryReasons),
      agentErrors: this.errors,
      requests: Object.fromEntries([...this.stats.requests].sort()),
      signals: Object.fromEntries([...this.stats.signals].sort()),
      systemIds: this.nodes.map((n) => n.agent.systemId),
    };
  }

  private requireApi(): KilnApiClient {
    if (!this.api) throw new Error(`mode ${this.opts.mode} needs an API key (--api-key)`);
    return this.api;
  }

  /** Unknown machines power on (someone pressed the button) and enlist; they end New. */
  private async enlistPhase(): Promise<PhaseReport> {
    this.opts.progress?.(`enlisting ${this.nodes.length} machines`);
    const t0 = performance.now();
    for (const n of this.nodes) n.powerOn(null);
    // Until every machine has its system_id and its conversation ended.
    await this.until(() => this.nodes.every((n) => n.state === 'off' || n.agent.lastError !== null), 'enlistment');
    const wait = await this.waitStatus('New', t0, this.nodes.map((n) => n.agent.systemId));
    return { phase: 'enlist', target: 'New', of: this.nodes.length, ...wait };
  }

  /** The operator adds every machine with its BMC; Kiln commissions them at once. */
  private async addAndCommissionPhase(): Promise<PhaseReport> {
    const api = this.requireApi();
    this.opts.progress?.(`adding ${this.nodes.length} machines with webhook BMCs`);
    const t0 = performance.now();
    await this.eachLimited(this.machines, 16, async (m) => {
      const created = await api.createMachine({
        hostname: m.hostname,
        architecture: `${m.architecture}/generic`,
        macs: m.nics.map((n) => n.mac),
        powerType: 'webhook',
        powerParameters: this.bmc.powerParameters(m.index),
        commission: !this.opts.commissionParams,
      });
      this.nodes[m.index].agent.systemId = created.system_id;
      if (this.opts.commissionParams) await api.commission(created.system_id, this.opts.commissionParams);
    });
    const wait = await this.waitStatus('Ready', t0, this.nodes.map((n) => n.agent.systemId));
    return { phase: 'commission', target: 'Ready', of: this.nodes.length, ...wait };
  }

  /** The operator commissions every enlisted machine. */
  private async commissionEnlistedPhase(): Promise<PhaseReport> {
    const api = this.requireApi();
    const ids = this.nodes.map((n) => n.agent.systemId);
    this.opts.progress?.(`commissioning ${ids.filter(Boolean).length} enlisted machines`);
    if (!ids.some(Boolean)) return { phase: 'commission', target: 'Ready', of: 0, wallMs: 0, reached: 0, elsewhere: { '(not enlisted)': ids.length } };
    const t0 = performance.now();
    await this.eachLimited([...ids.entries()], 16, async ([i, sid]) => {
      if (!sid) return;
      await api.setPower(sid, 'webhook', this.bmc.powerParameters(i));
      await api.commission(sid, this.opts.commissionParams ?? []);
    });
    const enlisted = ids.filter((x): x is string => !!x);
    const wait = await this.waitStatus('Ready', t0, enlisted);
    return { phase: 'commission', target: 'Ready', of: enlisted.length, ...wait };
  }

  /** The operator allocates every Ready machine of the fleet (by system_id) and deploys it. */
  private async deployPhase(): Promise<{ report: PhaseReport; ids: string[] }> {
    const api = this.requireApi();
    const mine = new Set(this.nodes.map((n) => n.agent.systemId).filter((x): x is string => !!x));
    const ready = (await api.machines()).filter((m) => mine.has(m.system_id) && m.status_name === 'Ready').map((m) => m.system_id);
    const series = this.opts.deploySeries ?? 'debian/bookworm';
    for (const arch of new Set(this.machines.map((m) => `${m.architecture}/generic`))) {
      if (await api.hasDeployableImage(series, arch)) continue;
      this.opts.progress?.(`uploading a stand-in root tarball for ${series} ${arch}`);
      await api.uploadImage(series, arch, 'simulated', Buffer.from(`kiln simulate: stand-in root tarball of ${series}\n`));
    }
    this.opts.progress?.(`allocating and deploying ${ready.length} Ready machines (${series})`);
    if (!ready.length) return { report: { phase: 'deploy', target: 'Deployed', of: 0, wallMs: 0, reached: 0, elsewhere: {} }, ids: [] };
    const t0 = performance.now();
    const taken: string[] = [];
    await this.eachLimited(ready, 16, async (sid) => {
      try {
        await api.allocate([['system_id', sid]]);
        taken.push(sid);
        await api.deploy(sid, [['distro_series', series]]);
      } catch (e) {
        this.errors.push({ index: this.nodes.findIndex((n) => n.agent.systemId === sid), systemId: sid, error: (e as Error).message });
      }
    });
    const wait = await this.waitStatus('Deployed', t0, ready);
    return { report: { phase: 'deploy', target: 'Deployed', of: ready.length, ...wait }, ids: taken };
  }

  /** The operator releases every machine it took (plain release: Kiln powers it off). */
  private async releasePhase(ids: string[]): Promise<PhaseReport> {
    const api = this.requireApi();
    this.opts.progress?.(`releasing ${ids.length} machines`);
    if (!ids.length) return { phase: 'release', target: 'Ready', of: 0, wallMs: 0, reached: 0, elsewhere: {} };
    const t0 = performance.now();
    await this.eachLimited(ids, 16, async (sid) => {
      try {
        await api.release(sid);
      } catch (e) {
        this.errors.push({ index: this.nodes.findIndex((n) => n.agent.systemId === sid), systemId: sid, error: (e as Error).message });
      }
    });
    const wait = await this.waitStatus('Ready', t0, ids);
    return { phase: 'release', target: 'Ready', of: ids.length, ...wait };
  }

  private async eachLimited<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) await fn(items[next++]);
      }),
    );
  }

  private async until(done: () => boolean, what: string): Promise<void> {
    const deadline = performance.now() + (this.opts.timeoutMs ?? 900_000);
    while (!done()) {
      if (performance.now() > deadline) {
        this.opts.progress?.(`${what}: timed out`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Polls the machine list until every machine is in `target` (or its agent gave up, or time is up). */
  private async waitStatus(target: string, t0: number, ids: (string | null)[]): Promise<Omit<PhaseReport, 'phase' | 'target' | 'of'>> {
    const api = this.api;
    const wanted = new Set(ids.filter((x): x is string => !!x));
    const deadline = t0 + (this.opts.timeoutMs ?? 900_000);
    let last: MachineSummary[] = [];
    let lastLine = '';
    let doneAt = 0;
    for (;;) {
      const reached = api ? ((last = (await api.machines()).filter((m) => wanted.has(m.system_id))), last.filter((m) => m.status_name === target).length) : this.nodes.filter((n) => n.state === 'off').length;
      if (!doneAt && reached === ids.length) doneAt = performance.now();
      // Machines that will not get there by themselves: failed, or their agent gave up.
      const failed = last.filter((m) => m.status_name !== target && /^Failed|^Broken/.test(m.status_name)).length;
      const idle = this.nodes.every((n) => n.state === 'off' || n.agent.lastError !== null);
      const stuck = idle && reached + Math.max(failed, this.errors.length) >= ids.length;
      const line = `${target}: ${reached}/${ids.length}${failed ? `, ${failed} failed` : ''}`;
      if (line !== lastLine) this.opts.progress?.(`${line} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      lastLine = line;
      if (doneAt || performance.now() > deadline || (stuck && reached < ids.length)) {
        const elsewhere: Record<string, number> = {};
        for (const m of last) if (m.status_name !== target) elsewhere[m.status_name] = (elsewhere[m.status_name] ?? 0) + 1;
        const missing = ids.length - (api ? last.length : ids.length);
        if (missing > 0) elsewhere['(not found)'] = missing;
        return { wallMs: Math.round((doneAt || performance.now()) - t0), reached, elsewhere };
      }
      // The full machine list each time: every 2 s for large fleets, to keep the poll's own load small.
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? (ids.length > 200 ? 2000 : 1000)));
    }
  }
}
