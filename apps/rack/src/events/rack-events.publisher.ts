import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { BootEvents, isContractError, LeaseEvents, MessageIn, NeighbourEvents, NeighbourSighting, RACK_EVENTS_STREAM } from '@kiln/contracts';
import { log } from '../logging/logger';
import { RackNatsConnection } from '../nats/rack-nats.connection';
import { RACK_IDENTITY, RackIdentity } from '../registration/rack.identity';

type Lease = MessageIn<typeof LeaseEvents>;
type Boot = MessageIn<typeof BootEvents>;
export type LeaseFact = Omit<Lease, 'eventId' | 'rackId' | 'at'> & { at?: string };
export type BootFact = Omit<Boot, 'eventId' | 'rackId' | 'at'> & { at?: string };

type Neighbours = MessageIn<typeof NeighbourEvents>;

type Queued = { kind: 'lease'; message: Lease } | { kind: 'boot'; message: Boot } | { kind: 'neighbours'; message: Neighbours };

const MAX_QUEUED = 100_000;
const RETRY_MAX_MS = 10_000;

/**
 * Sends lease, boot and neighbour events to the region through JetStream, at least once: each event gets an
 * id (the JetStream message id, and the region's idempotency key), waits in a queue while NATS or
 * the stream is unavailable, and is retried until JetStream acks it. Callers never wait.
 * (The queue is in memory: events of a rack that dies before NATS is back are lost; leases
 * themselves are durable in the DHCP server's own store.)
 */
@Injectable()
export class RackEventsPublisher implements OnModuleDestroy {
  private readonly queue: Queued[] = [];
  private flushing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = 100;
  private stopped = false;
  private dropped = 0;

  constructor(
    @Inject(RACK_IDENTITY) private readonly identity: RackIdentity,
    private readonly nats: RackNatsConnection,
  ) {
    nats.onConnected(() => this.kick());
  }

  lease(fact: LeaseFact): string {
    const eventId = randomUUID();
    this.enqueue({ kind: 'lease', message: { ...fact, eventId, rackId: this.identity.rackId, at: fact.at ?? new Date().toISOString() } });
    return eventId;
  }

  boot(fact: BootFact): string {
    const eventId = randomUUID();
    this.enqueue({ kind: 'boot', message: { ...fact, eventId, rackId: this.identity.rackId, at: fact.at ?? new Date().toISOString() } });
    return eventId;
  }

  /** One batch of hosts seen by ARP (at most MAX_NEIGHBOURS_PER_EVENT sightings). */
  neighbours(sightings: NeighbourSighting[]): string {
    const eventId = randomUUID();
    this.enqueue({ kind: 'neighbours', message: { eventId, rackId: this.identity.rackId, at: new Date().toISOString(), source: 'arp', neighbours: sightings } });
    return eventId;
  }

  /** Events not yet acked by JetStream. */
  get backlog(): number {
    return this.queue.length;
  }

  private enqueue(q: Queued) {
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.shift();
      if (this.dropped++ % 1000 === 0) log().error({ dropped: this.dropped, stream: RACK_EVENTS_STREAM }, 'event backlog full; dropping the oldest');
    }
    this.queue.push(q);
    this.kick();
  }

  private kick() {
    if (this.stopped || this.flushing || this.retryTimer) return;
    this.flushing = this.flush().finally(() => (this.flushing = null));
  }

  private async flush(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const next = this.queue[0];
      try {
        const bus = this.nats.bus();
        if (next.kind === 'lease') await bus.publishDurable(LeaseEvents, [this.identity.rackId], next.message);
        else if (next.kind === 'boot') await bus.publishDurable(BootEvents, [this.identity.rackId], next.message);
        else await bus.publishDurable(NeighbourEvents, [this.identity.rackId], next.message);
        this.queue.shift();
        this.retryMs = 100;
      } catch (e) {
        log().debug({ code: isContractError(e) ? e.code : 'INTERNAL', backlog: this.queue.length, retryInMs: this.retryMs }, 'event publish failed; will retry');
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.kick();
        }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        return;
      }
    }
  }

  async onModuleDestroy() {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.flushing;
    if (this.queue.length) log().warn({ backlog: this.queue.length }, 'rack stopping with unsent events');
  }
}
