import { ACTION_NAMES, ACTIONS } from './actions.table';
import {
  REF_INTS,
  REF_REST_RELEASABLE,
  REF_REST_RELEASE_NOOP,
  REF_UI_ACTIONS,
  refSourcesOf,
  st,
} from './maas-reference.fixture';

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

describe('action table (reference 1.4)', () => {
  it('has an entry for every operator event', () => {
    expect([...ACTION_NAMES].sort()).toEqual(
      [
        'abort',
        'accept',
        'allocate',
        'commission',
        'deploy',
        'exitRescueMode',
        'lock',
        'markBroken',
        'markFixed',
        'overrideFailedTesting',
        'powerOff',
        'powerOn',
        'release',
        'rescueMode',
        'test',
        'unlock',
      ].sort(),
    );
  });

  it.each(Object.entries(REF_UI_ACTIONS))('%s: UI statuses and permission match 1.4.1', (name, ref) => {
    const spec = ACTIONS[name as keyof typeof ACTIONS];
    expect(sorted(spec.uiStatuses)).toEqual(ref.statuses === 'any' ? REF_INTS : sorted(ref.statuses));
    expect(spec.uiPermission).toBe(ref.permission);
  });

  it('REST permissions follow 1.4.2 (abort and power need edit; mark_broken the owner)', () => {
    expect(ACTIONS.abort.permission).toBe('edit');
    expect(ACTIONS.allocate.permission).toBe('edit');
    expect(ACTIONS.deploy.permission).toBe('edit');
    expect(ACTIONS.release.permission).toBe('edit');
    expect(ACTIONS.powerOn.permission).toBe('edit');
    expect(ACTIONS.powerOff.permission).toBe('edit');
    expect(ACTIONS.markBroken.permission).toBe('owner');
    for (const a of ['commission', 'test', 'markFixed', 'overrideFailedTesting', 'rescueMode', 'exitRescueMode', 'accept'] as const) {
      expect(ACTIONS[a].permission).toBe('admin');
    }
    expect(ACTIONS.lock.permission).toBe('lock');
    expect(ACTIONS.unlock.permission).toBe('lock');
  });

  it('REST statuses follow 1.4.2', () => {
    expect(sorted(ACTIONS.release.apiStatuses)).toEqual(sorted(REF_REST_RELEASABLE));
    expect(sorted(ACTIONS.release.noopStatuses)).toEqual(sorted(REF_REST_RELEASE_NOOP));
    expect(sorted(ACTIONS.deploy.apiStatuses)).toEqual(sorted([st('READY'), st('ALLOCATED')]));
    expect(sorted(ACTIONS.abort.apiStatuses)).toEqual(sorted([st('COMMISSIONING'), st('DEPLOYING'), st('TESTING'), st('DISK_ERASING')]));
    expect(sorted(ACTIONS.rescueMode.apiStatuses)).toEqual(sorted(refSourcesOf(st('ENTERING_RESCUE_MODE'))));
    expect(sorted(ACTIONS.exitRescueMode.apiStatuses)).toEqual(sorted(refSourcesOf(st('EXITING_RESCUE_MODE'))));
    expect(sorted(ACTIONS.powerOff.apiStatuses)).toEqual(REF_INTS);
    expect(sorted(ACTIONS.powerOn.apiStatuses)).toEqual(REF_INTS);
    expect(sorted(ACTIONS.markFixed.apiStatuses)).toEqual([st('BROKEN')]);
    expect(sorted(ACTIONS.overrideFailedTesting.apiStatuses)).toEqual([st('FAILED_TESTING')]);
    expect(sorted(ACTIONS.lock.apiStatuses)).toEqual(sorted([st('DEPLOYED'), st('DEPLOYING')]));
  });

  it('only lock and unlock work on a locked machine', () => {
    for (const name of ACTION_NAMES) {
      expect(ACTIONS[name].allowedWhenLocked).toBe(name === 'lock' || name === 'unlock');
    }
  });

  it('never offers an action in the UI where the FSM cannot take it', () => {
    // UI rescue mode lists FAILED_EXITING_RESCUE_MODE, which the FSM refuses; REST follows the FSM.
    expect(ACTIONS.rescueMode.apiStatuses).not.toContain(st('FAILED_EXITING_RESCUE_MODE'));
  });
});
