import { DEFAULT_POWER_POLICY, backoffDelay, jittered, powerPolicy, worstCaseMs } from './power.policy';

describe('power policy', () => {
  it('has bounded defaults suited to flaky IPMI', () => {
    const p = powerPolicy();
    expect(p).toEqual(DEFAULT_POWER_POLICY);
    expect(p.attempts).toBe(3);
    expect(p.verifyDelaysMs.reduce((a, b) => a + b, 0)).toBe(32_000);
    // Every call timing out, every verification query too: bounded (the rack's budget cuts it shorter).
    expect(worstCaseMs(p)).toBeLessThan(300_000);
    expect(worstCaseMs(powerPolicy({ attempts: 1, verifyDelaysMs: [100], callTimeoutMs: 1000, jitter: 0 }))).toBe(2 * 1000 + 100 + 1000);
  });

  it('rejects unbounded settings', () => {
    expect(() => powerPolicy({ attempts: 0 })).toThrow();
    expect(() => powerPolicy({ attempts: 50 })).toThrow();
    expect(() => powerPolicy({ verifyDelaysMs: [] })).toThrow();
    expect(() => powerPolicy({ jitter: 2 })).toThrow();
    expect(() => powerPolicy({ nonsense: 1 } as never)).toThrow();
  });

  it('backs off exponentially up to the cap, with jitter inside its band', () => {
    const p = powerPolicy({ backoffMs: 1000, backoffFactor: 2, maxBackoffMs: 5000, jitter: 0 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(p, n, Math.random))).toEqual([1000, 2000, 4000, 5000, 5000]);
    const j = powerPolicy({ backoffMs: 1000, jitter: 0.2 });
    expect(backoffDelay(j, 1, () => 0)).toBe(800);
    expect(backoffDelay(j, 1, () => 0.999999)).toBe(1200);
    expect(jittered(0, 0.5, () => 1)).toBe(0);
  });
});
