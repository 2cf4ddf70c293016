import { PowerError, isPowerError } from './power.errors';
import { PowerPolicy, backoffDelay, jittered } from './power.policy';
import { BootDevice, ChangeOutcome, DriverCallContext, PowerAction, PowerDriver, PowerResult, PowerState } from './power.types';

/**
 * Runs one power command against a driver the same way for every driver: each BMC call is
 * retried on retryable errors with jittered exponential backoff, fatal errors stop at once, and
 * every change is verified by querying until the BMC shows it (or the verification delays run
 * out: NOT_VERIFIED, which catches a BMC that says "ok" and does nothing).
 *
 * Pure apart from the driver: time, randomness and the concurrency gate are injected.
 */
export interface ControlDeps {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
  random(): number;
  /**
   * Wraps every BMC call (not the waits between them), e.g. to hold a slot of the rack's
   * concurrency cap only while a tool runs. Defaults to calling straight through.
   */
  gate?<T>(call: () => Promise<T>): Promise<T>;
}

export const realDeps: ControlDeps = {
  sleep: (ms, signal) => abortableSleep(ms, signal),
  now: () => Date.now(),
  random: () => Math.random(),
};

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal?: AbortSignal): PowerError {
  const reason = signal?.reason;
  if (isPowerError(reason)) return reason;
  return new PowerError('BMC_TIMEOUT', 'gave up: the time allowed for this power command ran out');
}

const VERB: Record<PowerAction['kind'], string> = {
  on: 'power on',
  off: 'power off',
  cycle: 'power cycle',
  query: 'query power state',
  set_boot_device: 'set boot device',
};

/**
 * `firstAttempt` (queries only): the query's first attempt was already made in a batch query and
 * failed with this error; the command goes on with the retries the policy leaves.
 */
export async function runPowerAction<S>(
  driver: PowerDriver<S>,
  settings: S,
  action: PowerAction,
  policy: PowerPolicy,
  deps: ControlDeps = realDeps,
  opts: { signal?: AbortSignal; systemId?: string; firstAttempt?: PowerError } = {},
): Promise<PowerResult> {
  const { signal, systemId, firstAttempt } = opts;
  const started = deps.now();
  let calls = 0;
  const ctx: DriverCallContext = { signal, timeoutMs: policy.callTimeoutMs, systemId };
  const gate = deps.gate ?? (<T>(fn: () => Promise<T>) => fn());

  /**
   * One BMC call, retried on retryable errors. `prior`: the first attempt was already made
   * elsewhere (a batch query) and failed so; the retries follow as if this loop had made it.
   */
  const call = async <T>(what: string, fn: () => Promise<T>, prior?: PowerError): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      let err: PowerError;
      if (attempt === 1 && prior) {
        calls++;
        err = prior;
      } else {
        checkAborted(signal);
        calls++;
        try {
          return await gate(() => wrapped(fn));
        } catch (e) {
          // Only failures of the BMC call are retried; the gate's own (a full queue) pass through.
          if (!isPowerError(e)) throw e;
          err = e;
        }
      }
      if (err.fatal) throw err;
      if (signal?.aborted) throw err;
      if (attempt >= policy.attempts) {
        throw err.withMessage(
          policy.attempts > 1 ? `${what} failed after ${attempt} attempts: ${err.message}` : `${what} failed: ${err.message}`,
        );
      }
      await deps.sleep(backoffDelay(policy, attempt, deps.random), signal);
    }
  };

  const result = (state: PowerState, extra: Partial<PowerResult> = {}): PowerResult => ({
    outcome: 'done',
    state,
    verified: true,
    calls,
    elapsedMs: deps.now() - started,
    ...extra,
  });

  const manual = (o: Extract<ChangeOutcome, { kind: 'manual' }>): PowerResult =>
    result('unknown', { outcome: 'manual', verified: false, message: o.message });

  /** Queries until `want` holds; a retryable query failure uses up one verification step. */
  const verify = async <T>(what: string, read: () => Promise<T>, want: (v: T) => boolean, show: (v: T) => string): Promise<T> => {
    let last: T | undefined;
    let lastErr: PowerError | undefined;
    for (const delay of policy.verifyDelaysMs) {
      await deps.sleep(jittered(delay, policy.jitter, deps.random), signal);
      checkAborted(signal);
      calls++;
      try {
        last = await gate(() => wrapped(read));
        lastErr = undefined;
        if (want(last)) return last;
      } catch (e) {
        if (!isPowerError(e)) throw e;
        const err = e;
        if (err.fatal || signal?.aborted) throw err;
        lastErr = err;
      }
    }
    const waited = policy.verifyDelaysMs.reduce((a, b) => a + b, 0);
    if (lastErr && last === undefined) {
      throw new PowerError(
        'NOT_VERIFIED',
        `${what}: the BMC accepted the command, but every query in the following ${seconds(waited)} failed; last: ${lastErr.message}`,
        lastErr.bmcSays,
      );
    }
    throw new PowerError(
      'NOT_VERIFIED',
      `${what}: the BMC accepted the command, but after ${seconds(waited)} it still reports ${last === undefined ? 'nothing' : show(last)}`,
      lastErr?.bmcSays ?? '',
    );
  };

  const query = () => driver.query(settings, ctx);
  const verifyState = async (what: string, want: PowerState) => {
    const state = await verify(what, query, (s) => s === want, (s) => `power ${s}`);
    return result(state);
  };

  switch (action.kind) {
    case 'query':
      return result(await call(VERB.query, query, firstAttempt));
    case 'on': {
      const o = await call(VERB.on, () => driver.on(settings, ctx));
      return o.kind === 'manual' ? manual(o) : verifyState(VERB.on, 'on');
    }
    case 'off': {
      const what = action.mode === 'soft' ? 'soft power off' : VERB.off;
      const o = await call(what, () => driver.off(settings, action.mode, ctx));
      return o.kind === 'manual' ? manual(o) : verifyState(what, 'off');
    }
    case 'cycle': {
      const o = await call(VERB.cycle, () => driver.cycle(settings, ctx));
      return o.kind === 'manual' ? manual(o) : verifyState(VERB.cycle, 'on');
    }
    case 'set_boot_device': {
      const device: BootDevice = action.device;
      const what = `${VERB.set_boot_device} to ${device}`;
      const o = await call(what, () => driver.setBootDevice(settings, device, ctx));
      if (o.kind === 'manual') return manual(o);
      if (!driver.canQueryBootDevice) return result('unknown', { verified: false });
      const got = await verify(
        what,
        () => driver.queryBootDevice(settings, ctx),
        (d) => d === device,
        (d) => `boot device ${d}`,
      );
      return result('unknown', { bootDevice: got });
    }
  }
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

async function wrapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asPowerError(e);
  }
}

/** Anything a driver throws that is not a PowerError is a bug or an unexpected failure: retryable BMC_ERROR. */
export function asPowerError(e: unknown): PowerError {
  if (isPowerError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new PowerError('BMC_ERROR', `unexpected failure: ${msg}`);
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}
