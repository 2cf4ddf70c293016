// Port: where the DHCP server reports what happened to leases and boot steps. The region records
// each one as the machine's IP and as a machine event (issue 3 items 3 and 7). The production
// adapter publishes to JetStream (durably, with retries, outside the packet path); tests and
// benchmarks use the in-memory sink below.

export type LeaseEventType =
  /** An address was offered (boot step: "DHCP offer"). */
  | 'offer'
  /** An address was bound or renewed (boot step: "DHCP ack"). */
  | 'ack'
  /** A request was refused (wrong subnet, address taken, no record). */
  | 'nak'
  /** The client gave the address back. */
  | 'release'
  /** The client found the address in use on the wire; it is held out of the pool for a while. */
  | 'decline'
  /** A bound lease ran out without renewal. */
  | 'expire';

export interface LeaseEvent {
  type: LeaseEventType;
  /** Epoch milliseconds. */
  at: number;
  /** Client hardware address, "52:54:00:77:00:00". */
  mac: string;
  /** The address concerned ("0.0.0.0" for a NAK with nothing to offer). */
  ip: string;
  subnetId: string;
  /** Rack interface the request arrived on, for directly attached clients. */
  interface?: string;
  /** The relay's giaddr, for relayed clients. */
  relayAddress?: string;
  hostname?: string;
  /** Option 93's first code (RFC 4578), when the client sent one. */
  clientArch?: number;
  /** Readable arch name, e.g. "EFI_X86_64_BC". */
  clientArchName?: string;
  /** Option 77 classes, e.g. ["iPXE"]. */
  userClass?: string[];
  /** Option 60. */
  vendorClass?: string;
  /** Boot file or script URL sent with an offer/ack. */
  bootFile?: string;
  /** Lease length for ack, in seconds. */
  leaseSeconds?: number;
  /** Epoch milliseconds when the lease (or the decline probation) ends. */
  expiresAt?: number;
  /** Transaction id of the request that caused the event. */
  xid?: number;
  /** NAK / DECLINE text. */
  message?: string;
}

export interface LeaseEventSink {
  /**
   * Must not block or throw: called on the packet path. An adapter that talks to the network
   * queues the event and delivers it in the background.
   */
  publish(event: LeaseEvent): void;
}

/** Keeps events in memory (bounded), for tests and benchmarks. */
export class InMemoryLeaseEventSink implements LeaseEventSink {
  readonly events: LeaseEvent[] = [];
  /** Every event ever published, including those the bound dropped. */
  published = 0;
  private readonly listeners = new Set<(e: LeaseEvent) => void>();

  constructor(private readonly capacity = 100_000) {}

  publish(event: LeaseEvent): void {
    this.published++;
    if (this.events.length >= this.capacity) this.events.shift();
    this.events.push(event);
    for (const l of this.listeners) l(event);
  }

  /** Events of one type, optionally for one MAC. */
  ofType(type: LeaseEventType, mac?: string): LeaseEvent[] {
    return this.events.filter((e) => e.type === type && (mac === undefined || e.mac === mac));
  }

  onEvent(listener: (e: LeaseEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    this.events.length = 0;
  }
}

/** Counts and forgets: for benchmarks that want the cost of building events but not memory. */
export class CountingLeaseEventSink implements LeaseEventSink {
  readonly counts: Partial<Record<LeaseEventType, number>> = {};
  publish(event: LeaseEvent): void {
    this.counts[event.type] = (this.counts[event.type] ?? 0) + 1;
  }
}
