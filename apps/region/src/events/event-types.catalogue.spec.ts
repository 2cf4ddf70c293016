import { ACTIONS, ALL_STATUSES, decide, type LifecycleEvent, type MachineView, statusName } from '@kiln/lifecycle';
import { isMachineEventType, MachineEvents } from './event-types.catalogue';

const SIGNALS: LifecycleEvent[] = [
  { type: 'commissioningSucceeded' },
  { type: 'commissioningSucceeded', thenTesting: true },
  { type: 'commissioningFailed', reason: 'x' },
  { type: 'testingSucceeded' },
  { type: 'testingFailed', reason: 'x' },
  { type: 'deployed' },
  { type: 'deploymentFailed', reason: 'x' },
  { type: 'releaseCompleted' },
  { type: 'releaseFailed', reason: 'x' },
  { type: 'rescueEntered' },
  { type: 'rescueExited' },
  { type: 'powerFailed', reason: 'x' },
  { type: 'timedOut' },
];

const ACTION_VARIANTS: LifecycleEvent[] = [
  ...(Object.keys(ACTIONS) as (keyof typeof ACTIONS)[]).map((type) => ({ type }) as LifecycleEvent),
  { type: 'release', erase: true },
  { type: 'release', scripts: true },
  { type: 'powerOff', stopMode: 'soft' },
  { type: 'markBroken', comment: 'x' },
];

describe('machine event catalogue', () => {
  it('names each type once', () => {
    const types = Object.values(MachineEvents).map((e) => e.type);
    expect(new Set(types).size).toBe(types.length);
  });

  it('lists every event type the lifecycle decides, for every status, event and caller', () => {
    const seen = new Set<string>();
    for (const status of ALL_STATUSES) {
      for (const previousStatus of [null, ...ALL_STATUSES]) {
        for (const owner of [null, 'alice']) {
          for (const powerType of ['', 'manual', 'ipmi']) {
            const m: MachineView = {
              systemId: 'abc123',
              status,
              previousStatus,
              owner,
              locked: false,
              powerType,
              powerState: 'off',
              interfaceCount: 1,
              enlisting: false,
              osystem: 'ubuntu',
            };
            for (const actor of [null, { username: 'alice', isAdmin: false }, { username: 'root', isAdmin: true }]) {
              for (const event of [...ACTION_VARIANTS, ...SIGNALS]) {
                const d = decide(m, event, actor);
                if (d.ok) seen.add(d.event.type);
              }
            }
          }
        }
      }
    }
    // The walk reaches the lifecycle's rules, not just a few of them.
    expect(seen.size).toBeGreaterThan(15);
    expect([...seen].filter((t) => !isMachineEventType(t))).toEqual([]);
  });

  it('lists every status display name (the default type of a transition)', () => {
    expect(ALL_STATUSES.map((s) => statusName(s)).filter((n) => !isMachineEventType(n))).toEqual([]);
  });
});
