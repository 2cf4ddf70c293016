/**
 * What a rack did under each command id, for a while. A region that repeats a command (its job was
 * redelivered, it died before recording the answer, it retried after a timeout) gets the first
 * outcome back instead of the BMC being driven twice; a repeat that arrives while the first is
 * still running waits for it. Failures are not remembered: the region may retry them.
 */
export class CommandMemory<T> {
  private readonly entries = new Map<string, { outcome: Promise<T>; at: number }>();

  constructor(
    private readonly ttlMs = 15 * 60_000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `act` once per key within the memory's lifetime; repeats share its outcome. */
  once(key: string, act: () => Promise<T>, onRepeat?: () => void): Promise<T> {
    this.expire();
    const known = this.entries.get(key);
    if (known) {
      onRepeat?.();
      return known.outcome;
    }
    const outcome = act();
    this.entries.set(key, { outcome, at: this.now() });
    outcome.catch(() => this.entries.delete(key));
    return outcome;
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [k, e] of this.entries) {
      // Maps iterate in insertion order: the first young entry ends the scan.
      if (e.at >= oldest && this.entries.size < this.max) break;
      this.entries.delete(k);
    }
  }
}
