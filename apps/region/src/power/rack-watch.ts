import { PowerQueryBatch } from '@kiln/contracts';
import type { ContractBus } from '@kiln/contracts/nats';

export interface RackWatchOptions {
  /** How often the rack is asked whether it is still there while a command runs. */
  everyMs: number;
  /** How long one such question may take. */
  timeoutMs: number;
  /** Unanswered questions in a row (timeouts) before the rack counts as gone. */
  misses: number;
}

export const RACK_WATCH_DEFAULTS: RackWatchOptions = { everyMs: 1000, timeoutMs: 2000, misses: 2 };

/** The rack went away while a command was in flight. */
export class RackGoneError extends Error {
  constructor(readonly rackId: string, reason: string) {
    super(`rack ${rackId} stopped answering while the command ran (${reason})`);
  }
}

/**
 * Waits for `work` (a long power command on `rackId`) while checking that the rack is still
 * there: an empty query batch on the rack's own power subject, answered at once without touching
 * a BMC. A rack that stopped (NATS has no responder for its subject) ends the wait at once; one
 * that stops answering ends it after `misses` timeouts; so a command on a gone rack fails in
 * seconds, not at the end of its BMC budget.
 */
export async function whileRackAnswers<T>(bus: ContractBus, rackId: string, work: Promise<T>, opts: RackWatchOptions = RACK_WATCH_DEFAULTS): Promise<T> {
  let timer: NodeJS.Timeout | null = null;
  let done = false;
  let missed = 0;
  const gone = new Promise<never>((_, reject) => {
    const ask = async () => {
      if (done) return;
      try {
        await bus.request(PowerQueryBatch, [rackId], { items: [] }, { timeoutMs: opts.timeoutMs });
        missed = 0;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'UNAVAILABLE') return reject(new RackGoneError(rackId, 'nothing answers its subject'));
        if (code === 'TIMEOUT' && ++missed >= opts.misses) return reject(new RackGoneError(rackId, `${missed} liveness checks unanswered`));
      }
      if (!done) timer = setTimeout(() => void ask(), opts.everyMs);
    };
    timer = setTimeout(() => void ask(), opts.everyMs);
  });
  gone.catch(() => undefined);
  try {
    return await Promise.race([work, gone]);
  } finally {
    done = true;
    if (timer) clearTimeout(timer);
  }
}
