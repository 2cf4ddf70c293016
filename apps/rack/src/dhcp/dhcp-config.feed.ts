import { join } from 'node:path';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'nats';
import { applyDhcpUpdate, DhcpConfigUpdate, DhcpSnapshot, dhcpSnapshot, DhcpUpdate, GetDhcpConfig, isContractError } from '@kiln/contracts';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { log } from '../logging/logger';
import { RackNatsConnection } from '../nats/rack-nats.connection';
import { RACK_IDENTITY, RackIdentity } from '../registration/rack.identity';
import { readFileIfExists, writeFileAtomic } from '../registration/state.files';

export type DhcpConfigListener = (snapshot: DhcpSnapshot, update: DhcpUpdate | null) => void;

/**
 * The DHCP configuration this rack serves, kept current from the region: a snapshot at start and
 * after any gap, then the incremental updates the region pushes. It is saved under the state
 * directory, so a restarted rack serves its last configuration even if the region is away.
 *
 * This is the adapter the DHCP server is handed: `current()` for the configuration now, and
 * `onChange()` for every change (with the update that caused it, or null after a full snapshot).
 */
@Injectable()
export class DhcpConfigFeed implements OnModuleDestroy {
  private snap: DhcpSnapshot;
  private readonly listeners = new Set<DhcpConfigListener>();
  private sub: Subscription | null = null;
  private refreshing: Promise<void> | null = null;
  /** Updates that arrive while a snapshot is being fetched, applied on top of it. */
  private pending: DhcpUpdate[] = [];
  private persisting = Promise.resolve();

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(RACK_IDENTITY) private readonly identity: RackIdentity,
    private readonly nats: RackNatsConnection,
  ) {
    this.snap = { rackId: identity.rackId, revision: 0, subnets: [] };
  }

  private get path() {
    return join(this.config.stateDir, 'dhcp-config.json');
  }

  /** Loads the last saved configuration (call before serving). */
  async load(): Promise<void> {
    const text = await readFileIfExists(this.path);
    if (!text) return;
    const parsed = dhcpSnapshot.safeParse(JSON.parse(text));
    if (parsed.success && parsed.data.rackId === this.identity.rackId) {
      this.snap = parsed.data;
      log().info({ revision: this.snap.revision, subnets: this.snap.subnets.length }, 'dhcp configuration loaded from disk');
    } else {
      log().warn('saved dhcp configuration ignored: unreadable or another rack\'s');
    }
  }

  current(): DhcpSnapshot {
    return this.snap;
  }

  get revision(): number {
    return this.snap.revision;
  }

  onChange(listener: DhcpConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to pushed updates (once: NATS keeps subscriptions across reconnects). */
  listen(): void {
    const bus = this.nats.maybeBus();
    if (this.sub || !bus) return;
    this.sub = bus.onPush(DhcpConfigUpdate, [this.identity.rackId], (u) => this.apply(u));
  }

  apply(u: DhcpUpdate): void {
    if (u.rackId !== this.identity.rackId) return;
    if (this.refreshing) {
      this.pending.push(u);
      return;
    }
    const r = applyDhcpUpdate(this.snap, u);
    switch (r.kind) {
      case 'applied':
        this.set(r.snapshot, u);
        log().info({ revision: u.revision, ops: u.ops.length }, 'dhcp update applied');
        return;
      case 'stale':
        log().debug({ revision: u.revision, have: this.snap.revision }, 'dhcp update already applied');
        return;
      case 'gap':
        log().warn({ base: u.baseRevision, have: this.snap.revision }, 'gap in dhcp updates; fetching a snapshot');
        void this.refresh();
        return;
    }
  }

  /** Fetches a full snapshot (single flight). Failures leave the current configuration in place. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const snap = await this.nats.bus().request(GetDhcpConfig, [this.identity.rackId], { rackId: this.identity.rackId });
        const queued = this.pending.sort((a, b) => a.revision - b.revision);
        this.pending = [];
        let next = snap;
        for (const u of queued) {
          const r = applyDhcpUpdate(next, u);
          if (r.kind === 'applied') next = r.snapshot;
        }
        this.set(next, null);
        log().info({ revision: next.revision, subnets: next.subnets.length }, 'dhcp snapshot applied');
      } catch (e) {
        this.pending = [];
        log().warn({ err: isContractError(e) ? { code: e.code, message: e.message } : e }, 'could not fetch the dhcp snapshot; keeping the current one');
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private set(snap: DhcpSnapshot, update: DhcpUpdate | null) {
    this.snap = snap;
    const text = JSON.stringify(snap);
    this.persisting = this.persisting
      .then(() => writeFileAtomic(this.path, text))
      .catch((err) => log().warn({ err }, 'could not save the dhcp configuration'));
    for (const l of this.listeners) {
      try {
        l(snap, update);
      } catch (err) {
        log().error({ err }, 'dhcp configuration listener failed');
      }
    }
  }

  async onModuleDestroy() {
    this.sub?.unsubscribe();
    this.sub = null;
    await this.refreshing;
    await this.persisting;
  }
}
