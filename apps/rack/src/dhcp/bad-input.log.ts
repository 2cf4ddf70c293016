// "Count per kind, log once per kind with rate limiting": the first occurrence of a kind is
// logged at once with its details; after that at most one line per kind per interval, carrying
// how many were suppressed. A flood of garbage therefore costs a counter increment per packet.
import type { Logger } from 'pino';

interface KindState {
  total: number;
  suppressed: number;
  lastLogAt: number;
}

export class RateLimitedLog {
  private readonly kinds = new Map<string, KindState>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one `kind`; logs at `level` unless this kind already logged within the interval. */
  note(kind: string, level: 'warn' | 'info' | 'debug' | 'error', fields: () => Record<string, unknown>, msg: string): void {
    let k = this.kinds.get(kind);
    if (!k) {
      k = { total: 0, suppressed: 0, lastLogAt: -Infinity };
      this.kinds.set(kind, k);
    }
    k.total++;
    const now = this.now();
    if (now - k.lastLogAt < this.intervalMs) {
      k.suppressed++;
      return;
    }
    const suppressed = k.suppressed;
    k.suppressed = 0;
    k.lastLogAt = now;
    if (!this.log.isLevelEnabled(level)) return;
    this.log[level]({ kind, total: k.total, suppressedSinceLast: suppressed, ...fields() }, msg);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [kind, k] of this.kinds) out[kind] = k.total;
    return out;
  }

  count(kind: string): number {
    return this.kinds.get(kind)?.total ?? 0;
  }
}
