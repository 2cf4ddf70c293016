import { connect, NatsConnection, nkeyAuthenticator } from 'nats';
import { ContractError, MessageVerifier, rackInboxPrefix } from '@kiln/contracts';
import { BusLogger, ContractBus } from '@kiln/contracts/nats';
import type { RackConfig } from '../config/rack.config';
import { busContext, log } from '../logging/logger';

const busLogger: BusLogger = {
  debug: (o, m) => log().debug(o, m),
  warn: (o, m) => log().warn(o, m),
  error: (o, m) => log().error(o, m),
};

/** Why a rack that pinned no region key does not connect to NATS (it would act on anyone's messages). */
export const NOT_ENROLLED =
  'no region signing key is pinned, so this rack does not connect to NATS: enroll this rack: set KILN_RACK_ENROLL_TOKEN (with KILN_REGION_URL), or pin the key with KILN_REGION_SIGNING_KEY';

/**
 * The region keys a rack checks every message it acts on against: the ones it pinned at enrollment
 * and those of KILN_REGION_SIGNING_KEY. null when there are none: the rack must not act at all.
 */
export function regionVerifier(config: Pick<RackConfig, 'nats'>, identity?: { regionSigningKey?: string | null }): MessageVerifier | null {
  const keys = [...config.nats.regionSigningKeys, ...(identity?.regionSigningKey ? [identity.regionSigningKey] : [])];
  return keys.length ? new MessageVerifier(keys) : null;
}

/**
 * The rack's NATS connection. Unlike the region, the rack starts without it: DHCP, TFTP and HTTP
 * must serve from cache while NATS or the region is away. It connects in the background, retries
 * forever, and tells listeners about every (re)connection so that the rack re-registers.
 */
export class RackNatsConnection {
  private nc: NatsConnection | null = null;
  private bus_: ContractBus | null = null;
  private up = false;
  private closed = false;
  private readonly listeners: (() => void)[] = [];

  /**
   * Checks region signatures on everything the rack acts on (requests, pushes, replies). null only
   * when no region key is pinned, and then the rack never connects (`refusal` says why).
   */
  readonly verifier: MessageVerifier | null;
  readonly refusal: string | null;

  constructor(
    private readonly config: RackConfig,
    private readonly identity?: { rackId: string; nkeySeed: Uint8Array; regionSigningKey?: string | null },
  ) {
    this.verifier = regionVerifier(config, identity);
    this.refusal = this.verifier ? null : NOT_ENROLLED;
  }

  /** Starts connecting; resolves at once. A rack without a pinned region key never connects. */
  start(): void {
    const verifier = this.verifier;
    if (!verifier) {
      // DHCP, TFTP and HTTP keep serving from what is cached; nothing from the bus is trusted.
      log().error({ code: 'NOT_ENROLLED' }, NOT_ENROLLED);
      return;
    }
    void connect({
      servers: this.config.nats.url,
      name: `kiln-rack@${this.config.hostname}`,
      // The rack's own nkey; its replies come under its own inbox prefix, the only one it may read.
      ...(this.identity
        ? { authenticator: nkeyAuthenticator(this.identity.nkeySeed), inboxPrefix: rackInboxPrefix(this.config.nats.prefix, this.identity.rackId) }
        : {}),
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    })
      .then((nc) => {
        if (this.closed) return nc.close();
        this.nc = nc;
        this.bus_ = new ContractBus(nc, {
          prefix: this.config.nats.prefix,
          timeoutMs: this.config.nats.requestTimeoutMs,
          log: busLogger,
          verifier,
          context: busContext,
        });
        this.up = true;
        log().info({ nats: this.config.nats.url }, 'connected to nats');
        this.emit();
        void this.watch(nc);
      })
      .catch((err) => log().error({ err }, 'nats connection failed for good'));
  }

  private async watch(nc: NatsConnection) {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.up = false;
        log().warn('nats connection lost; serving from cache');
      } else if (s.type === 'reconnect') {
        this.up = true;
        log().info('nats connection back');
        this.emit();
      }
    }
  }

  private emit() {
    for (const l of this.listeners) {
      try {
        l();
      } catch (err) {
        log().error({ err }, 'nats connect listener failed');
      }
    }
  }

  /** Called after the first connection and after every reconnection. */
  onConnected(listener: () => void): void {
    this.listeners.push(listener);
    if (this.up) listener();
  }

  get connected(): boolean {
    return this.up && this.nc !== null && !this.nc.isClosed();
  }

  /** The bus, or UNAVAILABLE at once while disconnected (callers fall back instead of waiting). */
  bus(): ContractBus {
    if (this.refusal) throw new ContractError('UNAVAILABLE', this.refusal);
    if (!this.connected || !this.bus_) throw new ContractError('UNAVAILABLE', 'not connected to NATS');
    return this.bus_;
  }

  /** The bus even while disconnected (subscriptions survive reconnects), or null before the first connection. */
  maybeBus(): ContractBus | null {
    return this.bus_;
  }

  /** Drops and re-establishes the connection (operators' "reconnect"; tests use it to exercise recovery). */
  async reconnect(): Promise<void> {
    await this.nc?.reconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc?.close());
  }
}
