/**
 * The lifecycle decision: given a machine, an event and who asked, say what should happen.
 * It performs nothing. The region persists `to` (+ previous_status, deadline) with an optimistic
 * version check and then executes `effects` in order.
 *
 * Rules come from maas-api.md 1.3-1.4. Where the reference is silent the choice is documented
 * next to the code as "Kiln:".
 */
import { ACTIONS } from './actions.table';
import { gateRefusal } from './permissions';
import type {
  Accepted,
  ActionEvent,
  ActionName,
  Actor,
  DecideOptions,
  Decision,
  Effect,
  EventLevel,
  LifecycleEvent,
  MachineView,
  RefusalCode,
  Refused,
  SignalEvent,
} from './decision.types';
import { DEFAULT_STOP_MODE, NodeStatus, statusName } from './node-status';
import {
  canTransition,
  deadlineMinutes,
  FAILURE_MAP,
  invalidTransitionMessage,
  isMonitoredStatus,
  testingPassedStatus,
} from './transitions.table';

const S = NodeStatus;

export const UNCONFIGURED_POWER_MESSAGE = 'Unconfigured power type. Please configure the power type and try again.';

/**
 * Statuses of machines in the free pool. Kiln: entering one of them always drops the owner, the
 * deployment data and the lock, whatever path led there (release, abort, mark fixed, override,
 * testing from a broken machine...), so "Ready but still owned" never exists.
 */
const POOL_STATUSES: readonly NodeStatus[] = [S.NEW, S.COMMISSIONING, S.READY];

// ---------------------------------------------------------------------------------------------
// Entry point

export function decide(
  machine: MachineView,
  event: LifecycleEvent,
  actor: Actor | null,
  opts: DecideOptions = {},
): Decision {
  if (isActionEvent(event)) {
    const gate = gateRefusal(machine, event.type, actor);
    if (gate) return gate;
    return decideAction(machine, event, actor, opts);
  }
  return decideSignal(machine, event, opts);
}

/** Actions `decide` would accept right now for this actor (for UI menus and `describe`). */
export function availableActions(machine: MachineView, actor: Actor | null, opts: DecideOptions = {}): ActionName[] {
  return (Object.keys(ACTIONS) as ActionName[]).filter((name) => {
    const d = decide(machine, { type: name } as ActionEvent, actor, opts);
    return d.ok;
  });
}

const ACTION_TYPES: ReadonlySet<string> = new Set(Object.keys(ACTIONS));

function isActionEvent(event: LifecycleEvent): event is ActionEvent {
  return ACTION_TYPES.has(event.type);
}

// ---------------------------------------------------------------------------------------------
// Operator actions

function decideAction(m: MachineView, event: ActionEvent, actor: Actor | null, opts: DecideOptions): Decision {
  const who = actor?.username ?? 'system';
  const from = m.status;
  const spec = ACTIONS[event.type];
  const allowed = spec.apiStatuses.includes(from);
  const noop = spec.noopStatuses.includes(from);

  switch (event.type) {
    case 'commission': {
      if (!allowed) return refuse('FORM_ERROR', 'Commission is not available because of the current state of the node.');
      return startCommissioning(m, opts, `Commissioning requested by ${who}`);
    }

    case 'accept': {
      // MAAS accept_enlistment: NEW starts commissioning; READY/COMMISSIONING are already accepted.
      if (noop) return refuse('NOOP', `Machine ${idOf(m)} is already accepted (${statusName(from)}).`);
      if (!allowed) {
        return refuse('CONFLICT', `Cannot accept node enlistment: node ${idOf(m)} is in state ${statusName(from)}.`);
      }
      return startCommissioning(m, opts, `Enlistment accepted by ${who}; commissioning started`);
    }

    case 'test': {
      if (!allowed) return refuse('FORM_ERROR', 'Test is not available because of the current state of the node.');
      if (from === S.NEW && m.commissioned === false) {
        return refuse('FORM_ERROR', 'Test is not available because the machine has never been commissioned; commission it first.');
      }
      if (m.powerType === '') return refuse('UNCONFIGURED_POWER', UNCONFIGURED_POWER_MESSAGE);
      // Kiln: testing from RESCUE_MODE keeps the status saved before rescue mode (TESTING may not
      // return to RESCUE_MODE), so passing tests returns where the machine was before rescue.
      const previousStatus = from === S.RESCUE_MODE ? m.previousStatus : from;
      return accepted(m, S.TESTING, [{ kind: 'powerCycle' }, { kind: 'startTesting' }], opts, {
        level: 'INFO',
        description: `Testing requested by ${who}`,
        previousStatus,
        // Kiln: an operator taking over a machine ends its enlistment.
        ...(m.enlisting ? { enlisting: false } : {}),
      });
    }

    case 'abort': {
      if (!allowed) {
        return refuse('CONFLICT', `Cannot abort in current state: node ${idOf(m)} is in state ${statusName(from)}.`);
      }
      const effects: Effect[] = [powerOff(DEFAULT_STOP_MODE), { kind: 'abortScripts' }];
      let to: NodeStatus;
      let what: string;
      let enlisting: boolean | undefined;
      switch (from) {
        case S.COMMISSIONING:
          to = S.NEW;
          what = 'Commissioning';
          if (m.enlisting) enlisting = false;
          break;
        case S.DEPLOYING:
          to = S.ALLOCATED;
          what = 'Deployment';
          break;
        case S.DISK_ERASING:
          to = S.FAILED_DISK_ERASING;
          what = 'Disk erasing';
          break;
        default:
          to = testingAbortedStatus(m.previousStatus, m.enlisting);
          what = 'Testing';
          if (m.enlisting) enlisting = false;
          break;
      }
      return accepted(m, to, effects, opts, {
        level: 'WARNING',
        description: `${what} aborted by ${who}; machine returned to ${statusName(to)}`,
        ...(enlisting === undefined ? {} : { enlisting }),
      });
    }

    case 'allocate': {
      const unavailable = refuse('CONFLICT', `No machine with system ID ${idOf(m)} available.`);
      if (!allowed) return unavailable;
      // An administrator may pass the permission gate on a machine someone else holds; it is
      // still not available to them.
      if (m.owner !== null && m.owner !== actor?.username) return unavailable;
      if (actor === null) return refuse('FORM_ERROR', 'Allocating a machine needs a user to own it.');
      const effects: Effect[] = m.owner === actor.username ? [] : [{ kind: 'setOwner', owner: actor.username }];
      return accepted(m, S.ALLOCATED, effects, opts, { level: 'INFO', description: `Allocated to ${actor.username}` });
    }

    case 'deploy': {
      if (!allowed) return refuse('CONFLICT', `Can't deploy a machine that is in the '${statusName(from)}' state`);
      const effects: Effect[] = [];
      if (from === S.READY) {
        if (m.owner === null) {
          // Deploying a READY machine allocates it to the caller first.
          if (actor === null) return refuse('FORM_ERROR', 'Deploying an unallocated machine needs a user to allocate it to.');
          effects.push({ kind: 'setOwner', owner: actor.username });
        } else if (actor !== null && m.owner !== actor.username) {
          // Only an administrator gets here (the permission gate stops other users with 403).
          return refuse('CONFLICT', "Can't allocate a machine belonging to another user.");
        }
        // Kiln: the system deploying a READY machine someone holds deploys it for that owner.
      }
      if (m.powerType === '') return refuse('UNCONFIGURED_POWER', UNCONFIGURED_POWER_MESSAGE);
      effects.push({ kind: 'powerOn' }, { kind: 'startDeployment' });
      return accepted(m, S.DEPLOYING, effects, opts, {
        level: 'INFO',
        description: `Deployment requested by ${who}`,
        // MAAS acquires, then deploys: READY -> DEPLOYING alone is not a legal transition.
        ...(from === S.READY ? { via: [S.ALLOCATED] } : {}),
      });
    }

    case 'release':
      return release(m, event, who, opts);

    case 'markBroken': {
      if (noop) return refuse('NOOP', `Machine ${idOf(m)} is already marked broken.`);
      // Every status may move to BROKEN; allowed is always true here (kept for the table's sake).
      if (!allowed) return refuse('CONFLICT', invalidTransitionMessage(from, S.BROKEN));
      const comment = event.comment ?? '';
      // Kiln: an operation in flight (or the rescue environment) is stopped: scripts aborted, power
      // off. A deployed or allocated machine is left running and keeps its owner and deployment,
      // so mark_fixed can put a deployed machine back to DEPLOYED; the owner can still power it.
      const effects: Effect[] =
        isMonitoredStatus(from) || from === S.RESCUE_MODE ? [{ kind: 'abortScripts' }, powerOff(DEFAULT_STOP_MODE)] : [];
      effects.push({ kind: 'setErrorDescription', text: comment });
      return accepted(m, S.BROKEN, effects, opts, {
        level: 'WARNING',
        description: comment ? `Marked broken by ${who}: ${comment}` : `Marked broken by ${who}`,
        previousStatus: from,
      });
    }

    case 'markFixed': {
      if (!allowed) return refuse('CONFLICT', "Can't mark a non-broken node as 'Ready'.");
      const to = m.previousStatus === S.DEPLOYED ? S.DEPLOYED : S.READY;
      return accepted(m, to, [{ kind: 'setErrorDescription', text: '' }], opts, {
        level: 'INFO',
        description: `Marked fixed by ${who}`,
      });
    }

    case 'overrideFailedTesting': {
      if (!allowed) {
        return refuse('CONFLICT', "Unable to override node status. Node is not in 'Failed testing' status.");
      }
      const to = m.osystem === '' ? S.READY : S.DEPLOYED;
      return accepted(m, to, [{ kind: 'setErrorDescription', text: '' }], opts, {
        level: 'WARNING',
        description: `Failed testing overridden by ${who}`,
      });
    }

    case 'rescueMode': {
      if (noop) return refuse('NOOP', `Machine ${idOf(m)} is already entering rescue mode.`);
      if (!allowed) return refuse('CONFLICT', invalidTransitionMessage(from, S.ENTERING_RESCUE_MODE));
      if (m.powerType === '') return refuse('UNCONFIGURED_POWER', UNCONFIGURED_POWER_MESSAGE);
      // Kiln: MAAS makes the caller the owner. We do so only for an unowned machine: taking a
      // deployed machine away from its owner because an admin looked at it would be a surprise,
      // and the owner is restored anyway when rescue mode ends in DEPLOYED/ALLOCATED.
      const effects: Effect[] = m.owner === null && actor !== null ? [{ kind: 'setOwner', owner: actor.username }] : [];
      effects.push({ kind: 'powerCycle' });
      // Kiln: retrying after a failed entry keeps the status saved before the first attempt.
      const previousStatus =
        from === S.FAILED_ENTERING_RESCUE_MODE && m.previousStatus !== null ? m.previousStatus : from;
      return accepted(m, S.ENTERING_RESCUE_MODE, effects, opts, {
        level: 'INFO',
        description: `Rescue mode requested by ${who}`,
        previousStatus,
      });
    }

    case 'exitRescueMode': {
      if (noop) return refuse('NOOP', `Machine ${idOf(m)} is already exiting rescue mode.`);
      if (!allowed) return refuse('CONFLICT', invalidTransitionMessage(from, S.EXITING_RESCUE_MODE));
      const back = rescueReturnStatus(m.previousStatus);
      const effects: Effect[] = [];
      // Deployed machines boot back into their OS; everything else is switched off.
      if (m.powerType !== '') effects.push(back === S.DEPLOYED ? { kind: 'powerCycle' } : powerOff(DEFAULT_STOP_MODE));
      if (!isPowerQueryable(m)) {
        // Nothing will ever confirm the power state: go straight back, through EXITING_RESCUE_MODE
        // (RESCUE_MODE -> DEPLOYED directly is not a legal transition; both hops are).
        return accepted(m, back, effects, opts, {
          level: 'INFO',
          description: `Exit from rescue mode requested by ${who}; power type '${m.powerType}' cannot be queried, so the machine returned to ${statusName(back)} directly`,
          via: [S.EXITING_RESCUE_MODE],
        });
      }
      return accepted(m, S.EXITING_RESCUE_MODE, effects, opts, {
        level: 'INFO',
        description: `Exit from rescue mode requested by ${who}`,
      });
    }

    case 'lock': {
      if (m.locked) return refuse('CONFLICT', 'Machine is already locked');
      if (!allowed) return refuse('CONFLICT', "Can't lock, node is not deployed or deploying");
      return accepted(m, from, [{ kind: 'setLocked', locked: true }], opts, {
        level: 'INFO',
        type: 'Locked',
        description: `Locked by ${who}`,
      });
    }

    case 'unlock': {
      if (!m.locked) return refuse('CONFLICT', 'Machine is not locked');
      return accepted(m, from, [{ kind: 'setLocked', locked: false }], opts, {
        level: 'INFO',
        type: 'Unlocked',
        description: `Unlocked by ${who}`,
      });
    }

    case 'powerOn': {
      if (m.owner === null) return refuse('CONFLICT', "Can't start node: it hasn't been allocated.");
      // Kiln: there is no driver to call; say so instead of queueing a job that can only fail.
      if (m.powerType === '') return refuse('UNCONFIGURED_POWER', UNCONFIGURED_POWER_MESSAGE);
      return accepted(m, from, [{ kind: 'powerOn' }], opts, {
        level: 'INFO',
        type: 'Powering on',
        description: `Power on requested by ${who}`,
      });
    }

    case 'powerOff': {
      if (m.powerType === '') return refuse('UNCONFIGURED_POWER', UNCONFIGURED_POWER_MESSAGE);
      const stopMode = event.stopMode ?? DEFAULT_STOP_MODE;
      return accepted(m, from, [powerOff(stopMode)], opts, {
        level: 'INFO',
        type: 'Powering off',
        description: `Power off (${stopMode}) requested by ${who}`,
      });
    }
  }
}

/** commission and accept: NEW/FAILED_COMMISSIONING/READY/BROKEN -> COMMISSIONING. */
function startCommissioning(m: MachineView, opts: DecideOptions, description: string): Decision {
  if (m.powerType === '') return refuse('UNCONFIGURED_POWER', UNCONFIGURED_POWER_MESSAGE);
  if (m.interfaceCount === 0 && m.powerType !== 'ipmi') {
    // IPMI machines can be commissioned without interfaces: the BMC boots them and commissioning
    // discovers the NICs. Anything else needs a known NIC to PXE-boot from.
    return refuse(
      'FORM_ERROR',
      "Commission is not available because the machine has no network interfaces. Add an interface (or use the 'ipmi' power type) and try again.",
    );
  }
  return accepted(m, S.COMMISSIONING, [{ kind: 'powerCycle' }, { kind: 'startCommissioning' }], opts, {
    level: 'INFO',
    description,
    previousStatus: m.status,
    // Kiln: an operator taking over a machine ends its enlistment (otherwise commissioning would
    // end in NEW instead of READY).
    ...(m.enlisting ? { enlisting: false } : {}),
  });
}

function release(
  m: MachineView,
  event: Extract<ActionEvent, { type: 'release' }>,
  who: string,
  opts: DecideOptions,
): Decision {
  const from = m.status;
  const spec = ACTIONS.release;
  if (from === S.READY) return refuse('NOOP', `Machine ${idOf(m)} is already released.`);
  if (from === S.RELEASING) return refuse('NOOP', `Machine ${idOf(m)} is already being released.`);
  if (!spec.apiStatuses.includes(from)) {
    return refuse('CONFLICT', `Machine cannot be released in its current state ('${statusName(from)}').`);
  }
  // A deployment in flight is stopped (curtin is running in the ephemeral environment).
  const stop: Effect[] = from === S.DEPLOYING ? [{ kind: 'abortScripts' }] : [];

  if (event.erase || event.scripts) {
    // Release scripts run in the ephemeral environment: boot it. The owner keeps the machine
    // until the scripts report success (releaseCompleted).
    if (m.powerType === '') return refuse('UNCONFIGURED_POWER', UNCONFIGURED_POWER_MESSAGE);
    const to = event.erase ? S.DISK_ERASING : S.RELEASING;
    return accepted(
      m,
      to,
      [...stop, { kind: 'clearDeployment' }, { kind: 'powerCycle' }, { kind: 'startReleaseScripts' }],
      opts,
      {
        level: 'INFO',
        description: event.erase
          ? `Release with disk erasing requested by ${who}`
          : `Release with release scripts requested by ${who}`,
      },
    );
  }

  if (!isPowerQueryable(m) || m.powerState === 'off') {
    // Nothing to wait for: the machine is off already, or nothing can tell us when it is.
    const effects: Effect[] = [...stop];
    // Kiln: an unconfigured power type has no driver to call, so no powerOff for it.
    if (m.powerType !== '') effects.push(powerOff(DEFAULT_STOP_MODE));
    effects.push({ kind: 'clearOwner' }, { kind: 'clearDeployment' });
    return accepted(m, S.READY, effects, opts, { level: 'INFO', description: `Released by ${who}` });
  }
  return accepted(m, S.RELEASING, [...stop, powerOff(DEFAULT_STOP_MODE), { kind: 'clearDeployment' }], opts, {
    level: 'INFO',
    description: `Release requested by ${who}; waiting for the machine to power off`,
  });
}

// ---------------------------------------------------------------------------------------------
// Signals from the machine, the rack and timers

/**
 * Signals are not permission-checked: the adapters that turn metadata API calls, power-state
 * reports and deadline jobs into signals authenticate their source.
 *
 * Kiln: a signal that does not match the current status (duplicate, or late after an abort or a
 * timeout) is a NOOP, not an error, so that redelivered jobs and messages are harmless.
 */
function decideSignal(m: MachineView, event: SignalEvent, opts: DecideOptions): Decision {
  const from = m.status;
  const stale = (expected: string): Refused =>
    refuse('NOOP', `Ignoring ${event.type}: machine ${idOf(m)} is ${statusName(from)}, not ${expected}.`);

  switch (event.type) {
    case 'commissioningSucceeded': {
      if (from !== S.COMMISSIONING) return stale(statusName(S.COMMISSIONING));
      if (event.thenTesting) {
        return accepted(m, S.TESTING, [], opts, {
          level: 'INFO',
          description: 'Commissioning finished; testing started',
          previousStatus: S.COMMISSIONING,
        });
      }
      // An enlisting machine goes back to NEW and waits for an operator to accept it.
      const to = m.enlisting ? S.NEW : S.READY;
      return accepted(m, to, [], opts, {
        level: 'INFO',
        description: m.enlisting ? 'Enlistment commissioning finished' : 'Commissioning finished',
        ...(m.enlisting ? { enlisting: false } : {}),
      });
    }
    case 'commissioningFailed':
      if (from !== S.COMMISSIONING) return stale(statusName(S.COMMISSIONING));
      return failed(m, event.reason, opts, m.enlisting ? { enlisting: false } : {});

    case 'testingSucceeded': {
      if (from !== S.TESTING) return stale(statusName(S.TESTING));
      const to = testingPassedStatus(m.previousStatus, m.enlisting);
      return accepted(m, to, [], opts, {
        level: 'INFO',
        description: 'Testing passed',
        ...(m.enlisting ? { enlisting: false } : {}),
      });
    }
    case 'testingFailed':
      if (from !== S.TESTING) return stale(statusName(S.TESTING));
      return failed(m, event.reason, opts);

    case 'deployed':
      if (from !== S.DEPLOYING) return stale(statusName(S.DEPLOYING));
      return accepted(m, S.DEPLOYED, [], opts, { level: 'INFO', description: 'Deployment finished' });
    case 'deploymentFailed':
      if (from !== S.DEPLOYING) return stale(statusName(S.DEPLOYING));
      return failed(m, event.reason, opts);

    case 'releaseCompleted':
      if (from !== S.RELEASING && from !== S.DISK_ERASING) return stale(`${statusName(S.RELEASING)} or ${statusName(S.DISK_ERASING)}`);
      return accepted(m, S.READY, [{ kind: 'clearOwner' }], opts, { level: 'INFO', description: 'Release finished' });
    case 'releaseFailed':
      if (from !== S.RELEASING && from !== S.DISK_ERASING) return stale(`${statusName(S.RELEASING)} or ${statusName(S.DISK_ERASING)}`);
      return failed(m, event.reason, opts);

    case 'rescueEntered':
      if (from !== S.ENTERING_RESCUE_MODE) return stale(statusName(S.ENTERING_RESCUE_MODE));
      return accepted(m, S.RESCUE_MODE, [], opts, { level: 'INFO', description: 'Rescue mode entered' });
    case 'rescueExited': {
      if (from !== S.EXITING_RESCUE_MODE) return stale(statusName(S.EXITING_RESCUE_MODE));
      const back = rescueReturnStatus(m.previousStatus);
      return accepted(m, back, [], opts, { level: 'INFO', description: `Rescue mode exited; back to ${statusName(back)}` });
    }

    case 'powerFailed':
      if (!isMonitoredStatus(from)) {
        return refuse('NOOP', `Ignoring powerFailed: machine ${idOf(m)} is ${statusName(from)}, which waits on no power action.`);
      }
      return failed(m, event.reason, opts);

    case 'timedOut': {
      if (!isMonitoredStatus(from)) {
        return refuse('NOOP', `Ignoring timedOut: machine ${idOf(m)} is ${statusName(from)}, which has no deadline.`);
      }
      const minutes = deadlineMinutes(from, opts);
      const last = event.lastStep ? `; stalled after: ${event.lastStep}` : '';
      const text = `${statusName(from)} timed out: deadline of ${minutes} minutes passed${last}`;
      // Kiln: a machine that missed its deadline is powered off (it may be stuck in a boot loop
      // or half-installed); signalled failures leave power alone so the runner's own power-off
      // or SSH-debug choice stands.
      return accepted(
        m,
        FAILURE_MAP[from],
        [{ kind: 'abortScripts' }, powerOff(DEFAULT_STOP_MODE), { kind: 'setErrorDescription', text }],
        opts,
        { level: 'ERROR', description: text },
      );
    }
  }
}

/** An in-flight status failed (signal): FAILURE_MAP target, scripts aborted, reason recorded. */
function failed(m: MachineView, reason: string | undefined, opts: DecideOptions, extra: { enlisting?: boolean } = {}): Decision {
  const from = m.status;
  if (!isMonitoredStatus(from)) throw new Error(`failed() called for non-monitored status ${from}`);
  const text = reason ? `${statusName(from)} failed: ${reason}` : `${statusName(from)} failed`;
  return accepted(m, FAILURE_MAP[from], [{ kind: 'abortScripts' }, { kind: 'setErrorDescription', text }], opts, {
    level: 'ERROR',
    description: text,
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * Where aborting tests returns (reference: "previous status, READY if testing followed
 * commissioning"). Kiln, where the reference is silent: enlisting -> NEW; unknown -> READY;
 * FAILED_COMMISSIONING -> NEW (TESTING may not go back to FAILED_COMMISSIONING, and NEW says
 * "needs commissioning", as passing tests would); any other status TESTING may not reach -> READY.
 */
function testingAbortedStatus(previous: NodeStatus | null, enlisting: boolean): NodeStatus {
  if (enlisting) return S.NEW;
  if (previous === null || previous === S.COMMISSIONING) return S.READY;
  if (previous === S.FAILED_COMMISSIONING) return S.NEW;
  return canTransition(S.TESTING, previous) ? previous : S.READY;
}

/**
 * Where leaving rescue mode returns: the status saved when rescue mode was entered. Kiln: when
 * it is unknown, or not a legal target of EXITING_RESCUE_MODE, READY.
 */
function rescueReturnStatus(previous: NodeStatus | null): NodeStatus {
  if (previous === null || previous === S.RESCUE_MODE) return S.READY;
  return canTransition(S.EXITING_RESCUE_MODE, previous) ? previous : S.READY;
}

/** 'manual' cannot be queried, and an unconfigured power type has nothing to query. */
function isPowerQueryable(m: MachineView): boolean {
  return m.powerType !== '' && m.powerType !== 'manual';
}

function powerOff(stopMode: 'hard' | 'soft'): Effect {
  return { kind: 'powerOff', stopMode };
}

function idOf(m: MachineView): string {
  return m.systemId ?? '(unknown)';
}

function refuse(code: RefusalCode, message: string): Refused {
  return { ok: false, code, message };
}

interface AcceptExtras {
  level: EventLevel;
  description: string;
  /** Event type; defaults to the display string of the target status. */
  type?: string;
  previousStatus?: NodeStatus | null;
  enlisting?: boolean;
  via?: NodeStatus[];
}

function accepted(m: MachineView, to: NodeStatus, effects: Effect[], opts: DecideOptions, x: AcceptExtras): Accepted {
  const from = m.status;
  const path = [from, ...(x.via ?? []), to];
  for (let i = 1; i < path.length; i++) {
    if (!canTransition(path[i - 1], path[i])) {
      // A bug in this file, never a user error: the table and the rules disagree.
      throw new Error(`lifecycle rule produced an illegal transition: ${invalidTransitionMessage(path[i - 1], path[i])}`);
    }
  }
  const decision: Accepted = {
    ok: true,
    from,
    to,
    effects: [...poolCleanup(m, to, effects), ...effects],
    deadlineMinutes: deadlineMinutes(to, opts),
    event: { type: x.type ?? statusName(to), level: x.level, description: x.description },
  };
  if (x.previousStatus !== undefined) decision.previousStatus = x.previousStatus;
  if (x.enlisting !== undefined) decision.enlisting = x.enlisting;
  if (x.via !== undefined) decision.via = x.via;
  return decision;
}

/** Effects that bring a machine entering the free pool back to a clean state (see POOL_STATUSES). */
function poolCleanup(m: MachineView, to: NodeStatus, effects: readonly Effect[]): Effect[] {
  if (to === m.status || !POOL_STATUSES.includes(to)) return [];
  const has = (kind: Effect['kind']): boolean => effects.some((e) => e.kind === kind);
  const out: Effect[] = [];
  if (m.owner !== null && !has('clearOwner')) out.push({ kind: 'clearOwner' });
  if (m.osystem !== '' && !has('clearDeployment')) out.push({ kind: 'clearDeployment' });
  if (m.locked && !has('setLocked')) out.push({ kind: 'setLocked', locked: false });
  return out;
}
