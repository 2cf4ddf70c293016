import {
  BatchCall,
  BatchEntry,
  BatchMember,
  ControlDeps,
  PowerCommand,
  PowerDrivers,
  PowerError,
  PowerPolicy,
  PowerResult,
  PowerRunner,
  PowerState,
  PreparedCommand,
  QueryManyAnswer,
  asPowerError,
  isPowerError,
  planBatchCalls,
  realDeps,
} from '@kiln/power/drivers';
import { KeyedSerializer, QueueFullError, Semaphore } from './concurrency.limiter';

/**
 * The rack's power executor: runs power commands with libs/power's drivers under a per-rack cap
 * on concurrent BMC calls (IPMI is UDP and drops packets when a rack storms its BMCs), with
 * jitter on queries so that a polling round does not fire every BMC at the same instant, and
 * with changes to one BMC serialised (an on and an off must not interleave).
 *
 * The cap counts BMC calls (one tool run, one HTTP request), not whole commands: a command
 * waiting between verification queries holds no slot.
 *
 * A polling round (`queryBatch`) asks BMCs that a driver can query together in one call
 * (ipmi through freeipmi: one `ipmipower -h a,b,c --stat` for every BMC with the same options
 * and credentials, as freeipmi is made to be used on clusters), at most `maxBatch` BMCs a call.
 * Such a call is one process but as many IPMI sessions as it has BMCs, so it holds a weighted
 * slot: one slot per `bmcsPerSlot` BMCs, rounded up (128 BMCs: 8 of the 32 slots). The cap so
 * still bounds the IPMI sessions a rack has open at once (maxConcurrent × bmcsPerSlot through
 * batch calls, 512 by default, against maxConcurrent one at a time), which is what keeps a
 * rack from storming its BMCs, while the processes it starts for a round drop from one per BMC
 * to one per call: a process costs the rack far more than a session (about 40 ms of CPU for an
 * ipmipower run started from the rack, against about 1 ms per host within a run).
 *
 * BMCs whose answer in a batch call is a retryable failure are retried alone, through the same
 * per-BMC path as any query, the call counting as their first attempt; fatal answers stand as
 * they are, with the BMC's words; BMCs a call never got to are asked alone from the start.
 */
export interface PowerExecutorConfig {
  /** Simultaneous BMC calls on this rack. */
  maxConcurrent: number;
  /** BMC calls allowed to wait for a slot; beyond that commands are refused (RACK_BUSY). */
  maxQueued: number;
  /** A query waits a uniformly random [0, jitterMs) before it asks for a slot. */
  jitterMs: number;
  /** Default time a command may take when the request sets none. */
  defaultBudgetMs: number;
  /** Most BMCs one batch query call asks (1: every BMC is asked alone). */
  maxBatch: number;
  /** BMCs of a batch call that count as one slot of the cap (a call of n holds ceil(n / this)). */
  bmcsPerSlot: number;
  policy: Partial<PowerPolicy>;
}

export const DEFAULT_EXECUTOR_CONFIG: PowerExecutorConfig = {
  maxConcurrent: 32,
  maxQueued: 10_000,
  jitterMs: 500,
  defaultBudgetMs: 120_000,
  maxBatch: 128,
  bmcsPerSlot: 16,
  policy: {},
};

/** An item of a polling round, prepared, with its place in the request. */
interface RoundItem {
  index: number;
  prepared: PreparedCommand;
}

type Outcome = { state: PowerState } | { error: unknown };
type Settle = (index: number, outcome: Outcome) => void;

/** A failure of one item of a polling round, as `BatchItemResult` carries it. */
function batchError(e: unknown): PowerError {
  if (e instanceof RackBusyError || e instanceof QueueFullError) return new PowerError('BMC_BUSY', e.message);
  return isPowerError(e) ? e : new PowerError('BMC_ERROR', String(e));
}

/** The rack has more waiting than it accepts. */
export class RackBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RackBusyError';
  }
}

export type BatchItemResult =
  | { systemId: string; ok: true; state: PowerState; elapsedMs: number }
  | { systemId: string; ok: false; error: PowerError };

export interface BatchItem {
  systemId: string;
  powerType: string;
  params: Readonly<Record<string, string>>;
}

export class PowerExecutor {
  readonly config: PowerExecutorConfig;
  readonly slots: Semaphore;
  private readonly runner: PowerRunner;
  private readonly changes = new KeyedSerializer();

  constructor(
    drivers: PowerDrivers,
    config: Partial<PowerExecutorConfig> = {},
    private readonly deps: ControlDeps = realDeps,
  ) {
    this.config = { ...DEFAULT_EXECUTOR_CONFIG, ...config };
    this.runner = new PowerRunner(drivers, this.config.policy, deps);
    this.slots = new Semaphore(this.config.maxConcurrent, this.config.maxQueued);
  }

  get policy(): PowerPolicy {
    return this.runner.policy;
  }

  /**
   * Runs one command. Throws PowerError (with its code, fatal flag and the BMC's words) or
   * RackBusyError.
   */
  async execute(command: PowerCommand, opts: { budgetMs?: number; jitterMs?: number } = {}): Promise<PowerResult> {
    return this.executePrepared(this.runner.prepare(command), opts);
  }

  private executePrepared(prepared: PreparedCommand, opts: { budgetMs?: number; jitterMs?: number }): Promise<PowerResult> {
    return this.withBudget(opts.budgetMs, async (signal) => {
      if (prepared.command.action.kind === 'query') {
        await this.jitter(opts.jitterMs ?? this.config.jitterMs, signal);
        return this.run(prepared, signal);
      }
      return this.changes.run(prepared.bmcKey, () => this.run(prepared, signal));
    });
  }

  /**
   * One polling round: every BMC queried, under the cap, starts spread over `spreadMs`. BMCs a
   * driver can query together go in batch calls (see the class comment); the rest, and BMCs a
   * batch call did not get to, are asked one by one. One result per item, in order.
   */
  async queryBatch(items: readonly BatchItem[], opts: { spreadMs?: number; budgetMs?: number } = {}): Promise<BatchItemResult[]> {
    const spread = opts.spreadMs ?? this.config.jitterMs;
    const started = this.deps.now();
    const results: BatchItemResult[] = new Array(items.length);
    const settle: Settle = (i, outcome) => {
      const { systemId } = items[i];
      results[i] =
        'state' in outcome
          ? { systemId, ok: true, state: outcome.state, elapsedMs: this.deps.now() - started }
          : { systemId, ok: false, error: batchError(outcome.error) };
    };

    const alone: RoundItem[] = [];
    const grouped: BatchEntry<RoundItem>[] = [];
    items.forEach((item, index) => {
      let prepared: PreparedCommand;
      try {
        prepared = this.runner.prepare({ powerType: item.powerType, params: item.params, action: { kind: 'query' }, systemId: item.systemId });
      } catch (error) {
        settle(index, { error });
        return;
      }
      const group = this.config.maxBatch > 1 ? this.runner.queryGroup(prepared) : null;
      if (group) grouped.push({ group: group.key, name: group.name, bmcKey: prepared.bmcKey, item: { index, prepared } });
      else alone.push({ index, prepared });
    });

    const calls = planBatchCalls(grouped, Math.max(1, this.config.maxBatch));
    for (const call of calls) {
      // A call of one BMC gains nothing over asking it alone.
      if (call.members.length === 1) alone.push(...call.members[0].items);
    }
    const askAlone = async ({ index, prepared }: RoundItem) => {
      try {
        settle(index, { state: (await this.executePrepared(prepared, { budgetMs: opts.budgetMs, jitterMs: spread })).state });
      } catch (error) {
        settle(index, { error });
      }
    };
    await Promise.all([
      ...alone.map(askAlone),
      ...calls.filter((c) => c.members.length > 1).map((c) => this.batchCall(c, { spreadMs: spread, budgetMs: opts.budgetMs }, settle)),
    ]);
    return results;
  }

  /**
   * Asks the members of one planned call with the driver's `queryMany` under a weighted slot,
   * then settles every item: a state or a fatal failure as the call answered; a retryable
   * failure through the per-BMC path with the call as its first attempt; a BMC the call did not
   * get to through the per-BMC path from the start. One budget covers the whole of it.
   */
  private batchCall(call: BatchCall<RoundItem>, opts: { spreadMs: number; budgetMs?: number }, settle: Settle): Promise<void> {
    const prepared = call.members.map((m) => m.items[0].prepared);
    const { driver } = prepared[0];
    const settleMember = (m: BatchMember<RoundItem>, outcome: Outcome) => m.items.forEach((it) => settle(it.index, outcome));
    return this.withBudget(opts.budgetMs, async (signal) => {
      let answers: QueryManyAnswer[];
      try {
        if (!driver.queryMany) throw new PowerError('BMC_ERROR', `the ${driver.def.name} driver cannot query BMCs together`);
        const queryMany = driver.queryMany.bind(driver);
        const settings = prepared.map((p) => p.settings);
        const ctx = { signal, timeoutMs: this.policy.callTimeoutMs };
        const weight = Math.ceil(call.members.length / Math.max(1, this.config.bmcsPerSlot));
        await this.jitter(opts.spreadMs, signal);
        answers = await this.slots.run(() => queryMany(settings, ctx).catch((e: unknown) => Promise.reject(asPowerError(e))), signal, weight);
        if (answers.length !== call.members.length) {
          throw new PowerError('BMC_ERROR', `${driver.def.name}: a batch query gave ${answers.length} answers for ${call.members.length} BMCs`);
        }
      } catch (e) {
        // The call as a whole failed (a full queue, the budget, a missing tool): every member did.
        if (e instanceof QueueFullError || !isPowerError(e) || e.fatal || signal.aborted) {
          call.members.forEach((m) => settleMember(m, { error: e }));
          return;
        }
        answers = call.members.map(() => ({ kind: 'failed', error: e }));
      }
      await Promise.all(
        call.members.map(async (m, i) => {
          const a = answers[i];
          if (a.kind === 'state') return settleMember(m, { state: a.state });
          if (a.kind === 'failed' && (a.error.fatal || signal.aborted)) return settleMember(m, { error: a.error });
          try {
            settleMember(m, { state: (await this.run(prepared[i], signal, a.kind === 'failed' ? a.error : undefined)).state });
          } catch (error) {
            settleMember(m, { error });
          }
        }),
      );
    });
  }

  private async run(prepared: PreparedCommand, signal: AbortSignal, firstAttempt?: PowerError): Promise<PowerResult> {
    try {
      return await this.runner.run(prepared, { signal, gate: (call) => this.slots.run(call, signal), firstAttempt });
    } catch (e) {
      if (e instanceof QueueFullError) throw new RackBusyError(e.message);
      throw e;
    }
  }

  private async jitter(maxMs: number, signal: AbortSignal): Promise<void> {
    if (maxMs <= 0) return;
    await this.deps.sleep(Math.floor(this.deps.random() * maxMs), signal);
  }

  private async withBudget<T>(budgetMs: number | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ms = budgetMs ?? this.config.defaultBudgetMs;
    const ac = new AbortController();
    const timer = setTimeout(
      () => ac.abort(new PowerError('BMC_TIMEOUT', `gave up: the ${Math.round(ms / 1000)} s allowed for this power command ran out`)),
      ms,
    );
    try {
      return await fn(ac.signal);
    } finally {
      clearTimeout(timer);
    }
  }
}

