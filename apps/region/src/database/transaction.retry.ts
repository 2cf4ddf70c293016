import { RETRYABLE_STATES, sqlState } from './sql-state';
import { log } from '../logging/logger';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  /** Upper bound of the first back-off; it doubles with each retry (full jitter). */
  baseDelayMs?: number;
}

/**
 * Runs `work` (one whole transaction) again when Postgres aborted it for a deadlock (40P01) or a
 * serialization failure (40001): both mean "another transaction got there first, try again", and
 * the client should never see them. Bounded, with random back-off so the contenders spread out.
 */
export async function retryOnConflict<T>(work: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  const base = opts.baseDelayMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      const state = sqlState(e);
      if (state === undefined || !RETRYABLE_STATES.has(state) || attempt >= attempts) throw e;
      const delay = Math.random() * base * 2 ** (attempt - 1);
      log().info({ sqlState: state, attempt, delayMs: Math.round(delay) }, 'transaction conflict; retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
