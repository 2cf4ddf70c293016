// Runs the rack's DHCP server alone, from a JSON config file, with the in-memory boot decisions
// (MAAS file names) and a counting event sink. For the lab and the benchmark, where the server
// runs inside a network namespace:
//   ip netns exec NS node -r ./tools/register.js apps/rack/src/dhcp/dhcp.cli.ts \
//      --config cfg.json --lease-file leases.journal [--log-file dhcp.log] [--log-level info]
//      [--fsync interval|always|never]
// Prints "ready" on stdout once listening; SIGTERM/SIGINT stop it cleanly and print its stats.
import pino from 'pino';
import * as fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { InMemoryBootDecisions } from '../boot/boot-decision.port';
import { DhcpConfig, InMemoryDhcpConfigSource } from './dhcp-config.port';
import { startDhcp } from './dhcp.runtime';
import { CountingLeaseEventSink } from './lease-events.port';
import { FsyncPolicy } from './lease.journal';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback !== undefined) return fallback;
  throw new Error(`missing --${name}`);
}

async function main(): Promise<void> {
  const config = JSON.parse(fs.readFileSync(arg('config'), 'utf8')) as DhcpConfig;
  const logFile = arg('log-file', '');
  const log = pino(
    { level: arg('log-level', 'info'), base: { service: 'kiln-rack' } },
    logFile ? pino.destination({ dest: logFile, sync: false, minLength: 4096 }) : pino.destination(2),
  );
  const events = new CountingLeaseEventSink();
  const running = await startDhcp({
    config: new InMemoryDhcpConfigSource(config),
    boot: new InMemoryBootDecisions(),
    events,
    log,
    leaseFile: arg('lease-file'),
    fsync: arg('fsync', 'interval') as FsyncPolicy,
    listener: { port: Number(arg('port', '67')) },
  });
  // Event-loop stalls delay every reply behind them; reported on exit (ms).
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  process.stdout.write('ready\n');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const stats = running.server.stats();
    await running.stop();
    log.flush();
    const eventLoopMs = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    process.stdout.write(JSON.stringify({ stats, events: events.counts, store: running.store.stats(), eventLoopMs }) + '\n');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err) => {
  process.stderr.write(`dhcp: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
