/**
 * A counting semaphore with a bounded FIFO queue: holders take a weight (1 by default) and the
 * weights held never exceed `limit`; at most `maxQueued` waiters (beyond that `acquire` fails at
 * once with QueueFullError, so a flood of commands is refused rather than buffered without end).
 * Waiters are served strictly in order: a heavy waiter at the head waits for enough room, and
 * lighter ones behind it wait too, so no weight starves. A weight above `limit` counts as
 * `limit`. Waiters leave the queue when their signal aborts.
 */
export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`more than ${limit} BMC calls are waiting on this rack`);
    this.name = 'QueueFullError';
  }
}

interface Waiter {
  weight: number;
  grant: () => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class Semaphore {
  private active = 0;
  private readonly waiters: Waiter[] = [];
  /** Highest weight held at once (tests and benchmarks read it). */
  peak = 0;

  constructor(
    readonly limit: number,
    readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {
    if (!(limit >= 1)) throw new Error('a semaphore needs a limit of at least 1');
  }

  /** The weight held now. */
  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal, weight = 1): Promise<T> {
    const w = this.weigh(weight);
    await this.acquire(signal, w);
    try {
      return await fn();
    } finally {
      this.release(w);
    }
  }

  acquire(signal?: AbortSignal, weight = 1): Promise<void> {
    const w = this.weigh(weight);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiters.length === 0 && this.active + w <= this.limit) {
      this.take(w);
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxQueued) return Promise.reject(new QueueFullError(this.maxQueued));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { weight: w, grant: resolve, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
          // A heavy waiter that leaves the head may let lighter ones behind it in.
          if (i === 0) this.drain();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** Gives back a weight taken with `acquire` (the same weight). */
  release(weight = 1): void {
    this.active -= this.weigh(weight);
    this.drain();
  }

  /** Grants waiters from the head of the queue while their weight fits. */
  private drain(): void {
    for (let next = this.waiters[0]; next && this.active + next.weight <= this.limit; next = this.waiters[0]) {
      this.waiters.shift();
      if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
      this.take(next.weight);
      next.grant();
    }
  }

  private weigh(weight: number): number {
    return Math.min(this.limit, Math.max(1, Math.ceil(weight)));
  }

  private take(weight: number): void {
    this.active += weight;
    if (this.active > this.peak) this.peak = this.active;
  }
}

/** Runs tasks for the same key one after another (tasks for different keys run freely). */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  get size(): number {
    return this.tails.size;
  }
}
