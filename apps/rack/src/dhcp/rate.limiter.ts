// Per-key token buckets with a bounded table: each key (a client MAC) may send `burst` packets at
// once and `perSecond` on average. The table is two generations of Maps: keys go into the young
// one; when it holds half the budget, it becomes the old one and the previous old one is dropped
// whole. A key seen again is moved to the young generation. So a flood of made-up MACs costs
// bounded memory, and every lookup stays O(1) (no LRU walk over a Map's deleted entries, which
// is O(deletions) in V8 until the table is rehashed).

interface Bucket {
  tokens: number;
  at: number;
}

export class KeyedRateLimiter {
  private young = new Map<string, Bucket>();
  private old = new Map<string, Bucket>();
  /** Packets refused since the start. */
  refused = 0;

  constructor(
    private burst: number,
    private perSecond: number,
    private readonly maxKeys = 65_536,
  ) {}

  setRate(burst: number, perSecond: number): void {
    this.burst = burst;
    this.perSecond = perSecond;
  }

  /** Takes one token for `key` at time `now` (ms); false when the key is over its budget. */
  take(key: string, now: number): boolean {
    let b = this.young.get(key);
    if (!b) {
      b = this.old.get(key);
      if (b) this.old.delete(key);
      else b = { tokens: this.burst, at: now };
      if (this.young.size >= this.maxKeys >> 1) {
        this.old = this.young;
        this.young = new Map();
      }
      this.young.set(key, b);
    }
    const elapsed = now - b.at;
    if (elapsed > 0) {
      b.tokens = Math.min(this.burst, b.tokens + (elapsed * this.perSecond) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) {
      this.refused++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  /** Keys tracked (at most maxKeys). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
