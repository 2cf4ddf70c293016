import { z } from 'zod';

/**
 * How hard Kiln tries before it calls a BMC broken. IPMI is UDP, and BMCs drop packets and run
 * out of sessions under load, so a single failed call proves little; but a BMC that stays silent
 * must not be hammered either. Every number here is bounded, so one power command has a worst
 * case that `worstCaseMs` computes (the region's request timeout must exceed it).
 */
export interface PowerPolicy {
  /** Tries of one BMC call that fails with a retryable error (1: no retry). */
  attempts: number;
  /** Wait before the first retry; multiplied by `backoffFactor` each time, capped at `maxBackoffMs`. */
  backoffMs: number;
  backoffFactor: number;
  maxBackoffMs: number;
  /** Each wait is drawn from [w·(1-jitter), w·(1+jitter)] so that retries of many BMCs do not line up. */
  jitter: number;
  /**
   * Waits before each verification query after a change. The BMC gets their sum to show the
   * change (a soft off waits for the OS; a cycle passes through off). MAAS waits 4, 8, 16, 32 s.
   */
  verifyDelaysMs: number[];
  /** Time limit of one BMC call: one tool run, one HTTP request. */
  callTimeoutMs: number;
}

/** Defaults suited to real, flaky IPMI BMCs. */
export const DEFAULT_POWER_POLICY: Readonly<PowerPolicy> = Object.freeze({
  attempts: 3,
  backoffMs: 1000,
  backoffFactor: 2,
  maxBackoffMs: 8000,
  jitter: 0.2,
  verifyDelaysMs: [1000, 2000, 3000, 5000, 8000, 13000],
  callTimeoutMs: 20_000,
});

export const powerPolicySchema = z
  .object({
    attempts: z.number().int().min(1).max(10),
    backoffMs: z.number().int().min(0).max(60_000),
    backoffFactor: z.number().min(1).max(10),
    maxBackoffMs: z.number().int().min(0).max(300_000),
    jitter: z.number().min(0).max(1),
    verifyDelaysMs: z.array(z.number().int().min(0).max(300_000)).min(1).max(20),
    callTimeoutMs: z.number().int().min(100).max(300_000),
  })
  .strict();

/** Completes a partial policy with the defaults and checks the bounds (throws ZodError). */
export function powerPolicy(overrides: Partial<PowerPolicy> = {}): PowerPolicy {
  return powerPolicySchema.parse({ ...DEFAULT_POWER_POLICY, ...overrides });
}

/** The wait before retry number `retry` (1 = first retry), jittered with `random` in [0, 1). */
export function backoffDelay(p: PowerPolicy, retry: number, random: () => number): number {
  const base = Math.min(p.maxBackoffMs, p.backoffMs * p.backoffFactor ** (retry - 1));
  return jittered(base, p.jitter, random);
}

export function jittered(ms: number, jitter: number, random: () => number): number {
  if (jitter === 0 || ms === 0) return ms;
  return Math.max(0, Math.round(ms * (1 - jitter + 2 * jitter * random())));
}

/**
 * Upper bound of one power command under this policy, jitter included: a query-then-change
 * (cycle asks first on some drivers), each call retried, then every verification query.
 */
export function worstCaseMs(p: PowerPolicy): number {
  let oneCall = 0;
  for (let i = 1; i <= p.attempts; i++) {
    oneCall += p.callTimeoutMs;
    if (i < p.attempts) oneCall += Math.min(p.maxBackoffMs, p.backoffMs * p.backoffFactor ** (i - 1)) * (1 + p.jitter);
  }
  const verify = p.verifyDelaysMs.reduce((a, d) => a + d * (1 + p.jitter) + p.callTimeoutMs, 0);
  return Math.ceil(2 * oneCall + verify);
}
