/**
 * A counting semaphore with a bounded FIFO queue: at most `limit` holders, at most `maxQueued`
 * waiters (beyond that `acquire` fails at once with QueueFullError, so a flood of commands is
 * refused rather than buffered without end). Waiters leave the queue when their signal aborts.
 */
export class QueueFullError extends Error {
  constructor(limit: number) {
    super(`more than ${limit} BMC calls are waiting on this rack`);
    this.name = 'QueueFullError';
  }
}

interface Waiter {
  grant: () => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class Semaphore {
  private active = 0;
  private readonly waiters: Waiter[] = [];
  /** Highest number of simultaneous holders seen (tests and benchmarks read it). */
  peak = 0;

  constructor(
    readonly limit: number,
    readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {
    if (!(limit >= 1)) throw new Error('a semaphore needs a limit of at least 1');
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limit) {
      this.take();
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxQueued) return Promise.reject(new QueueFullError(this.maxQueued));
    return new Promise((resolve, reject) => {
      const w: Waiter = { grant: resolve, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) {
      // The slot passes straight to the next waiter: `active` stays the same.
      if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
      next.grant();
      return;
    }
    this.active--;
  }

  private take(): void {
    this.active++;
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
