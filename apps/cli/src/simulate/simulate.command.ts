/**
 * `kiln simulate`: options parsed once, the simulation run, its report printed (a human summary on
 * stderr while it runs, the report as JSON on stdout with --json).
 */
import { parseApiKey, Simulation, SIMULATION_MODES, SimulationMode, SimulationOptions, SimulationReport } from '@kiln/simulator';

export class SimulateUsageError extends Error {}

export const SIMULATE_USAGE = `kiln simulate [options]      simulated machines (an emulated BMC + an agent each) against a region and a rack
  --machines N                   how many (default 10)
  --mode M                       enlist | commission | enlist-commission | enlist-commission-deploy
                                 (default commission; the last one then allocates, deploys and releases)
  --region URL                   the region (default http://127.0.0.1:5240)
  --rack URL                     the rack whose proxy machines use for metadata (default: the region's host on :5248)
  --api-key KEY                  an administrator's API key (commission modes)
  --heartbeat S                  seconds between the agents' WORKING heartbeats (default 120, as the runner)
  --script-ms MIN[-MAX]          simulated runtime of each script (default 50-250)
  --boot-ms MIN[-MAX]            simulated time from power on to the first request (default 1000-3000)
  --concurrency N                most machines talking at once (default: all)
  --max-sockets N                most HTTP connections at once (default 256)
  --timeout S                    give up waiting for a phase after S seconds (default 900)
  --seed N                       fleet seed (MACs, serials, hostnames; default random)
  --bmc-host ADDR                address the emulated BMCs listen on (default 127.0.0.1)
  --testing-scripts LIST         passed to commission (e.g. none)
  --deploy-series S              the release deployed (default debian/bookworm; a stand-in image is uploaded if missing)
  --install-ms MIN[-MAX]         simulated time the installer takes to write the image (default 2000-4000)
  --json                         print the report as JSON on stdout
`;

export interface SimulateArgs {
  machines?: string;
  mode?: string;
  region?: string;
  rack?: string;
  'api-key'?: string;
  heartbeat?: string;
  'script-ms'?: string;
  'boot-ms'?: string;
  concurrency?: string;
  'max-sockets'?: string;
  timeout?: string;
  seed?: string;
  'bmc-host'?: string;
  'testing-scripts'?: string;
  'deploy-series'?: string;
  'install-ms'?: string;
}

export const SIMULATE_OPTIONS = {
  machines: { type: 'string' },
  mode: { type: 'string' },
  region: { type: 'string' },
  rack: { type: 'string' },
  'api-key': { type: 'string' },
  heartbeat: { type: 'string' },
  'script-ms': { type: 'string' },
  'boot-ms': { type: 'string' },
  concurrency: { type: 'string' },
  'max-sockets': { type: 'string' },
  timeout: { type: 'string' },
  seed: { type: 'string' },
  'bmc-host': { type: 'string' },
  'testing-scripts': { type: 'string' },
  'deploy-series': { type: 'string' },
  'install-ms': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function int(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new SimulateUsageError(`--${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function url(name: string, raw: string): string {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    return raw.replace(/\/+$/, '');
  } catch {
    throw new SimulateUsageError(`--${name} must be an http(s) URL, got "${raw}"`);
  }
}

/** The options of `kiln simulate`, checked; `progress` gets the lines printed while it runs. */
export function simulateOptions(a: SimulateArgs, progress: (line: string) => void): SimulationOptions {
  const mode = (a.mode ?? 'commission') as SimulationMode;
  if (!SIMULATION_MODES.includes(mode)) throw new SimulateUsageError(`--mode must be ${SIMULATION_MODES.join(', ')}, got "${a.mode}"`);
  const regionUrl = url('region', a.region ?? 'http://127.0.0.1:5240');
  const rackUrl = a.rack ? url('rack', a.rack) : `${new URL(regionUrl).protocol}//${new URL(regionUrl).hostname}:5248`;
  const range = (name: 'script-ms' | 'boot-ms' | 'install-ms', dflt: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(a[name] ?? dflt);
    if (!m || Number(m[2] ?? m[1]) < Number(m[1])) throw new SimulateUsageError(`--${name} must be MIN or MIN-MAX milliseconds, got "${a[name]}"`);
    return [Number(m[1]), Number(m[2] ?? m[1])];
  };
  let apiKey = null;
  if (a['api-key']) {
    try {
      apiKey = parseApiKey(a['api-key']);
    } catch (e) {
      throw new SimulateUsageError(`--api-key: ${(e as Error).message}`);
    }
  } else if (mode !== 'enlist') {
    throw new SimulateUsageError(`--mode ${mode} needs --api-key (an administrator's key, from kiln apikey)`);
  }
  const machines = int('machines', a.machines, 10, 1, 100_000);
  return {
    machines,
    mode,
    regionUrl,
    metadataUrl: `${rackUrl}/MAAS/metadata/`,
    apiKey,
    seed: a.seed === undefined ? undefined : int('seed', a.seed, 0, 0, 0xffff),
    heartbeatMs: int('heartbeat', a.heartbeat, 120, 1, 86_400) * 1000,
    scriptMs: range('script-ms', '50-250'),
    bootMs: range('boot-ms', '1000-3000'),
    installMs: range('install-ms', '2000-4000'),
    ...(a['deploy-series'] ? { deploySeries: a['deploy-series'] } : {}),
    concurrency: int('concurrency', a.concurrency, machines, 1, 100_000),
    maxSockets: int('max-sockets', a['max-sockets'], 256, 1, 10_000),
    timeoutMs: int('timeout', a.timeout, 900, 1, 86_400) * 1000,
    bmcHost: a['bmc-host'] ?? '127.0.0.1',
    progress,
    ...(a['testing-scripts'] !== undefined ? { commissionParams: [['testing_scripts', a['testing-scripts']]] as [string, string][] } : {}),
  };
}

export function formatReport(r: SimulationReport): string {
  const lines = [`kiln simulate: ${r.machines} machines, mode ${r.mode}, fleet seed ${r.seed}, BMCs at ${r.bmc}`];
  for (const p of r.phases) {
    const rest = Object.entries(p.elsewhere).map(([k, v]) => `${v} ${k}`);
    lines.push(`  ${p.phase}: ${p.reached}/${p.of} ${p.target} in ${(p.wallMs / 1000).toFixed(1)} s${rest.length ? ` (not there: ${rest.join(', ')})` : ''}`);
  }
  lines.push(`  signal: ${r.signal.count} answered 200, p50 ${r.signal.p50Ms} ms, p90 ${r.signal.p90Ms} ms, p99 ${r.signal.p99Ms} ms, max ${r.signal.maxMs} ms`);
  lines.push(`  script results sent: ${r.resultsSent}; requests retried: ${r.retries}${r.retries ? ` ${JSON.stringify(r.retryReasons)}` : ''}; agents that gave up: ${r.agentErrors.length}`);
  for (const e of r.agentErrors.slice(0, 10)) lines.push(`    machine ${e.index}${e.systemId ? ` (${e.systemId})` : ''}: ${e.error}`);
  return `${lines.join('\n')}\n`;
}

export async function simulate(a: SimulateArgs, progress: (line: string) => void): Promise<SimulationReport> {
  return new Simulation(simulateOptions(a, progress)).run();
}
