import { availableActions, decide } from './decide';
import type { Actor, Decision, Effect, LifecycleEvent, MachineView, RefusalCode } from './decision.types';
import type { NodeStatus } from './node-status';
import {
  display,
  REF_FAILURE,
  REF_INTS,
  REF_MONITORED,
  REF_NAMES,
  REF_REST_RELEASABLE,
  REF_UI_ACTIONS,
  refCanTransition,
  refDeadline,
  refSourcesOf,
  st,
} from './maas-reference.fixture';

// All expectations below come from maas-api.md 1.3/1.4 (via the fixture) and from the brief,
// never from the library's own tables.

const SID = 'abc123';
const ALICE: Actor = { username: 'alice', isAdmin: false };
const BOB_ADMIN: Actor = { username: 'bob', isAdmin: true };
const CAROL: Actor = { username: 'carol', isAdmin: false };
const UNCONFIGURED = 'Unconfigured power type. Please configure the power type and try again.';

const OFF: Effect = { kind: 'powerOff', stopMode: 'hard' };
const CYCLE: Effect = { kind: 'powerCycle' };
const ON: Effect = { kind: 'powerOn' };
const ABORT: Effect = { kind: 'abortScripts' };
const CLEAR_OWNER: Effect = { kind: 'clearOwner' };
const CLEAR_DEPLOYMENT: Effect = { kind: 'clearDeployment' };
const setOwner = (owner: string): Effect => ({ kind: 'setOwner', owner });
const errorText = (text: string): Effect => ({ kind: 'setErrorDescription', text });

function machine(status: string | number, over: Partial<MachineView> = {}): MachineView {
  return {
    systemId: SID,
    status: (typeof status === 'string' ? st(status) : status) as NodeStatus,
    previousStatus: null,
    owner: null,
    locked: false,
    powerType: 'ipmi',
    powerState: 'on',
    interfaceCount: 2,
    enlisting: false,
    osystem: '',
    ...over,
  };
}

function prev(name: string): NodeStatus {
  return st(name) as NodeStatus;
}

type Expected = { to: number; effects: Effect[]; previousStatus?: number | null } | { code: RefusalCode; message: string };

function check(d: Decision, e: Expected): void {
  if ('code' in e) {
    expect(d).toEqual({ ok: false, code: e.code, message: e.message });
    return;
  }
  if (!d.ok) throw new Error(`expected success, got ${d.code}: ${d.message}`);
  expect(d.to).toBe(e.to);
  expect(d.effects).toEqual(e.effects);
  expect(d.deadlineMinutes).toBe(refDeadline(e.to));
  if ('previousStatus' in e) expect(d.previousStatus).toBe(e.previousStatus);
  expect(d.event.description.length).toBeGreaterThan(0);
}

function ok(d: Decision): Extract<Decision, { ok: true }> {
  if (!d.ok) throw new Error(`expected success, got ${d.code}: ${d.message}`);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Every (status, action) pair

interface GridCase {
  m: MachineView;
  actor: Actor | null;
  event: LifecycleEvent;
  expected: Expected;
}

const is = (s: number, ...names: string[]): boolean => names.some((n) => st(n) === s);

const GRID: Record<string, (s: number) => GridCase> = {
  commission: (s) => ({
    m: machine(s),
    actor: BOB_ADMIN,
    event: { type: 'commission' },
    expected: (REF_UI_ACTIONS.commission.statuses as number[]).includes(s)
      ? { to: st('COMMISSIONING'), effects: [CYCLE, { kind: 'startCommissioning' }], previousStatus: s }
      : { code: 'FORM_ERROR', message: 'Commission is not available because of the current state of the node.' },
  }),

  test: (s) => ({
    m: machine(s),
    actor: BOB_ADMIN,
    event: { type: 'test' },
    expected: (REF_UI_ACTIONS.test.statuses as number[]).includes(s)
      ? {
          to: st('TESTING'),
          effects: [CYCLE, { kind: 'startTesting' }],
          // From rescue mode the status saved before rescue (here: none) is kept.
          previousStatus: is(s, 'RESCUE_MODE') ? null : s,
        }
      : { code: 'FORM_ERROR', message: 'Test is not available because of the current state of the node.' },
  }),

  abort: (s) => {
    const targets: Record<string, string> = {
      COMMISSIONING: 'NEW',
      DEPLOYING: 'ALLOCATED',
      TESTING: 'READY', // previous status unknown -> READY
      DISK_ERASING: 'FAILED_DISK_ERASING',
    };
    const name = REF_NAMES[REF_INTS.indexOf(s)];
    const target = targets[name];
    return {
      m: machine(s),
      actor: ALICE,
      event: { type: 'abort' },
      expected:
        target !== undefined
          ? { to: st(target), effects: [OFF, ABORT] }
          : { code: 'CONFLICT', message: `Cannot abort in current state: node ${SID} is in state ${display(s)}.` },
    };
  },

  allocate: (s) => ({
    m: machine(s),
    actor: ALICE,
    event: { type: 'allocate' },
    expected: is(s, 'READY')
      ? { to: st('ALLOCATED'), effects: [setOwner('alice')] }
      : { code: 'CONFLICT', message: `No machine with system ID ${SID} available.` },
  }),

  deploy: (s) => ({
    m: machine(s, { owner: is(s, 'READY') ? null : 'alice' }),
    actor: ALICE,
    event: { type: 'deploy' },
    expected: is(s, 'READY')
      ? { to: st('DEPLOYING'), effects: [setOwner('alice'), ON, { kind: 'startDeployment' }] }
      : is(s, 'ALLOCATED')
        ? { to: st('DEPLOYING'), effects: [ON, { kind: 'startDeployment' }] }
        : { code: 'CONFLICT', message: `Can't deploy a machine that is in the '${display(s)}' state` },
  }),

  release: (s) => ({
    m: machine(s, { owner: 'alice', osystem: 'ubuntu' }),
    actor: ALICE,
    event: { type: 'release' },
    expected: is(s, 'READY')
      ? { code: 'NOOP', message: `Machine ${SID} is already released.` }
      : is(s, 'RELEASING')
        ? { code: 'NOOP', message: `Machine ${SID} is already being released.` }
        : REF_REST_RELEASABLE.includes(s)
          ? { to: st('RELEASING'), effects: [...(is(s, 'DEPLOYING') ? [ABORT] : []), OFF, CLEAR_DEPLOYMENT] }
          : { code: 'CONFLICT', message: `Machine cannot be released in its current state ('${display(s)}').` },
  }),

  markBroken: (s) => ({
    m: machine(s, { owner: 'alice' }),
    actor: ALICE,
    event: { type: 'markBroken', comment: 'disk dead' },
    expected: is(s, 'BROKEN')
      ? { code: 'NOOP', message: `Machine ${SID} is already marked broken.` }
      : {
          to: st('BROKEN'),
          previousStatus: s,
          effects: [...(REF_MONITORED.includes(s) || is(s, 'RESCUE_MODE') ? [ABORT, OFF] : []), errorText('disk dead')],
        },
  }),

  markFixed: (s) => ({
    m: machine(s),
    actor: BOB_ADMIN,
    event: { type: 'markFixed' },
    expected: is(s, 'BROKEN')
      ? { to: st('READY'), effects: [errorText('')] }
      : { code: 'CONFLICT', message: "Can't mark a non-broken node as 'Ready'." },
  }),

  overrideFailedTesting: (s) => ({
    m: machine(s),
    actor: BOB_ADMIN,
    event: { type: 'overrideFailedTesting' },
    expected: is(s, 'FAILED_TESTING')
      ? { to: st('READY'), effects: [errorText('')] }
      : { code: 'CONFLICT', message: "Unable to override node status. Node is not in 'Failed testing' status." },
  }),

  rescueMode: (s) => ({
    m: machine(s),
    actor: BOB_ADMIN,
    event: { type: 'rescueMode' },
    expected: is(s, 'ENTERING_RESCUE_MODE')
      ? { code: 'NOOP', message: `Machine ${SID} is already entering rescue mode.` }
      : refSourcesOf(st('ENTERING_RESCUE_MODE')).includes(s)
        ? { to: st('ENTERING_RESCUE_MODE'), effects: [setOwner('bob'), CYCLE], previousStatus: s }
        : { code: 'CONFLICT', message: `Invalid transition: ${display(s)} -> Entering rescue mode.` },
  }),

  exitRescueMode: (s) => ({
    m: machine(s),
    actor: BOB_ADMIN,
    event: { type: 'exitRescueMode' },
    expected: is(s, 'EXITING_RESCUE_MODE')
      ? { code: 'NOOP', message: `Machine ${SID} is already exiting rescue mode.` }
      : refSourcesOf(st('EXITING_RESCUE_MODE')).includes(s)
        ? { to: st('EXITING_RESCUE_MODE'), effects: [OFF] }
        : { code: 'CONFLICT', message: `Invalid transition: ${display(s)} -> Exiting rescue mode.` },
  }),

  lock: (s) => ({
    m: machine(s, { owner: 'alice' }),
    actor: ALICE,
    event: { type: 'lock' },
    expected: is(s, 'DEPLOYED', 'DEPLOYING')
      ? { to: s, effects: [{ kind: 'setLocked', locked: true }] }
      : { code: 'CONFLICT', message: "Can't lock, node is not deployed or deploying" },
  }),

  unlock: (s) => ({
    m: machine(s, { owner: 'alice', locked: true }),
    actor: ALICE,
    event: { type: 'unlock' },
    expected: { to: s, effects: [{ kind: 'setLocked', locked: false }] },
  }),

  powerOn: (s) => ({
    m: machine(s, { owner: 'alice' }),
    actor: ALICE,
    event: { type: 'powerOn' },
    expected: { to: s, effects: [ON] },
  }),

  powerOff: (s) => ({
    m: machine(s, { owner: 'alice' }),
    actor: ALICE,
    event: { type: 'powerOff', stopMode: 'soft' },
    expected: { to: s, effects: [{ kind: 'powerOff', stopMode: 'soft' }] },
  }),

  accept: (s) => ({
    m: machine(s),
    actor: BOB_ADMIN,
    event: { type: 'accept' },
    expected: is(s, 'NEW')
      ? { to: st('COMMISSIONING'), effects: [CYCLE, { kind: 'startCommissioning' }], previousStatus: s }
      : is(s, 'READY', 'COMMISSIONING')
        ? { code: 'NOOP', message: `Machine ${SID} is already accepted (${display(s)}).` }
        : { code: 'CONFLICT', message: `Cannot accept node enlistment: node ${SID} is in state ${display(s)}.` },
  }),
};

describe('every (status, action) pair', () => {
  const cases: Array<[string, string, number]> = [];
  for (const action of Object.keys(GRID)) {
    for (const name of REF_NAMES) cases.push([action, name, st(name)]);
  }

  it('covers 16 actions x 23 statuses', () => {
    expect(cases).toHaveLength(16 * 23);
  });

  it.each(cases)('%s in %s', (action, _name, s) => {
    const c = GRID[action](s);
    check(decide(c.m, c.event, c.actor), c.expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Permissions and locks

describe('permissions', () => {
  const adminOnly: Array<[LifecycleEvent, string]> = [
    [{ type: 'commission' }, 'READY'],
    [{ type: 'test' }, 'READY'],
    [{ type: 'markFixed' }, 'BROKEN'],
    [{ type: 'overrideFailedTesting' }, 'FAILED_TESTING'],
    [{ type: 'rescueMode' }, 'READY'],
    [{ type: 'exitRescueMode' }, 'RESCUE_MODE'],
    [{ type: 'accept' }, 'NEW'],
  ];

  it.each(adminOnly)('%o in %s is FORBIDDEN for a non-admin, even its owner', (event, status) => {
    const d = decide(machine(status, { owner: 'alice' }), event, ALICE);
    expect(d).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(decide(machine(status, { owner: 'alice' }), event, BOB_ADMIN).ok).toBe(true);
  });

  const editActions: Array<[LifecycleEvent, string]> = [
    [{ type: 'deploy' }, 'ALLOCATED'],
    [{ type: 'release' }, 'DEPLOYED'],
    [{ type: 'abort' }, 'DEPLOYING'],
    [{ type: 'powerOn' }, 'DEPLOYED'],
    [{ type: 'powerOff' }, 'DEPLOYED'],
    [{ type: 'allocate' }, 'READY'],
  ];

  it.each(editActions)('%o in %s is FORBIDDEN for a non-admin who does not own the machine', (event, status) => {
    expect(decide(machine(status, { owner: 'carol' }), event, ALICE)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it.each(editActions.filter(([e]) => e.type !== 'allocate'))('%o in %s is allowed for the owner and for an admin', (event, status) => {
    expect(decide(machine(status, { owner: 'carol' }), event, CAROL).ok).toBe(true);
    expect(decide(machine(status, { owner: 'carol' }), event, BOB_ADMIN).ok).toBe(true);
  });

  it('lets any user deploy or allocate an unowned READY machine', () => {
    const d = decide(machine('READY'), { type: 'deploy' }, CAROL);
    check(d, { to: st('DEPLOYING'), effects: [setOwner('carol'), ON, { kind: 'startDeployment' }] });
    // Allocated on the way: READY -> ALLOCATED -> DEPLOYING.
    expect(ok(d).via).toEqual([st('ALLOCATED')]);
    expect(ok(decide(machine('ALLOCATED', { owner: 'carol' }), { type: 'deploy' }, CAROL)).via).toBeUndefined();
    check(decide(machine('READY'), { type: 'allocate' }, CAROL), { to: st('ALLOCATED'), effects: [setOwner('carol')] });
  });

  it('an admin deploying a machine allocated to someone else deploys it for them', () => {
    check(decide(machine('ALLOCATED', { owner: 'carol' }), { type: 'deploy' }, BOB_ADMIN), {
      to: st('DEPLOYING'),
      effects: [ON, { kind: 'startDeployment' }],
    });
  });

  it('an admin cannot deploy a READY machine held by another user', () => {
    expect(decide(machine('READY', { owner: 'carol' }), { type: 'deploy' }, BOB_ADMIN)).toEqual({
      ok: false,
      code: 'CONFLICT',
      message: "Can't allocate a machine belonging to another user.",
    });
  });

  it('an admin cannot allocate a READY machine held by another user', () => {
    expect(decide(machine('READY', { owner: 'carol' }), { type: 'allocate' }, BOB_ADMIN)).toEqual({
      ok: false,
      code: 'CONFLICT',
      message: `No machine with system ID ${SID} available.`,
    });
  });

  it('allocating a machine one already holds is accepted without a new owner', () => {
    check(decide(machine('READY', { owner: 'alice' }), { type: 'allocate' }, ALICE), { to: st('ALLOCATED'), effects: [] });
  });

  describe('mark_broken needs the owner, even for admins', () => {
    it('refuses an unowned machine to an admin', () => {
      expect(decide(machine('READY'), { type: 'markBroken' }, BOB_ADMIN)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    });
    it("refuses someone else's machine to an admin", () => {
      expect(decide(machine('DEPLOYED', { owner: 'carol' }), { type: 'markBroken' }, BOB_ADMIN)).toMatchObject({
        ok: false,
        code: 'FORBIDDEN',
      });
    });
    it('accepts the owner', () => {
      expect(decide(machine('DEPLOYED', { owner: 'carol' }), { type: 'markBroken' }, CAROL).ok).toBe(true);
    });
  });

  it('lock and unlock need the owner or an admin', () => {
    const m = machine('DEPLOYED', { owner: 'alice' });
    expect(decide(m, { type: 'lock' }, ALICE).ok).toBe(true);
    expect(decide(m, { type: 'lock' }, BOB_ADMIN).ok).toBe(true);
    expect(decide(m, { type: 'lock' }, CAROL)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    const locked = { ...m, locked: true };
    expect(decide(locked, { type: 'unlock' }, CAROL)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(decide(locked, { type: 'unlock' }, BOB_ADMIN).ok).toBe(true);
  });

  it('a null actor is the system and may do anything the state allows', () => {
    expect(decide(machine('READY'), { type: 'commission' }, null).ok).toBe(true);
    expect(decide(machine('DEPLOYED', { owner: 'carol' }), { type: 'markBroken' }, null).ok).toBe(true);
    expect(decide(machine('DEPLOYED', { owner: 'carol', locked: true }), { type: 'release' }, null).ok).toBe(true);
    expect(decide(machine('READY'), { type: 'allocate' }, null)).toMatchObject({ ok: false, code: 'FORM_ERROR' });
    expect(decide(machine('READY'), { type: 'deploy' }, null)).toMatchObject({ ok: false, code: 'FORM_ERROR' });
  });

  it('checks permission before state', () => {
    expect(decide(machine('DEPLOYED'), { type: 'commission' }, ALICE)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });
});

describe('locked machines', () => {
  const locked = (status: string): MachineView => machine(status, { owner: 'alice', locked: true, osystem: 'ubuntu' });
  const refused: Array<[LifecycleEvent, string, Actor]> = [
    [{ type: 'release' }, 'DEPLOYED', ALICE],
    [{ type: 'release' }, 'DEPLOYED', BOB_ADMIN],
    [{ type: 'powerOff' }, 'DEPLOYED', ALICE],
    [{ type: 'powerOn' }, 'DEPLOYED', ALICE],
    [{ type: 'markBroken' }, 'DEPLOYED', ALICE],
    [{ type: 'test' }, 'DEPLOYED', BOB_ADMIN],
    [{ type: 'rescueMode' }, 'DEPLOYED', BOB_ADMIN],
    [{ type: 'abort' }, 'DEPLOYING', ALICE],
    [{ type: 'deploy' }, 'DEPLOYING', ALICE],
  ];

  it.each(refused)('%o in %s is FORBIDDEN', (event, status, actor) => {
    const d = decide(locked(status), event, actor);
    expect(d).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('unlock works and lock reports the lock', () => {
    check(decide(locked('DEPLOYED'), { type: 'unlock' }, ALICE), {
      to: st('DEPLOYED'),
      effects: [{ kind: 'setLocked', locked: false }],
    });
    expect(decide(locked('DEPLOYED'), { type: 'lock' }, ALICE)).toEqual({
      ok: false,
      code: 'CONFLICT',
      message: 'Machine is already locked',
    });
    expect(decide(machine('DEPLOYED', { owner: 'alice' }), { type: 'unlock' }, ALICE)).toEqual({
      ok: false,
      code: 'CONFLICT',
      message: 'Machine is not locked',
    });
  });

  it('system signals still apply to a locked machine', () => {
    expect(ok(decide(locked('DEPLOYING'), { type: 'deployed' }, null)).to).toBe(st('DEPLOYED'));
    expect(ok(decide(locked('DEPLOYING'), { type: 'timedOut' }, null)).to).toBe(st('FAILED_DEPLOYMENT'));
  });
});

// ---------------------------------------------------------------------------------------------
// Preconditions beyond status

describe('power type and interfaces', () => {
  it.each([
    [{ type: 'commission' }, 'READY'],
    [{ type: 'test' }, 'READY'],
    [{ type: 'rescueMode' }, 'DEPLOYED'],
    [{ type: 'deploy' }, 'ALLOCATED'],
    [{ type: 'accept' }, 'NEW'],
    [{ type: 'powerOn' }, 'DEPLOYED'],
    [{ type: 'powerOff' }, 'DEPLOYED'],
    [{ type: 'release', erase: true }, 'DEPLOYED'],
  ] as Array<[LifecycleEvent, string]>)('%o in %s with an unconfigured power type', (event, status) => {
    expect(decide(machine(status, { powerType: '', owner: 'bob' }), event, BOB_ADMIN)).toEqual({
      ok: false,
      code: 'UNCONFIGURED_POWER',
      message: UNCONFIGURED,
    });
  });

  it('checks state before power type', () => {
    expect(decide(machine('DEPLOYED', { powerType: '' }), { type: 'commission' }, BOB_ADMIN)).toMatchObject({
      code: 'FORM_ERROR',
    });
  });

  it('commissioning without interfaces is only possible with ipmi', () => {
    expect(decide(machine('NEW', { interfaceCount: 0 }), { type: 'commission' }, BOB_ADMIN).ok).toBe(true);
    for (const powerType of ['manual', 'redfish', 'virsh']) {
      const d = decide(machine('NEW', { interfaceCount: 0, powerType }), { type: 'commission' }, BOB_ADMIN);
      expect(d).toMatchObject({ ok: false, code: 'FORM_ERROR' });
      if (!d.ok) expect(d.message).toMatch(/no network interfaces/);
    }
    expect(decide(machine('NEW', { interfaceCount: 0, powerType: 'manual' }), { type: 'accept' }, BOB_ADMIN)).toMatchObject({
      ok: false,
      code: 'FORM_ERROR',
    });
  });

  it('refuses to test a NEW machine that was never commissioned', () => {
    expect(decide(machine('NEW', { commissioned: false }), { type: 'test' }, BOB_ADMIN)).toMatchObject({
      ok: false,
      code: 'FORM_ERROR',
    });
    expect(decide(machine('NEW', { commissioned: true }), { type: 'test' }, BOB_ADMIN).ok).toBe(true);
  });

  it('refuses to power on an unowned machine', () => {
    expect(decide(machine('READY'), { type: 'powerOn' }, BOB_ADMIN)).toEqual({
      ok: false,
      code: 'CONFLICT',
      message: "Can't start node: it hasn't been allocated.",
    });
  });

  it('powers off hard by default', () => {
    check(decide(machine('DEPLOYED', { owner: 'alice' }), { type: 'powerOff' }, ALICE), { to: st('DEPLOYED'), effects: [OFF] });
  });
});

// ---------------------------------------------------------------------------------------------
// Release

describe('release', () => {
  const deployed = (over: Partial<MachineView> = {}): MachineView =>
    machine('DEPLOYED', { owner: 'alice', osystem: 'ubuntu', ...over });

  it('waits for the power-off when the power state can be queried', () => {
    const d = ok(decide(deployed(), { type: 'release' }, ALICE));
    expect(d.to).toBe(st('RELEASING'));
    expect(d.effects).toEqual([OFF, CLEAR_DEPLOYMENT]);
    expect(d.deadlineMinutes).toBe(5);
  });

  it('goes straight to READY with a manual power type', () => {
    check(decide(deployed({ powerType: 'manual', powerState: 'unknown' }), { type: 'release' }, ALICE), {
      to: st('READY'),
      effects: [OFF, CLEAR_OWNER, CLEAR_DEPLOYMENT],
    });
  });

  it('goes straight to READY when the machine is already off', () => {
    check(decide(deployed({ powerState: 'off' }), { type: 'release' }, ALICE), {
      to: st('READY'),
      effects: [OFF, CLEAR_OWNER, CLEAR_DEPLOYMENT],
    });
  });

  it('goes straight to READY, without a power action, with an unconfigured power type', () => {
    check(decide(deployed({ powerType: '' }), { type: 'release' }, ALICE), {
      to: st('READY'),
      effects: [CLEAR_OWNER, CLEAR_DEPLOYMENT],
    });
  });

  it('stops a deployment in flight', () => {
    check(decide(machine('DEPLOYING', { owner: 'alice', powerType: 'manual' }), { type: 'release' }, ALICE), {
      to: st('READY'),
      effects: [ABORT, OFF, CLEAR_OWNER, CLEAR_DEPLOYMENT],
    });
  });

  it('unlocks a machine the system releases', () => {
    check(decide(deployed({ powerState: 'off', locked: true }), { type: 'release' }, null), {
      to: st('READY'),
      effects: [{ kind: 'setLocked', locked: false }, OFF, CLEAR_OWNER, CLEAR_DEPLOYMENT],
    });
  });

  it('clears the owner when the release completes', () => {
    check(decide(machine('RELEASING', { owner: 'alice' }), { type: 'releaseCompleted' }, null), {
      to: st('READY'),
      effects: [CLEAR_OWNER],
    });
  });

  it('fails to FAILED_RELEASING', () => {
    const d = ok(decide(machine('RELEASING', { owner: 'alice' }), { type: 'releaseFailed', reason: 'BMC refused' }, null));
    expect(d.to).toBe(st('FAILED_RELEASING'));
    expect(d.effects).toEqual([ABORT, errorText('Releasing failed: BMC refused')]);
    expect(d.event.level).toBe('ERROR');
  });

  it('fails an in-flight status at once on a power failure no retry fixes', () => {
    const d = ok(decide(machine('RELEASING', { owner: 'alice' }), { type: 'powerFailed', reason: 'MISSING_TOOL: ipmipower is not installed' }, null));
    expect(d.to).toBe(st('FAILED_RELEASING'));
    expect(d.effects).toEqual([ABORT, errorText('Releasing failed: MISSING_TOOL: ipmipower is not installed')]);
    expect(ok(decide(machine('COMMISSIONING'), { type: 'powerFailed', reason: 'BMC_AUTH' }, null)).to).toBe(st('FAILED_COMMISSIONING'));
    const idle = decide(machine('ALLOCATED', { owner: 'alice' }), { type: 'powerFailed', reason: 'BMC_AUTH' }, null);
    expect(idle).toMatchObject({ ok: false, code: 'NOOP' });
  });

  it('erases disks in the ephemeral environment', () => {
    const d = ok(decide(deployed(), { type: 'release', erase: true }, ALICE));
    expect(d.to).toBe(st('DISK_ERASING'));
    expect(d.effects).toEqual([CLEAR_DEPLOYMENT, CYCLE, { kind: 'startReleaseScripts' }]);
    expect(d.deadlineMinutes).toBe(30);
    check(decide(machine('DISK_ERASING', { owner: 'alice' }), { type: 'releaseCompleted' }, null), {
      to: st('READY'),
      effects: [CLEAR_OWNER],
    });
    expect(ok(decide(machine('DISK_ERASING', { owner: 'alice' }), { type: 'releaseFailed' }, null)).to).toBe(
      st('FAILED_DISK_ERASING'),
    );
  });

  it('runs release scripts in RELEASING', () => {
    const d = ok(decide(deployed({ powerType: 'manual' }), { type: 'release', scripts: true }, ALICE));
    expect(d.to).toBe(st('RELEASING'));
    expect(d.effects).toEqual([CLEAR_DEPLOYMENT, CYCLE, { kind: 'startReleaseScripts' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Timeouts

describe('timeouts', () => {
  it.each(REF_FAILURE.map(([a, b]) => [a, b]))('%s times out to %s', (from, to) => {
    const d = ok(decide(machine(from, { owner: 'alice' }), { type: 'timedOut' }, null));
    const minutes = refDeadline(st(from));
    const text = `${display(st(from))} timed out: deadline of ${minutes} minutes passed`;
    expect(d.to).toBe(st(to));
    expect(d.event).toEqual({ type: display(st(to)), level: 'ERROR', description: text });
    expect(d.effects).toEqual([ABORT, OFF, errorText(text)]);
    expect(d.deadlineMinutes).toBeNull();
  });

  it('describes a deployment timeout the way an operator reads it', () => {
    const d = ok(decide(machine('DEPLOYING', { owner: 'alice' }), { type: 'timedOut' }, null));
    expect(d.event).toEqual({
      type: 'Failed deployment',
      level: 'ERROR',
      description: 'Deploying timed out: deadline of 30 minutes passed',
    });
  });

  it('names the last sign of progress when a deployment times out', () => {
    const d = ok(decide(machine('DEPLOYING', { owner: 'alice' }), { type: 'timedOut', lastStep: 'Installing: writing the image' }, null));
    expect(d.event.description).toBe('Deploying timed out: deadline of 30 minutes passed; stalled after: Installing: writing the image');
  });

  it('uses node_timeout', () => {
    const d = ok(decide(machine('COMMISSIONING'), { type: 'timedOut' }, null, { nodeTimeoutMinutes: 45 }));
    expect(d.event.description).toBe('Commissioning timed out: deadline of 45 minutes passed');
    const r = ok(decide(machine('RELEASING'), { type: 'timedOut' }, null, { nodeTimeoutMinutes: 45 }));
    expect(r.event.description).toBe('Releasing timed out: deadline of 5 minutes passed');
  });

  it.each(REF_INTS.filter((s) => !REF_MONITORED.includes(s)))('status %i has no deadline: NOOP', (s) => {
    expect(decide(machine(s), { type: 'timedOut' }, null)).toMatchObject({ ok: false, code: 'NOOP' });
  });

  it('starts the clock on entering a monitored status', () => {
    expect(ok(decide(machine('ALLOCATED', { owner: 'alice' }), { type: 'deploy' }, ALICE, { nodeTimeoutMinutes: 40 })).deadlineMinutes).toBe(40);
    expect(ok(decide(machine('RESCUE_MODE', { previousStatus: prev('READY') }), { type: 'exitRescueMode' }, BOB_ADMIN)).deadlineMinutes).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------------
// Signals

describe('signals', () => {
  const sources: Record<string, string[]> = {
    commissioningSucceeded: ['COMMISSIONING'],
    commissioningFailed: ['COMMISSIONING'],
    testingSucceeded: ['TESTING'],
    testingFailed: ['TESTING'],
    deployed: ['DEPLOYING'],
    deploymentFailed: ['DEPLOYING'],
    releaseCompleted: ['RELEASING', 'DISK_ERASING'],
    releaseFailed: ['RELEASING', 'DISK_ERASING'],
    rescueEntered: ['ENTERING_RESCUE_MODE'],
    rescueExited: ['EXITING_RESCUE_MODE'],
  };
  const cases: Array<[string, string, boolean]> = [];
  for (const [signal, from] of Object.entries(sources)) {
    for (const name of REF_NAMES) cases.push([signal, name, from.includes(name)]);
  }

  it.each(cases)('%s in %s applies: %s (stale signals are NOOP)', (signal, name, applies) => {
    const d = decide(machine(name), { type: signal } as LifecycleEvent, null);
    if (applies) expect(d.ok).toBe(true);
    else expect(d).toMatchObject({ ok: false, code: 'NOOP' });
  });

  it('commissioning passes to READY, or NEW while enlisting', () => {
    check(decide(machine('COMMISSIONING'), { type: 'commissioningSucceeded' }, null), { to: st('READY'), effects: [] });
    const d = ok(decide(machine('COMMISSIONING', { enlisting: true }), { type: 'commissioningSucceeded' }, null));
    expect(d.to).toBe(st('NEW'));
    expect(d.enlisting).toBe(false);
  });

  it('commissioning can hand over to testing in the same boot', () => {
    const d = ok(decide(machine('COMMISSIONING'), { type: 'commissioningSucceeded', thenTesting: true }, null));
    expect(d.to).toBe(st('TESTING'));
    expect(d.previousStatus).toBe(st('COMMISSIONING'));
    expect(d.deadlineMinutes).toBe(30);
    const t = ok(decide(machine('TESTING', { previousStatus: prev('COMMISSIONING') }), { type: 'testingSucceeded' }, null));
    expect(t.to).toBe(st('READY'));
  });

  it('commissioning failure records the reason', () => {
    const d = ok(decide(machine('COMMISSIONING', { enlisting: true }), { type: 'commissioningFailed', reason: 'lshw crashed' }, null));
    expect(d.to).toBe(st('FAILED_COMMISSIONING'));
    expect(d.effects).toEqual([ABORT, errorText('Commissioning failed: lshw crashed')]);
    expect(d.event).toEqual({ type: 'Failed commissioning', level: 'ERROR', description: 'Commissioning failed: lshw crashed' });
    expect(d.enlisting).toBe(false);
  });

  it.each([
    ['READY', 'READY'],
    ['ALLOCATED', 'ALLOCATED'],
    ['DEPLOYED', 'DEPLOYED'],
    ['RESERVED', 'RESERVED'],
    ['FAILED_COMMISSIONING', 'NEW'],
    ['BROKEN', 'READY'],
    ['FAILED_TESTING', 'READY'],
    ['NEW', 'READY'],
  ])('testing started from %s passes back to %s', (from, to) => {
    expect(ok(decide(machine('TESTING', { previousStatus: prev(from) }), { type: 'testingSucceeded' }, null)).to).toBe(st(to));
  });

  it('testing of an enlisting machine passes back to NEW', () => {
    const d = ok(decide(machine('TESTING', { previousStatus: prev('DEPLOYED'), enlisting: true }), { type: 'testingSucceeded' }, null));
    expect(d.to).toBe(st('NEW'));
    expect(d.enlisting).toBe(false);
  });

  it('testing of a broken machine that passes frees it', () => {
    const d = ok(decide(machine('TESTING', { previousStatus: prev('BROKEN'), owner: 'alice' }), { type: 'testingSucceeded' }, null));
    expect(d.to).toBe(st('READY'));
    expect(d.effects).toEqual([CLEAR_OWNER]);
  });

  it('testing fails to FAILED_TESTING', () => {
    expect(ok(decide(machine('TESTING'), { type: 'testingFailed' }, null)).to).toBe(st('FAILED_TESTING'));
  });

  it('deployment finishes or fails', () => {
    check(decide(machine('DEPLOYING', { owner: 'alice' }), { type: 'deployed' }, null), { to: st('DEPLOYED'), effects: [] });
    const d = ok(decide(machine('DEPLOYING', { owner: 'alice' }), { type: 'deploymentFailed', reason: 'curtin exited 3' }, null));
    expect(d.to).toBe(st('FAILED_DEPLOYMENT'));
    expect(d.event).toEqual({ type: 'Failed deployment', level: 'ERROR', description: 'Deploying failed: curtin exited 3' });
  });
});

// ---------------------------------------------------------------------------------------------
// Abort, mark broken/fixed, override, rescue mode

describe('abort', () => {
  it.each([
    ['COMMISSIONING', 'READY'],
    ['DEPLOYED', 'DEPLOYED'],
    ['ALLOCATED', 'ALLOCATED'],
    ['BROKEN', 'BROKEN'],
    ['NEW', 'NEW'],
    ['FAILED_COMMISSIONING', 'NEW'],
  ])('testing started from %s returns to %s', (from, to) => {
    const d = ok(decide(machine('TESTING', { previousStatus: prev(from) }), { type: 'abort' }, BOB_ADMIN));
    expect(d.to).toBe(st(to));
    expect(d.effects.slice(-2)).toEqual([OFF, ABORT]);
  });

  it('ends enlistment when its commissioning is aborted', () => {
    const d = ok(decide(machine('COMMISSIONING', { enlisting: true }), { type: 'abort' }, BOB_ADMIN));
    expect(d.to).toBe(st('NEW'));
    expect(d.enlisting).toBe(false);
  });

  it('keeps the owner when a deployment is aborted', () => {
    check(decide(machine('DEPLOYING', { owner: 'alice', osystem: 'ubuntu' }), { type: 'abort' }, ALICE), {
      to: st('ALLOCATED'),
      effects: [OFF, ABORT],
    });
  });
});

describe('mark broken and mark fixed', () => {
  it('a deployed machine comes back deployed', () => {
    const m = machine('DEPLOYED', { owner: 'alice', osystem: 'ubuntu' });
    const broken = ok(decide(m, { type: 'markBroken', comment: 'PSU fan' }, ALICE));
    expect(broken).toMatchObject({ to: st('BROKEN'), previousStatus: st('DEPLOYED'), effects: [errorText('PSU fan')] });
    expect(broken.event).toEqual({ type: 'Broken', level: 'WARNING', description: 'Marked broken by alice: PSU fan' });
    const fixed = decide({ ...m, status: st('BROKEN') as NodeStatus, previousStatus: prev('DEPLOYED') }, { type: 'markFixed' }, BOB_ADMIN);
    check(fixed, { to: st('DEPLOYED'), effects: [errorText('')] });
  });

  it('any other machine comes back READY and unowned', () => {
    const m = machine('BROKEN', { owner: 'alice', previousStatus: prev('ALLOCATED') });
    check(decide(m, { type: 'markFixed' }, BOB_ADMIN), { to: st('READY'), effects: [CLEAR_OWNER, errorText('')] });
  });

  it('records an empty error description without a comment', () => {
    expect(ok(decide(machine('ALLOCATED', { owner: 'alice' }), { type: 'markBroken' }, ALICE)).effects).toEqual([errorText('')]);
  });
});

describe('override failed testing', () => {
  it('returns to DEPLOYED when an OS is recorded', () => {
    check(decide(machine('FAILED_TESTING', { osystem: 'ubuntu', owner: 'alice' }), { type: 'overrideFailedTesting' }, BOB_ADMIN), {
      to: st('DEPLOYED'),
      effects: [errorText('')],
    });
  });
});

describe('rescue mode', () => {
  it('keeps the owner of a deployed machine', () => {
    const d = ok(decide(machine('DEPLOYED', { owner: 'alice', osystem: 'ubuntu' }), { type: 'rescueMode' }, BOB_ADMIN));
    expect(d).toMatchObject({ to: st('ENTERING_RESCUE_MODE'), previousStatus: st('DEPLOYED'), effects: [CYCLE] });
  });

  it('enters and exits through the signals', () => {
    check(decide(machine('ENTERING_RESCUE_MODE', { previousStatus: prev('DEPLOYED') }), { type: 'rescueEntered' }, null), {
      to: st('RESCUE_MODE'),
      effects: [],
    });
    const exit = ok(decide(machine('RESCUE_MODE', { previousStatus: prev('DEPLOYED'), owner: 'alice' }), { type: 'exitRescueMode' }, BOB_ADMIN));
    expect(exit).toMatchObject({ to: st('EXITING_RESCUE_MODE'), effects: [CYCLE], deadlineMinutes: 5 });
    check(decide(machine('EXITING_RESCUE_MODE', { previousStatus: prev('DEPLOYED'), owner: 'alice' }), { type: 'rescueExited' }, null), {
      to: st('DEPLOYED'),
      effects: [],
    });
    check(decide(machine('EXITING_RESCUE_MODE', { owner: 'bob' }), { type: 'rescueExited' }, null), {
      to: st('READY'),
      effects: [CLEAR_OWNER],
    });
  });

  it('returns straight to the previous status with a manual power type, through EXITING_RESCUE_MODE', () => {
    const d = ok(
      decide(machine('RESCUE_MODE', { previousStatus: prev('DEPLOYED'), owner: 'alice', powerType: 'manual' }), { type: 'exitRescueMode' }, BOB_ADMIN),
    );
    expect(d).toMatchObject({ to: st('DEPLOYED'), via: [st('EXITING_RESCUE_MODE')], effects: [CYCLE], deadlineMinutes: null });
    const r = ok(decide(machine('RESCUE_MODE', { previousStatus: prev('READY'), owner: 'bob', powerType: 'manual' }), { type: 'exitRescueMode' }, BOB_ADMIN));
    expect(r).toMatchObject({ to: st('READY'), effects: [CLEAR_OWNER, OFF] });
  });

  it('keeps the original previous status when entry is retried', () => {
    const d = ok(decide(machine('FAILED_ENTERING_RESCUE_MODE', { previousStatus: prev('DEPLOYED'), owner: 'alice' }), { type: 'rescueMode' }, BOB_ADMIN));
    expect(d.previousStatus).toBe(st('DEPLOYED'));
  });

  it('testing from rescue mode keeps the status from before rescue mode', () => {
    const d = ok(decide(machine('RESCUE_MODE', { previousStatus: prev('DEPLOYED'), owner: 'alice' }), { type: 'test' }, BOB_ADMIN));
    expect(d.previousStatus).toBe(st('DEPLOYED'));
  });
});

describe('event records', () => {
  it('names the status and who asked', () => {
    const d = ok(decide(machine('ALLOCATED', { owner: 'alice' }), { type: 'deploy' }, ALICE));
    expect(d.event).toEqual({ type: 'Deploying', level: 'INFO', description: 'Deployment requested by alice' });
    expect(ok(decide(machine('READY'), { type: 'commission' }, null)).event.description).toBe('Commissioning requested by system');
  });

  it('names actions that change no status', () => {
    const m = machine('DEPLOYED', { owner: 'alice' });
    expect(ok(decide(m, { type: 'powerOn' }, ALICE)).event.type).toBe('Powering on');
    expect(ok(decide(m, { type: 'powerOff' }, ALICE)).event.type).toBe('Powering off');
    expect(ok(decide(m, { type: 'lock' }, ALICE)).event.type).toBe('Locked');
  });
});

describe('availableActions', () => {
  it('lists what the actor can do now', () => {
    expect(availableActions(machine('DEPLOYED', { owner: 'alice' }), ALICE).sort()).toEqual(
      ['lock', 'markBroken', 'powerOff', 'powerOn', 'release'].sort(),
    );
    expect(availableActions(machine('DEPLOYED', { owner: 'alice', locked: true }), ALICE)).toEqual(['unlock']);
  });
});

// ---------------------------------------------------------------------------------------------
// The invariant: decisions only ever take legal transitions

describe('every successful decision follows the FSM', () => {
  const events: LifecycleEvent[] = [
    { type: 'commission' },
    { type: 'test' },
    { type: 'abort' },
    { type: 'allocate' },
    { type: 'deploy' },
    { type: 'release' },
    { type: 'release', erase: true },
    { type: 'release', scripts: true },
    { type: 'markBroken', comment: 'x' },
    { type: 'markFixed' },
    { type: 'rescueMode' },
    { type: 'exitRescueMode' },
    { type: 'lock' },
    { type: 'unlock' },
    { type: 'overrideFailedTesting' },
    { type: 'powerOn' },
    { type: 'powerOff', stopMode: 'soft' },
    { type: 'accept' },
    { type: 'commissioningSucceeded' },
    { type: 'commissioningSucceeded', thenTesting: true },
    { type: 'commissioningFailed', reason: 'x' },
    { type: 'testingSucceeded' },
    { type: 'testingFailed' },
    { type: 'deployed' },
    { type: 'deploymentFailed' },
    { type: 'releaseCompleted' },
    { type: 'releaseFailed' },
    { type: 'rescueEntered' },
    { type: 'rescueExited' },
    { type: 'timedOut' },
  ];

  it('over every status, previous status, event, power setup, owner and actor', () => {
    let accepted = 0;
    let changed = 0;
    const seenPairs = new Set<string>();
    for (const status of REF_INTS) {
      for (const previousStatus of [null, ...REF_INTS]) {
        for (const powerType of ['ipmi', 'manual', '']) {
          for (const powerState of ['on', 'off'] as const) {
            for (const owner of [null, 'alice']) {
              for (const variant of [0, 1]) {
                const m = machine(status, {
                  previousStatus: previousStatus as NodeStatus | null,
                  powerType,
                  powerState,
                  owner,
                  enlisting: variant === 1,
                  locked: variant === 1 && owner !== null,
                  osystem: variant === 1 ? 'ubuntu' : '',
                });
                for (const actor of [null, ALICE, BOB_ADMIN]) {
                  for (const event of events) {
                    const d = decide(m, event, actor);
                    if (!d.ok) continue;
                    accepted++;
                    // Plain checks: expect() in a loop of a million iterations is slow.
                    if (d.from !== status) throw new Error(`${event.type}: from ${d.from} != ${status}`);
                    if (d.deadlineMinutes !== refDeadline(d.to)) throw new Error(`${event.type}: deadline ${d.deadlineMinutes}`);
                    if (d.to === d.from) continue;
                    changed++;
                    seenPairs.add(`${d.from}>${d.to}`);
                    const path = [d.from, ...(d.via ?? []), d.to];
                    for (let i = 1; i < path.length; i++) {
                      if (!refCanTransition(path[i - 1], path[i])) {
                        throw new Error(
                          `${event.type} took ${display(path[i - 1])} -> ${display(path[i])} (machine ${JSON.stringify(m)})`,
                        );
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(10000);
    expect(changed).toBeGreaterThan(1000);
    expect(seenPairs.size).toBeGreaterThan(60);
  });
});
