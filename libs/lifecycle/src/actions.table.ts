/**
 * Operator actions as data: where each is allowed and who may run it
 * (reference: maas-api.md 1.4.1 node actions, 1.4.2 REST operations).
 *
 * MAAS has two layers. The UI "node actions" list the statuses in which an action is offered
 * (`uiStatuses`). The REST handlers enforce their own, sometimes looser, preconditions
 * (`apiStatuses`); `decide` enforces those, because the REST API is what clients drive.
 */
import type { ActionName } from './decision.types';
import { ALL_STATUSES, NodeStatus } from './node-status';
import { MONITORED_STATUSES, TRANSITIONS } from './transitions.table';

const S = NodeStatus;

/**
 * - admin: the actor must be an administrator.
 * - edit:  an administrator, the owner, or anyone when the machine is unowned (MAAS `edit`).
 * - owner: the actor must be the owner; being an administrator is not enough (mark_broken).
 * - lock:  an administrator or the owner; the only permission that ignores `locked`.
 * The system (a null actor) holds every permission.
 */
export type Permission = 'admin' | 'edit' | 'owner' | 'lock';

export interface ActionSpec {
  readonly name: ActionName;
  /** MAAS node-action name (UI/websocket), null when there is none. */
  readonly uiAction: string | null;
  /** MAAS REST operation (`op=`), null when there is none. */
  readonly restOp: string | null;
  /** Permission `decide` requires (the REST one). */
  readonly permission: Permission;
  /** Permission of the UI node action where it differs from the REST one. */
  readonly uiPermission: Permission;
  /** Statuses in which the UI offers the action (1.4.1). */
  readonly uiStatuses: readonly NodeStatus[];
  /** Statuses in which `decide` accepts the action (1.4.2). */
  readonly apiStatuses: readonly NodeStatus[];
  /** Statuses in which the request is already satisfied: success without change (NOOP). */
  readonly noopStatuses: readonly NodeStatus[];
  /** Whether the action works on a locked machine (only the lock actions do). */
  readonly allowedWhenLocked: boolean;
}

/** Statuses from which the FSM allows `target` (excluding `target` itself). */
function sourcesOf(target: NodeStatus): NodeStatus[] {
  return ALL_STATUSES.filter((s) => s !== target && TRANSITIONS[s].includes(target));
}

const NON_MONITORED: readonly NodeStatus[] = ALL_STATUSES.filter(
  (s) => !(MONITORED_STATUSES as readonly NodeStatus[]).includes(s),
);

const FAILED_ANY: readonly NodeStatus[] = [
  S.FAILED_COMMISSIONING,
  S.FAILED_DEPLOYMENT,
  S.FAILED_RELEASING,
  S.FAILED_DISK_ERASING,
  S.FAILED_ENTERING_RESCUE_MODE,
  S.FAILED_EXITING_RESCUE_MODE,
  S.FAILED_TESTING,
];

const TESTABLE: readonly NodeStatus[] = [
  S.FAILED_COMMISSIONING,
  S.NEW,
  S.READY,
  S.RESERVED,
  S.ALLOCATED,
  S.FAILED_DEPLOYMENT,
  S.DEPLOYED,
  S.MISSING,
  S.RETIRED,
  S.BROKEN,
  S.RESCUE_MODE,
  S.FAILED_RELEASING,
  S.FAILED_DISK_ERASING,
  S.FAILED_ENTERING_RESCUE_MODE,
  S.FAILED_EXITING_RESCUE_MODE,
  S.FAILED_TESTING,
];

const ABORTABLE: readonly NodeStatus[] = [S.COMMISSIONING, S.DISK_ERASING, S.DEPLOYING, S.TESTING];

export const ACTIONS: Readonly<Record<ActionName, ActionSpec>> = {
  commission: {
    name: 'commission',
    uiAction: 'commission',
    restOp: 'commission',
    permission: 'admin',
    uiPermission: 'admin',
    uiStatuses: [S.NEW, S.FAILED_COMMISSIONING, S.READY, S.BROKEN],
    apiStatuses: [S.NEW, S.FAILED_COMMISSIONING, S.READY, S.BROKEN],
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  test: {
    name: 'test',
    uiAction: 'test',
    restOp: 'test',
    permission: 'admin',
    uiPermission: 'admin',
    uiStatuses: TESTABLE,
    apiStatuses: TESTABLE,
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  abort: {
    name: 'abort',
    uiAction: 'abort',
    restOp: 'abort',
    permission: 'edit',
    uiPermission: 'admin',
    uiStatuses: ABORTABLE,
    apiStatuses: ABORTABLE,
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  allocate: {
    name: 'allocate',
    uiAction: 'acquire',
    restOp: 'allocate',
    permission: 'edit',
    uiPermission: 'edit',
    uiStatuses: [S.READY],
    apiStatuses: [S.READY],
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  deploy: {
    name: 'deploy',
    uiAction: 'deploy',
    restOp: 'deploy',
    permission: 'edit',
    uiPermission: 'edit',
    uiStatuses: [S.READY, S.ALLOCATED],
    // READY (allocated on the fly) or any status from which DEPLOYING is legal.
    apiStatuses: [S.READY, ...sourcesOf(S.DEPLOYING)],
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  powerOn: {
    name: 'powerOn',
    uiAction: 'on',
    restOp: 'power_on',
    permission: 'edit',
    uiPermission: 'edit',
    uiStatuses: [S.DEPLOYING, S.DEPLOYED, S.BROKEN],
    // REST checks ownership instead of status ("Can't start node: it hasn't been allocated.").
    apiStatuses: ALL_STATUSES,
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  powerOff: {
    name: 'powerOff',
    uiAction: 'off',
    restOp: 'power_off',
    permission: 'edit',
    uiPermission: 'edit',
    // The UI also hides it when power_state is already 'off'.
    uiStatuses: NON_MONITORED,
    apiStatuses: ALL_STATUSES,
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  release: {
    name: 'release',
    uiAction: 'release',
    restOp: 'release',
    permission: 'edit',
    uiPermission: 'edit',
    uiStatuses: [S.ALLOCATED, S.DEPLOYED, S.DEPLOYING, S.FAILED_DEPLOYMENT, S.FAILED_RELEASING, S.FAILED_DISK_ERASING],
    apiStatuses: [
      S.ALLOCATED,
      S.RESERVED,
      S.BROKEN,
      S.DEPLOYING,
      S.DEPLOYED,
      S.FAILED_DEPLOYMENT,
      S.FAILED_DISK_ERASING,
      S.FAILED_RELEASING,
    ],
    noopStatuses: [S.READY, S.RELEASING],
    allowedWhenLocked: false,
  },
  markBroken: {
    name: 'markBroken',
    uiAction: 'mark-broken',
    restOp: 'mark_broken',
    permission: 'owner',
    uiPermission: 'owner',
    uiStatuses: [
      S.NEW,
      S.COMMISSIONING,
      S.READY,
      S.ALLOCATED,
      S.RELEASING,
      S.DEPLOYING,
      S.DEPLOYED,
      S.DISK_ERASING,
      S.TESTING,
      ...FAILED_ANY,
    ],
    // REST checks only ownership; every status may move to BROKEN.
    apiStatuses: sourcesOf(S.BROKEN),
    noopStatuses: [S.BROKEN],
    allowedWhenLocked: false,
  },
  markFixed: {
    name: 'markFixed',
    uiAction: 'mark-fixed',
    restOp: 'mark_fixed',
    permission: 'admin',
    uiPermission: 'admin',
    uiStatuses: [S.BROKEN],
    apiStatuses: [S.BROKEN],
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  overrideFailedTesting: {
    name: 'overrideFailedTesting',
    uiAction: 'override-failed-testing',
    restOp: 'override_failed_testing',
    permission: 'admin',
    uiPermission: 'admin',
    uiStatuses: [S.FAILED_TESTING],
    apiStatuses: [S.FAILED_TESTING],
    noopStatuses: [],
    allowedWhenLocked: false,
  },
  rescueMode: {
    name: 'rescueMode',
    uiAction: 'rescue-mode',
    restOp: 'rescue_mode',
    permission: 'admin',
    uiPermission: 'admin',
    uiStatuses: [
      S.NEW,
      S.FAILED_COMMISSIONING,
      S.READY,
      S.RESERVED,
      S.ALLOCATED,
      S.FAILED_DEPLOYMENT,
      S.DEPLOYED,
      S.MISSING,
      S.RETIRED,
      S.BROKEN,
      S.FAILED_DISK_ERASING,
      S.FAILED_ENTERING_RESCUE_MODE,
      S.FAILED_EXITING_RESCUE_MODE,
      S.FAILED_TESTING,
    ],
    // REST: "FSM must allow -> ENTERING_RESCUE_MODE" (so not FAILED_EXITING_RESCUE_MODE).
    apiStatuses: sourcesOf(S.ENTERING_RESCUE_MODE),
    noopStatuses: [S.ENTERING_RESCUE_MODE],
    allowedWhenLocked: false,
  },
  exitRescueMode: {
    name: 'exitRescueMode',
    uiAction: 'exit-rescue-mode',
    restOp: 'exit_rescue_mode',
    permission: 'admin',
    uiPermission: 'admin',
    uiStatuses: [S.RESCUE_MODE, S.ENTERING_RESCUE_MODE, S.FAILED_ENTERING_RESCUE_MODE, S.FAILED_EXITING_RESCUE_MODE],
    apiStatuses: sourcesOf(S.EXITING_RESCUE_MODE),
    noopStatuses: [S.EXITING_RESCUE_MODE],
    allowedWhenLocked: false,
  },
  lock: {
    name: 'lock',
    uiAction: 'lock',
    restOp: 'lock',
    permission: 'lock',
    uiPermission: 'lock',
    uiStatuses: [S.DEPLOYED, S.DEPLOYING],
    apiStatuses: [S.DEPLOYED, S.DEPLOYING],
    noopStatuses: [],
    allowedWhenLocked: true,
  },
  unlock: {
    name: 'unlock',
    uiAction: 'unlock',
    restOp: 'unlock',
    permission: 'lock',
    uiPermission: 'lock',
    uiStatuses: ALL_STATUSES,
    apiStatuses: ALL_STATUSES,
    noopStatuses: [],
    allowedWhenLocked: true,
  },
  accept: {
    name: 'accept',
    uiAction: null,
    // Collection operation `POST /machines/?op=accept` (accepting starts commissioning).
    restOp: 'accept',
    permission: 'admin',
    uiPermission: 'admin',
    uiStatuses: [],
    apiStatuses: [S.NEW],
    noopStatuses: [S.READY, S.COMMISSIONING],
    allowedWhenLocked: false,
  },
};

export const ACTION_NAMES: readonly ActionName[] = Object.keys(ACTIONS) as ActionName[];
