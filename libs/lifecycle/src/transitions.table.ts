/**
 * The status state machine as data (reference: maas-api.md 1.3; MAAS `node_status.py`).
 *
 * Every status change Kiln makes must be allowed here, exactly as MAAS validates it
 * (`NodeStateViolation`, HTTP 409), so that machines migrated from MAAS, and clients written
 * against MAAS, never meet a status sequence MAAS would not produce.
 */
import { NodeStatus, statusName } from './node-status';

const S = NodeStatus;

/** Statuses a machine may be created in (plus the two documented exceptions, see below). */
export const INITIAL_STATUSES: readonly NodeStatus[] = [S.NEW, S.MISSING, S.RETIRED];
// Exceptions, both outside the table in MAAS as well: anonymous enlistment with `commission`
// creates a machine directly in COMMISSIONING, and `deployed=true` creates it in DEPLOYED.

/**
 * Allowed targets per status. A change to the same status is always allowed (see canTransition)
 * and is not listed, except DISK_ERASING -> DISK_ERASING, which MAAS lists explicitly.
 *
 * The BROKEN row is missing from the reference table in maas-api.md 1.3; it is taken from
 * canonical/maas `src/maasserver/node_status.py` (NODE_TRANSITIONS[BROKEN]). It must include
 * DEPLOYED (mark_fixed of a broken deployed machine) and the targets of the actions allowed on a
 * broken machine (commission, test, rescue mode, release).
 */
export const TRANSITIONS: Readonly<Record<NodeStatus, readonly NodeStatus[]>> = {
  [S.NEW]: [S.COMMISSIONING, S.TESTING, S.READY, S.BROKEN, S.ENTERING_RESCUE_MODE, S.MISSING, S.RETIRED],
  [S.COMMISSIONING]: [S.READY, S.FAILED_COMMISSIONING, S.TESTING, S.NEW, S.BROKEN, S.MISSING, S.RETIRED],
  [S.FAILED_COMMISSIONING]: [S.COMMISSIONING, S.TESTING, S.BROKEN, S.ENTERING_RESCUE_MODE, S.MISSING, S.RETIRED],
  [S.MISSING]: [S.NEW, S.READY, S.ALLOCATED, S.COMMISSIONING, S.TESTING, S.BROKEN, S.ENTERING_RESCUE_MODE],
  [S.READY]: [
    S.ALLOCATED,
    S.RESERVED,
    S.COMMISSIONING,
    S.TESTING,
    S.BROKEN,
    S.ENTERING_RESCUE_MODE,
    S.MISSING,
    S.RETIRED,
  ],
  [S.RESERVED]: [
    S.READY,
    S.ALLOCATED,
    S.RELEASING,
    S.DISK_ERASING,
    S.TESTING,
    S.BROKEN,
    S.ENTERING_RESCUE_MODE,
    S.MISSING,
    S.RETIRED,
  ],
  [S.DEPLOYED]: [
    S.RELEASING,
    S.DISK_ERASING,
    S.ALLOCATED,
    S.READY,
    S.TESTING,
    S.BROKEN,
    S.ENTERING_RESCUE_MODE,
    S.MISSING,
  ],
  [S.RETIRED]: [S.NEW, S.READY, S.TESTING, S.BROKEN, S.ENTERING_RESCUE_MODE, S.MISSING],
  [S.BROKEN]: [
    S.COMMISSIONING,
    S.READY,
    S.DISK_ERASING,
    S.RELEASING,
    S.ENTERING_RESCUE_MODE,
    S.TESTING,
    S.DEPLOYED,
  ],
  [S.DEPLOYING]: [
    S.DEPLOYED,
    S.FAILED_DEPLOYMENT,
    S.ALLOCATED,
    S.READY,
    S.RELEASING,
    S.DISK_ERASING,
    S.BROKEN,
    S.MISSING,
  ],
  [S.ALLOCATED]: [
    S.DEPLOYING,
    S.READY,
    S.RELEASING,
    S.DISK_ERASING,
    S.TESTING,
    S.BROKEN,
    S.ENTERING_RESCUE_MODE,
    S.MISSING,
    S.RETIRED,
  ],
  [S.FAILED_DEPLOYMENT]: [
    S.ALLOCATED,
    S.READY,
    S.RELEASING,
    S.DISK_ERASING,
    S.TESTING,
    S.BROKEN,
    S.ENTERING_RESCUE_MODE,
    S.MISSING,
  ],
  [S.RELEASING]: [
    S.READY,
    S.NEW,
    S.ALLOCATED,
    S.RESERVED,
    S.DEPLOYED,
    S.FAILED_RELEASING,
    S.FAILED_DISK_ERASING,
    S.FAILED_DEPLOYMENT,
    S.BROKEN,
    S.MISSING,
  ],
  [S.FAILED_RELEASING]: [S.RELEASING, S.DISK_ERASING, S.READY, S.TESTING, S.BROKEN],
  [S.DISK_ERASING]: [S.READY, S.RELEASING, S.FAILED_DISK_ERASING, S.DISK_ERASING, S.BROKEN],
  [S.FAILED_DISK_ERASING]: [
    S.DISK_ERASING,
    S.RELEASING,
    S.READY,
    S.ALLOCATED,
    S.TESTING,
    S.BROKEN,
    S.ENTERING_RESCUE_MODE,
  ],
  [S.RESCUE_MODE]: [S.EXITING_RESCUE_MODE, S.TESTING, S.BROKEN],
  [S.ENTERING_RESCUE_MODE]: [
    S.RESCUE_MODE,
    S.FAILED_ENTERING_RESCUE_MODE,
    S.EXITING_RESCUE_MODE,
    S.READY,
    S.DEPLOYED,
    S.BROKEN,
  ],
  [S.FAILED_ENTERING_RESCUE_MODE]: [S.ENTERING_RESCUE_MODE, S.EXITING_RESCUE_MODE, S.TESTING, S.BROKEN],
  // Back to whatever the machine was before rescue mode.
  [S.EXITING_RESCUE_MODE]: [
    S.NEW,
    S.READY,
    S.RESERVED,
    S.ALLOCATED,
    S.DEPLOYED,
    S.RETIRED,
    S.MISSING,
    S.BROKEN,
    S.FAILED_COMMISSIONING,
    S.FAILED_DEPLOYMENT,
    S.FAILED_RELEASING,
    S.FAILED_DISK_ERASING,
    S.FAILED_ENTERING_RESCUE_MODE,
    S.FAILED_EXITING_RESCUE_MODE,
    S.FAILED_TESTING,
    S.RESCUE_MODE,
  ],
  [S.FAILED_EXITING_RESCUE_MODE]: [S.EXITING_RESCUE_MODE, S.TESTING, S.BROKEN],
  [S.TESTING]: [
    S.READY,
    S.NEW,
    S.RESERVED,
    S.ALLOCATED,
    S.DEPLOYED,
    S.FAILED_TESTING,
    S.BROKEN,
    S.COMMISSIONING,
    S.MISSING,
    S.RETIRED,
    S.FAILED_DEPLOYMENT,
    S.FAILED_RELEASING,
    S.FAILED_DISK_ERASING,
    S.FAILED_ENTERING_RESCUE_MODE,
    S.FAILED_EXITING_RESCUE_MODE,
  ],
  [S.FAILED_TESTING]: [S.COMMISSIONING, S.TESTING, S.READY, S.DEPLOYED, S.ENTERING_RESCUE_MODE, S.BROKEN, S.MISSING],
};

/** True when a machine in `from` may be moved to `to`. The same status is always allowed. */
export function canTransition(from: NodeStatus, to: NodeStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** MAAS's NodeStateViolation text, e.g. "Invalid transition: Deployed -> Commissioning." */
export function invalidTransitionMessage(from: NodeStatus, to: NodeStatus): string {
  return `Invalid transition: ${statusName(from)} -> ${statusName(to)}.`;
}

// ---------------------------------------------------------------------------------------------
// In-flight statuses: failure state and deadline

/** The seven in-progress ("monitored") statuses. */
export type MonitoredStatus =
  | typeof S.COMMISSIONING
  | typeof S.DEPLOYING
  | typeof S.RELEASING
  | typeof S.DISK_ERASING
  | typeof S.ENTERING_RESCUE_MODE
  | typeof S.EXITING_RESCUE_MODE
  | typeof S.TESTING;

/** Where an in-progress status goes when its operation fails or times out. */
export const FAILURE_MAP: Readonly<Record<MonitoredStatus, NodeStatus>> = {
  [S.COMMISSIONING]: S.FAILED_COMMISSIONING,
  [S.DEPLOYING]: S.FAILED_DEPLOYMENT,
  [S.RELEASING]: S.FAILED_RELEASING,
  [S.DISK_ERASING]: S.FAILED_DISK_ERASING,
  [S.ENTERING_RESCUE_MODE]: S.FAILED_ENTERING_RESCUE_MODE,
  [S.EXITING_RESCUE_MODE]: S.FAILED_EXITING_RESCUE_MODE,
  [S.TESTING]: S.FAILED_TESTING,
};

/** Exactly the keys of FAILURE_MAP, in numeric order. */
export const MONITORED_STATUSES: readonly MonitoredStatus[] = (
  Object.keys(FAILURE_MAP).map(Number) as MonitoredStatus[]
).sort((a, b) => a - b);

/** The seven FAILED_* statuses, in numeric order. */
export const FAILED_STATUSES: readonly NodeStatus[] = [...Object.values(FAILURE_MAP)].sort((a, b) => a - b);

export function isMonitoredStatus(status: NodeStatus): status is MonitoredStatus {
  return (MONITORED_STATUSES as readonly NodeStatus[]).includes(status);
}

export function isFailedStatus(status: NodeStatus): boolean {
  return FAILED_STATUSES.includes(status);
}

/** The failed status for an in-progress status, undefined for every other status. */
export function failedStatusFor(status: NodeStatus): NodeStatus | undefined {
  return isMonitoredStatus(status) ? FAILURE_MAP[status] : undefined;
}

/**
 * Statuses in which the machine boots the ephemeral image and runs the script runner
 * (so it is netbooted and may report results over the metadata API).
 */
export const COMMISSIONING_LIKE_STATUSES: readonly NodeStatus[] = [
  S.NEW,
  S.COMMISSIONING,
  S.DISK_ERASING,
  S.ENTERING_RESCUE_MODE,
  S.RELEASING,
  S.RESCUE_MODE,
  S.TESTING,
];

/** MAAS `node_timeout` default, in minutes. */
export const DEFAULT_NODE_TIMEOUT_MINUTES = 30;

/** Deadlines that do not follow `node_timeout`. */
export const FIXED_DEADLINE_MINUTES: Readonly<Partial<Record<MonitoredStatus, number>>> = {
  [S.RELEASING]: 5,
  [S.EXITING_RESCUE_MODE]: 5,
};

export interface DeadlineOptions {
  /** The `node_timeout` setting in minutes; DEFAULT_NODE_TIMEOUT_MINUTES when absent. */
  nodeTimeoutMinutes?: number;
}

/**
 * Minutes a machine may stay in `status` before it is failed (MAAS `status_expires`), or null
 * for a status without a deadline. The clock starts when the status is entered (when MAAS powered
 * the node on); for COMMISSIONING/TESTING the region replaces it with the runner heartbeat check
 * once scripts start, and curtin install stage events reset it during DEPLOYING.
 */
export function deadlineMinutes(status: NodeStatus, options: DeadlineOptions = {}): number | null {
  if (!isMonitoredStatus(status)) return null;
  return FIXED_DEADLINE_MINUTES[status] ?? options.nodeTimeoutMinutes ?? DEFAULT_NODE_TIMEOUT_MINUTES;
}

// ---------------------------------------------------------------------------------------------
// Where testing returns

/** Testing started from one of these returns to READY when it passes. */
export const TESTING_RETURNS_READY_FROM: readonly NodeStatus[] = [
  S.NEW,
  S.COMMISSIONING,
  S.FAILED_DEPLOYMENT,
  S.MISSING,
  S.RETIRED,
  S.BROKEN,
  S.FAILED_RELEASING,
  S.FAILED_DISK_ERASING,
  S.FAILED_ENTERING_RESCUE_MODE,
  S.FAILED_EXITING_RESCUE_MODE,
  S.FAILED_TESTING,
];

/**
 * Status a machine returns to when testing passes (reference 1.3): NEW while enlisting;
 * NEW when testing followed failed commissioning; READY from the statuses above; otherwise the
 * status testing was started from (READY, RESERVED, ALLOCATED, DEPLOYED).
 *
 * Where the reference is silent: an unknown previous status (null), or one TESTING may not move
 * to (e.g. RESCUE_MODE, which the FSM does not allow as a target of TESTING), gives READY.
 */
export function testingPassedStatus(previousStatus: NodeStatus | null, enlisting: boolean): NodeStatus {
  if (enlisting) return S.NEW;
  if (previousStatus === null) return S.READY;
  if (TESTING_RETURNS_READY_FROM.includes(previousStatus)) return S.READY;
  if (previousStatus === S.FAILED_COMMISSIONING) return S.NEW;
  return canTransition(S.TESTING, previousStatus) ? previousStatus : S.READY;
}
