import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { isContractError, PROTOCOL_VERSION, RackHeartbeat, RegisterRack, ReportRackInterfaces, type RackInterface } from '@kiln/contracts';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { log } from '../logging/logger';
import { RackNatsConnection } from '../nats/rack-nats.connection';
import { probePowerTools } from '../power/power-tools.probe';
import { DhcpConfigFeed } from '../dhcp/dhcp-config.feed';
import { discoverInterfaces } from './interfaces.discovery';
import { RACK_IDENTITY, RackIdentity } from './rack.identity';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;

export type RegistrationState = 'unregistered' | 'registering' | 'registered';

/**
 * Registers the rack with a region at start and after every NATS reconnect, then heartbeats at the
 * interval the region asks for. A heartbeat answered UNKNOWN_RACK registers again; one that shows
 * the region's DHCP revision ahead of ours fetches a snapshot.
 */
@Injectable()
export class RegistrationService implements OnApplicationBootstrap, OnModuleDestroy {
  state: RegistrationState = 'unregistered';
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private interfacesTimer: NodeJS.Timeout | null = null;
  /** What the region was last told (at registration or by ReportRackInterfaces); a re-read that differs is reported. */
  private reported: string | null = null;
  private reporting = false;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Ends the current backoff wait early (a reconnection is a reason to try at once). */
  private wake: (() => void) | null = null;
  private intervalMs = 10_000;
  private registering: Promise<void> | null = null;
  private stopped = false;
  private heartbeatFailing = false;
  private readonly startedAt = Date.now();

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(RACK_IDENTITY) private readonly identity: RackIdentity,
    private readonly nats: RackNatsConnection,
    private readonly dhcp: DhcpConfigFeed,
  ) {}

  onApplicationBootstrap() {
    this.nats.onConnected(() => {
      this.dhcp.listen();
      void this.register();
    });
  }

  onModuleDestroy() {
    this.stopped = true;
    this.clearTimers();
    this.wake?.();
  }

  private clearTimers() {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.interfacesTimer) clearInterval(this.interfacesTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.heartbeatTimer = this.retryTimer = this.interfacesTimer = null;
  }

  /** Registers (single flight), retrying with backoff until it works or the rack stops. */
  register(): Promise<void> {
    if (this.registering) {
      this.wake?.();
      return this.registering;
    }
    this.registering = this.registerLoop().finally(() => (this.registering = null));
    return this.registering;
  }

  private async registerLoop(): Promise<void> {
    this.clearTimers();
    this.state = 'registering';
    let delay = RETRY_MIN_MS;
    while (!this.stopped) {
      try {
        const powerUnavailable = probePowerTools();
        if (Object.keys(powerUnavailable).length) log().warn({ powerUnavailable }, 'this rack cannot drive some power types: install the missing tools');
        const interfaces = discoverInterfaces(this.config.interfaces);
        const reply = await this.nats.bus().request(RegisterRack, [this.identity.rackId], {
          rackId: this.identity.rackId,
          hostname: this.identity.hostname,
          boxPublicKey: this.identity.box.publicKey,
          version: this.config.version,
          architecture: debianArch(process.arch),
          interfaces,
          protocol: PROTOCOL_VERSION,
          // The power types this rack cannot drive (a driver's tool is missing): the region sends them elsewhere.
          powerUnavailable,
        });
        if (this.stopped) return;
        this.state = 'registered';
        this.intervalMs = reply.heartbeatIntervalMs;
        log().info({ heartbeatIntervalMs: this.intervalMs, dhcpRevision: reply.dhcpRevision }, 'registered with the region');
        this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.intervalMs);
        this.reported = JSON.stringify(interfaces);
        this.interfacesTimer = setInterval(() => void this.reportInterfaces(), this.config.interfacesPollMs);
        await this.dhcp.refresh();
        return;
      } catch (e) {
        const code = isContractError(e) ? e.code : 'INTERNAL';
        // A refused registration does not fix itself quickly: say so loudly and retry slowly.
        if (code === 'AUTH_FAILED') delay = RETRY_MAX_MS;
        log()[code === 'AUTH_FAILED' ? 'error' : 'warn']({ code, err: isContractError(e) ? e.message : e, retryInMs: delay }, 'registration failed');
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.retryTimer = setTimeout(resolve, delay);
        });
        this.wake = null;
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = null;
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /**
   * Re-reads the rack's interfaces and, when they differ from what the region was last told (an
   * address added or removed, a VLAN interface created...), reports them. A failed report is
   * retried at the next re-read.
   */
  async reportInterfaces(read: () => RackInterface[] = () => discoverInterfaces(this.config.interfaces)): Promise<boolean> {
    if (this.stopped || this.state !== 'registered' || this.reporting) return false;
    const interfaces = read();
    const now = JSON.stringify(interfaces);
    if (now === this.reported) return false;
    this.reporting = true;
    try {
      await this.nats.bus().request(ReportRackInterfaces, [this.identity.rackId], { rackId: this.identity.rackId, interfaces });
      this.reported = now;
      log().info({ interfaces: interfaces.map((i) => ({ name: i.name, addresses: i.addresses })) }, 'interfaces changed; reported to the region');
      return true;
    } catch (e) {
      if (isContractError(e, 'UNKNOWN_RACK')) {
        void this.register();
        return false;
      }
      log().warn({ code: isContractError(e) ? e.code : 'INTERNAL' }, 'reporting changed interfaces failed; retrying at the next re-read');
      return false;
    } finally {
      this.reporting = false;
    }
  }

  async heartbeat(): Promise<void> {
    if (this.stopped || this.state !== 'registered') return;
    try {
      const reply = await this.nats.bus().request(RackHeartbeat, [this.identity.rackId], {
        rackId: this.identity.rackId,
        dhcpRevision: this.dhcp.revision,
        uptimeMs: Date.now() - this.startedAt,
      });
      if (this.heartbeatFailing) log().info('heartbeats answered again');
      this.heartbeatFailing = false;
      if (reply.dhcpRevision !== this.dhcp.revision) {
        log().info({ region: reply.dhcpRevision, rack: this.dhcp.revision }, 'dhcp revision differs from the region; fetching a snapshot');
        void this.dhcp.refresh();
      }
      if (reply.heartbeatIntervalMs !== this.intervalMs && this.heartbeatTimer) {
        clearInterval(this.heartbeatTimer);
        this.intervalMs = reply.heartbeatIntervalMs;
        this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.intervalMs);
      }
    } catch (e) {
      if (isContractError(e, 'UNKNOWN_RACK')) {
        log().warn('the region does not know this rack; registering again');
        void this.register();
        return;
      }
      if (!this.heartbeatFailing) log().warn({ code: isContractError(e) ? e.code : 'INTERNAL' }, 'heartbeat failed');
      this.heartbeatFailing = true;
    }
  }
}

/** Node's process.arch as a Debian architecture. */
export function debianArch(arch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}
