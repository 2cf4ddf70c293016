import type { CommandJournal } from './command.journal';

export interface OnceOptions<T> {
  /** Called when the command is answered from memory. */
  onRepeat?: () => void;
  /**
   * What to do with a command this rack started before it last stopped, without knowing whether
   * it took effect (default: run it again). A power cycle, say, must not reboot a machine twice.
   */
  interrupted?: () => Promise<T>;
}

/**
 * What a rack did under each command id, for a while. A region that repeats a command (its job was
 * redelivered, it died before recording the answer, it retried after a timeout) gets the first
 * outcome back instead of the BMC being driven twice; a repeat that arrives while the first is
 * still running waits for it. Failures are not remembered: the region may retry them. With a
 * journal, the memory survives a restart of the rack.
 */
export class CommandMemory<T> {
  private readonly entries = new Map<string, { outcome: Promise<T>; at: number }>();
  private readonly interrupted = new Map<string, number>();

  constructor(
    private readonly ttlMs = 15 * 60_000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
    private readonly journal: CommandJournal<T> | null = null,
  ) {
    if (journal) {
      const state = journal.load(now());
      for (const [k, e] of [...state.done].sort((a, b) => a[1].at - b[1].at)) this.entries.set(k, { outcome: Promise.resolve(e.outcome), at: e.at });
      for (const [k, at] of state.interrupted) this.interrupted.set(k, at);
    }
  }

  /** Runs `act` once per key within the memory's lifetime; repeats share its outcome. */
  once(key: string, act: () => Promise<T>, opts: OnceOptions<T> = {}): Promise<T> {
    this.expire();
    const known = this.entries.get(key);
    if (known) {
      opts.onRepeat?.();
      return known.outcome;
    }
    const at = this.now();
    const wasInterrupted = this.interrupted.delete(key);
    this.record(() => this.journal?.started(key, at));
    const outcome = wasInterrupted && opts.interrupted ? opts.interrupted() : act();
    this.entries.set(key, { outcome, at });
    outcome.then(
      (o) => this.record(() => this.journal?.done(key, at, o)),
      () => {
        this.entries.delete(key);
        this.record(() => this.journal?.failed(key, at));
      },
    );
    return outcome;
  }

  /** A journal that cannot be written costs the memory across restarts, never the command. */
  private record(write: () => void): void {
    try {
      write();
    } catch {
      // The in-memory entry still answers repeats until the rack restarts.
    }
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
    for (const [k, at] of this.interrupted) if (at < oldest) this.interrupted.delete(k);
  }
}
