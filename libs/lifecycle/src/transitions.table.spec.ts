import { NodeStatus } from './node-status';
import {
  canTransition,
  COMMISSIONING_LIKE_STATUSES,
  deadlineMinutes,
  DEFAULT_NODE_TIMEOUT_MINUTES,
  FAILED_STATUSES,
  failedStatusFor,
  FAILURE_MAP,
  INITIAL_STATUSES,
  invalidTransitionMessage,
  isFailedStatus,
  isMonitoredStatus,
  MONITORED_STATUSES,
  testingPassedStatus,
  TRANSITIONS,
} from './transitions.table';
import {
  REF_COMMISSIONING_LIKE,
  REF_FAILURE,
  REF_INTS,
  REF_MONITORED,
  REF_NAMES,
  REF_TESTING_READY_FROM,
  refCanTransition,
  refDeadline,
  st,
} from './maas-reference.fixture';

const pairs: Array<[string, string, boolean]> = [];
for (const from of REF_NAMES) {
  for (const to of REF_NAMES) pairs.push([from, to, refCanTransition(st(from), st(to))]);
}

describe('transition table (reference 1.3)', () => {
  it('covers the full 23 x 23 grid', () => {
    expect(pairs).toHaveLength(529);
    expect(Object.keys(TRANSITIONS).map(Number).sort((a, b) => a - b)).toEqual(REF_INTS);
  });

  it.each(pairs)('%s -> %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(st(from) as NodeStatus, st(to) as NodeStatus)).toBe(allowed);
  });

  it('lists no status twice in a row', () => {
    for (const targets of Object.values(TRANSITIONS)) expect(new Set(targets).size).toBe(targets.length);
  });

  it('creates machines in NEW, MISSING or RETIRED', () => {
    expect([...INITIAL_STATUSES].sort((a, b) => a - b)).toEqual([st('NEW'), st('MISSING'), st('RETIRED')].sort((a, b) => a - b));
  });

  it('formats NodeStateViolation messages with display strings', () => {
    expect(invalidTransitionMessage(st('DEPLOYED') as NodeStatus, st('COMMISSIONING') as NodeStatus)).toBe(
      'Invalid transition: Deployed -> Commissioning.',
    );
    expect(invalidTransitionMessage(st('FAILED_RELEASING') as NodeStatus, st('ENTERING_RESCUE_MODE') as NodeStatus)).toBe(
      'Invalid transition: Releasing failed -> Entering rescue mode.',
    );
  });
});

describe('failure map, monitored statuses and deadlines (reference 1.3)', () => {
  it.each(REF_FAILURE.map(([a, b]) => [a, b]))('%s fails to %s', (from, to) => {
    expect(FAILURE_MAP[st(from) as keyof typeof FAILURE_MAP]).toBe(st(to));
    expect(failedStatusFor(st(from) as NodeStatus)).toBe(st(to));
    // Every failure is itself a legal transition.
    expect(refCanTransition(st(from), st(to))).toBe(true);
  });

  it('monitors exactly the seven in-progress statuses', () => {
    expect([...MONITORED_STATUSES]).toEqual([...REF_MONITORED].sort((a, b) => a - b));
    expect(Object.keys(FAILURE_MAP)).toHaveLength(7);
    for (const s of REF_INTS) expect(isMonitoredStatus(s as NodeStatus)).toBe(REF_MONITORED.includes(s));
  });

  it('has no failed status for non-monitored statuses', () => {
    for (const s of REF_INTS.filter((x) => !REF_MONITORED.includes(x))) {
      expect(failedStatusFor(s as NodeStatus)).toBeUndefined();
    }
  });

  it('knows the failed statuses', () => {
    const failed = REF_FAILURE.map(([, f]) => st(f)).sort((a, b) => a - b);
    expect([...FAILED_STATUSES]).toEqual(failed);
    for (const s of REF_INTS) expect(isFailedStatus(s as NodeStatus)).toBe(failed.includes(s));
  });

  it('lists the commissioning-like statuses', () => {
    expect([...COMMISSIONING_LIKE_STATUSES].sort((a, b) => a - b)).toEqual([...REF_COMMISSIONING_LIKE].sort((a, b) => a - b));
  });

  it.each(REF_INTS)('deadline of status %i', (s) => {
    expect(deadlineMinutes(s as NodeStatus)).toBe(refDeadline(s));
    expect(deadlineMinutes(s as NodeStatus, { nodeTimeoutMinutes: 45 })).toBe(refDeadline(s, 45));
    expect(deadlineMinutes(s as NodeStatus, {})).toBe(refDeadline(s));
  });

  it('defaults node_timeout to 30 minutes and hard-codes 5 for releasing and exiting rescue mode', () => {
    expect(DEFAULT_NODE_TIMEOUT_MINUTES).toBe(30);
    expect(deadlineMinutes(st('DEPLOYING') as NodeStatus)).toBe(30);
    expect(deadlineMinutes(st('RELEASING') as NodeStatus, { nodeTimeoutMinutes: 60 })).toBe(5);
    expect(deadlineMinutes(st('EXITING_RESCUE_MODE') as NodeStatus, { nodeTimeoutMinutes: 60 })).toBe(5);
    expect(deadlineMinutes(st('READY') as NodeStatus, { nodeTimeoutMinutes: 60 })).toBeNull();
  });
});

describe('where passing tests return (reference 1.3)', () => {
  it.each(REF_TESTING_READY_FROM)('from status %i -> READY', (s) => {
    expect(testingPassedStatus(s as NodeStatus, false)).toBe(st('READY'));
  });

  it('from FAILED_COMMISSIONING -> NEW', () => {
    expect(testingPassedStatus(st('FAILED_COMMISSIONING') as NodeStatus, false)).toBe(st('NEW'));
  });

  it.each(['READY', 'ALLOCATED', 'DEPLOYED', 'RESERVED'])('from %s -> back to %s', (name) => {
    expect(testingPassedStatus(st(name) as NodeStatus, false)).toBe(st(name));
  });

  it('while enlisting -> NEW, whatever the previous status', () => {
    for (const s of [null, ...REF_INTS]) expect(testingPassedStatus(s as NodeStatus | null, true)).toBe(st('NEW'));
  });

  it('unknown previous status, or one TESTING cannot reach -> READY', () => {
    expect(testingPassedStatus(null, false)).toBe(st('READY'));
    expect(testingPassedStatus(st('RESCUE_MODE') as NodeStatus, false)).toBe(st('READY'));
  });

  it('always returns a legal target of TESTING', () => {
    for (const s of [null, ...REF_INTS]) {
      for (const enlisting of [false, true]) {
        expect(refCanTransition(st('TESTING'), testingPassedStatus(s as NodeStatus | null, enlisting))).toBe(true);
      }
    }
  });
});
