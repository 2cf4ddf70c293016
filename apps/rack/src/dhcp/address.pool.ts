// One dynamic range's addresses and what each is doing, with O(1) allocation.
//
// Every address has a state byte. Free addresses are found without scanning:
// - a cursor walks the never-used addresses once, front to back (each address is passed over at
//   most once in the pool's lifetime, so this is amortised O(1));
// - addresses that were used and came back (released, expired, declined and cleared) sit in a
//   FIFO free list, so the address a client held longest ago is reused first and a returning
//   client usually still finds its old address (RFC 2131 4.3.1);
// - offered addresses sit in a FIFO offer list. Offers are soft: when nothing else is free, the
//   oldest offer is taken back. A flood of DISCOVERs from made-up MACs therefore only ever holds
//   offers, and cannot starve a real client of an address.
// Both lists are doubly linked through two Int32Arrays, so removing any address (a client asks for
// a specific one, a reservation appears) is O(1) too. Memory: 9 bytes per address in the range.

export const enum AddrState {
  /** Never handed out since the pool was built; found by the cursor. */
  UNTOUCHED = 0,
  /** In the free list. */
  FREE = 1,
  /** In the offer list. */
  OFFERED = 2,
  BOUND = 3,
  /** Reserved for one MAC by configuration; never allocated to anyone else. */
  RESERVED = 4,
  /** A client said the address is in use (DHCPDECLINE); held out until its probation ends. */
  DECLINED = 5,
}

const NONE = -1;
const FREE_LIST = 0;
const OFFER_LIST = 1;

export class AddressPool {
  private readonly state: Uint8Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly head = [NONE, NONE];
  private readonly tail = [NONE, NONE];
  private readonly length = [0, 0];
  private cursor = 0;

  /** First and last address (inclusive) as numbers. */
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    if (!(end >= start)) throw new RangeError('AddressPool: end before start');
    const size = end - start + 1;
    this.state = new Uint8Array(size);
    this.next = new Int32Array(size).fill(NONE);
    this.prev = new Int32Array(size).fill(NONE);
  }

  get size(): number {
    return this.state.length;
  }

  contains(ip: number): boolean {
    return ip >= this.start && ip <= this.end;
  }

  stateOf(ip: number): AddrState {
    return this.state[ip - this.start] as AddrState;
  }

  /** Addresses that can be handed out without taking back an offer. */
  get freeCount(): number {
    return this.size - this.cursor + this.length[FREE_LIST] - this.untouchedTakenAhead;
  }

  get offeredCount(): number {
    return this.length[OFFER_LIST];
  }

  /** The address offered longest ago (head of the offer list), or -1. */
  oldestOffer(): number {
    const i = this.head[OFFER_LIST];
    return i === NONE ? NONE : this.start + i;
  }

  /** UNTOUCHED addresses ahead of the cursor that were set directly (not via the cursor). */
  private untouchedTakenAhead = 0;

  /**
   * The next address to hand out, or -1 when every address is bound, reserved or declined.
   * Does not change its state: the caller decides (offer or bind) with `set`. When the result is
   * an OFFERED address, the caller is taking an offer back from another client.
   */
  pick(): number {
    while (this.cursor < this.state.length) {
      if (this.state[this.cursor] === AddrState.UNTOUCHED) return this.start + this.cursor;
      this.cursor++;
      this.untouchedTakenAhead--;
    }
    if (this.head[FREE_LIST] !== NONE) return this.start + this.head[FREE_LIST];
    if (this.head[OFFER_LIST] !== NONE) return this.start + this.head[OFFER_LIST];
    return NONE;
  }

  /**
   * Moves `ip` to `to`. FREE appends it to the free list's tail, OFFERED to the offer list's tail
   * (so re-offering an address makes it the newest offer). O(1).
   */
  set(ip: number, to: AddrState): void {
    const i = ip - this.start;
    const from = this.state[i] as AddrState;
    if (from === AddrState.FREE) this.unlink(FREE_LIST, i);
    else if (from === AddrState.OFFERED) this.unlink(OFFER_LIST, i);
    else if (from === AddrState.UNTOUCHED) {
      if (i >= this.cursor) {
        if (i === this.cursor) this.cursor++;
        else this.untouchedTakenAhead++;
      }
    }
    if (to === AddrState.UNTOUCHED) throw new RangeError('AddressPool.set: an address cannot become untouched again');
    this.state[i] = to;
    if (to === AddrState.FREE) this.append(FREE_LIST, i);
    else if (to === AddrState.OFFERED) this.append(OFFER_LIST, i);
  }

  private append(list: number, i: number): void {
    const t = this.tail[list];
    this.prev[i] = t;
    this.next[i] = NONE;
    if (t === NONE) this.head[list] = i;
    else this.next[t] = i;
    this.tail[list] = i;
    this.length[list]++;
  }

  private unlink(list: number, i: number): void {
    const p = this.prev[i];
    const n = this.next[i];
    if (p === NONE) this.head[list] = n;
    else this.next[p] = n;
    if (n === NONE) this.tail[list] = p;
    else this.prev[n] = p;
    this.prev[i] = NONE;
    this.next[i] = NONE;
    this.length[list]--;
  }
}
