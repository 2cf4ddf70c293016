// Wires Server(listener, handler(source)) together: the lease store opened from its journal, the
// handler over the config snapshot, the UDP listener on the configured interfaces, and the
// server loop. The rack's Nest module (owned by the rack core) calls `startDhcp` with its NATS
// adapters for the three ports; tests and the benchmark call it with the in-memory fakes.
import type { Logger } from 'pino';
import { BootDecisionSource } from '../boot/boot-decision.port';
import { DhcpConfig, DhcpConfigSource } from './dhcp-config.port';
import { DhcpHandler } from './dhcp.handler';
import { DhcpListener, UdpListener, UdpListenerOptions } from './dhcp.listener';
import { DhcpServer } from './dhcp.server';
import { LeaseEventSink } from './lease-events.port';
import { FsyncPolicy } from './lease.journal';
import { LeaseStore } from './lease.store';
import { intToIp } from './ipv4.util';
import { warmUpDhcp } from './dhcp.warmup';

export interface StartDhcpOptions {
  config: DhcpConfigSource;
  boot: BootDecisionSource;
  events: LeaseEventSink;
  log: Logger;
  /** Lease journal path (on the rack's local disk). */
  leaseFile: string;
  fsync?: FsyncPolicy;
  /** Listener settings beyond the interfaces (which come from the config). */
  listener?: Omit<UdpListenerOptions, 'interfaces'>;
  /** Replace the UDP listener (tests with in-memory datagrams). */
  customListener?: DhcpListener;
  sweepIntervalMs?: number;
  badInputLogIntervalMs?: number;
  /**
   * Synthetic exchanges run through the code before the sockets open, so the JIT has optimised
   * the packet path when the first real client arrives (dhcp.warmup.ts). Default 8000 (~0.3 s);
   * tests pass 0.
   */
  warmUp?: number;
}

export interface RunningDhcp {
  server: DhcpServer;
  handler: DhcpHandler;
  store: LeaseStore;
  stop(): Promise<void>;
}

export async function startDhcp(opts: StartDhcpOptions): Promise<RunningDhcp> {
  const log = opts.log.child({ component: 'dhcp' });
  const warmUp = opts.warmUp ?? 8000;
  if (warmUp > 0) log.info({ exchanges: warmUp, ms: await warmUpDhcp(warmUp) }, 'dhcp code path warmed up');
  const config = opts.config.current();
  const store = LeaseStore.open(
    {
      file: opts.leaseFile,
      fsync: opts.fsync,
      onError: (err) => log.error({ err: err.message }, 'dhcp lease journal fdatasync failed'),
    },
    DhcpHandler.poolSpecs(config),
  );
  const loaded = store.stats();
  log.info({ leases: loaded.leases, bound: loaded.bound, records: loaded.loadedRecords, bad: loaded.badJournalLines }, 'dhcp leases loaded');
  const handler = new DhcpHandler(config, { store, boot: opts.boot });
  const now = Date.now();
  for (const l of store.takeExpiredOnLoad()) {
    opts.events.publish({ type: 'expire', at: now, mac: l.mac, ip: intToIp(l.ip), subnetId: l.subnetId, hostname: l.hostname, expiresAt: l.expiresAt });
  }
  const listener = opts.customListener ?? new UdpListener({ ...opts.listener, interfaces: servedInterfaces(config) });
  const server = new DhcpServer({
    listener,
    handler,
    store,
    events: opts.events,
    log,
    sweepIntervalMs: opts.sweepIntervalMs,
    badInputLogIntervalMs: opts.badInputLogIntervalMs,
  });
  // Sockets follow the configuration (DHCP turned on or off for a subnet on one of the rack's
  // interfaces), one change after the other, once the server runs.
  let running = false;
  let sockets = Promise.resolve();
  const followInterfaces = (next: DhcpConfig) => {
    sockets = sockets.then(async () => {
      const before = listener.interfaces;
      const wanted = servedInterfaces(next);
      if (wanted.length === before.length && wanted.every((i) => before.includes(i))) return;
      try {
        await listener.setInterfaces(wanted);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'dhcp could not serve every configured interface');
      }
      const now = listener.interfaces;
      log.info(
        { interfaces: now, added: now.filter((i) => !before.includes(i)), removed: before.filter((i) => !now.includes(i)) },
        'dhcp interfaces changed',
      );
    });
  };
  const unsubscribe = opts.config.subscribe((next) => {
    handler.configure(next);
    log.info({ subnets: next.subnets.length }, 'dhcp config applied');
    if (running) followInterfaces(next);
  });
  try {
    await server.start();
  } catch (err) {
    unsubscribe();
    store.close();
    throw err;
  }
  running = true;
  // A change that came while the sockets were opening.
  followInterfaces(opts.config.current());
  return {
    server,
    handler,
    store,
    async stop() {
      unsubscribe();
      await sockets;
      await server.stop();
    },
  };
}

/** The interfaces with a directly attached subnet to serve (relayed subnets have none). */
export function servedInterfaces(config: DhcpConfig): string[] {
  return [...new Set(config.subnets.map((s) => s.interface).filter((i): i is string => i !== undefined))];
}
