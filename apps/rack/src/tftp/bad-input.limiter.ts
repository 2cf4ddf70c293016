// Bad input never stops a protocol server (STYLE habit 10, issue 3 "Bad input"): each kind is
// counted, logged the first time it is seen and then at most once per interval per kind (with the
// number suppressed meanwhile), and answers to bad input are rate-limited so the server cannot
// be used as a reflector.
import type { Logger } from 'pino';

export interface BadInputOptions {
  /** Minimum time between two log lines of the same kind. Default 60 s. */
  intervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class BadInputLog {
  private readonly counts = new Map<string, number>();
  private readonly lastLog = new Map<string, { at: number; count: number }>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    opts: BadInputOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Counts one occurrence of `kind`; logs it unless this kind was logged within the interval. */
  note(kind: string, details: Record<string, unknown>, message = 'bad input'): void {
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    const now = this.now();
    const last = this.lastLog.get(kind);
    if (last && now - last.at < this.intervalMs) return;
    const suppressed = last ? count - last.count - 1 : 0;
    this.lastLog.set(kind, { at: now, count });
    this.log.warn({ kind, count, suppressed, ...details }, message);
  }

  count(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** A token bucket: `take()` is true while the rate allows one more reply. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.at = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
