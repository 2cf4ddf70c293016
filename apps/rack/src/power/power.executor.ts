import {
  ControlDeps,
  PowerCommand,
  PowerDrivers,
  PowerError,
  PowerPolicy,
  PowerResult,
  PowerRunner,
  PowerState,
  PreparedCommand,
  isPowerError,
  realDeps,
} from '@kiln/power';
import { KeyedSerializer, QueueFullError, Semaphore } from './concurrency.limiter';

/**
 * The rack's power executor: runs power commands with libs/power's drivers under a per-rack cap
 * on concurrent BMC calls (IPMI is UDP and drops packets when a rack storms its BMCs), with
 * jitter on queries so that a polling round does not fire every BMC at the same instant, and
 * with changes to one BMC serialised (an on and an off must not interleave).
 *
 * The cap counts BMC calls (one tool run, one HTTP request), not whole commands: a command
 * waiting between verification queries holds no slot.
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
  policy: Partial<PowerPolicy>;
}

export const DEFAULT_EXECUTOR_CONFIG: PowerExecutorConfig = {
  maxConcurrent: 32,
  maxQueued: 10_000,
  jitterMs: 500,
  defaultBudgetMs: 120_000,
  policy: {},
};

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
    const prepared = this.runner.prepare(command);
    return this.withBudget(opts.budgetMs, async (signal) => {
      if (command.action.kind === 'query') {
        await this.jitter(opts.jitterMs ?? this.config.jitterMs, signal);
        return this.run(prepared, signal);
      }
      return this.changes.run(prepared.bmcKey, () => this.run(prepared, signal));
    });
  }

  /** One polling round: every BMC queried, under the cap, starts spread over `spreadMs`. */
  async queryBatch(items: readonly BatchItem[], opts: { spreadMs?: number; budgetMs?: number } = {}): Promise<BatchItemResult[]> {
    const spread = opts.spreadMs ?? this.config.jitterMs;
    return Promise.all(
      items.map(async (item): Promise<BatchItemResult> => {
        const started = this.deps.now();
        try {
          const r = await this.execute(
            { powerType: item.powerType, params: item.params, action: { kind: 'query' }, systemId: item.systemId },
            { budgetMs: opts.budgetMs, jitterMs: spread },
          );
          return { systemId: item.systemId, ok: true, state: r.state, elapsedMs: this.deps.now() - started };
        } catch (e) {
          if (e instanceof RackBusyError) return { systemId: item.systemId, ok: false, error: new PowerError('BMC_BUSY', e.message) };
          return { systemId: item.systemId, ok: false, error: isPowerError(e) ? e : new PowerError('BMC_ERROR', String(e)) };
        }
      }),
    );
  }

  private async run(prepared: PreparedCommand, signal: AbortSignal): Promise<PowerResult> {
    try {
      return await this.runner.run(prepared, { signal, gate: (call) => this.slots.run(call, signal) });
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

