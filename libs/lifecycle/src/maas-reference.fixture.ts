/**
 * Test fixture: the reference tables of the shared reference maas-api.md (beside the repository) 1.1, 1.3 and 1.4,
 * transcribed independently of the implementation (names, not the library's constants), so the
 * specs compare the library against the reference rather than against itself.
 * Not exported from the library.
 */

/** 1.1: int, constant, display string, simplified group. */
export const REF_STATUS_ROWS: ReadonlyArray<readonly [number, string, string, string]> = [
  [0, 'NEW', 'New', 'New'],
  [1, 'COMMISSIONING', 'Commissioning', 'Commissioning'],
  [2, 'FAILED_COMMISSIONING', 'Failed commissioning', 'Failed'],
  [3, 'MISSING', 'Missing', 'Other'],
  [4, 'READY', 'Ready', 'Ready'],
  [5, 'RESERVED', 'Reserved', 'Other'],
  [6, 'DEPLOYED', 'Deployed', 'Deployed'],
  [7, 'RETIRED', 'Retired', 'Other'],
  [8, 'BROKEN', 'Broken', 'Broken'],
  [9, 'DEPLOYING', 'Deploying', 'Deploying'],
  [10, 'ALLOCATED', 'Allocated', 'Allocated'],
  [11, 'FAILED_DEPLOYMENT', 'Failed deployment', 'Failed'],
  [12, 'RELEASING', 'Releasing', 'Releasing'],
  [13, 'FAILED_RELEASING', 'Releasing failed', 'Failed'],
  [14, 'DISK_ERASING', 'Disk erasing', 'Releasing'],
  [15, 'FAILED_DISK_ERASING', 'Failed disk erasing', 'Failed'],
  [16, 'RESCUE_MODE', 'Rescue mode', 'Rescue Mode'],
  [17, 'ENTERING_RESCUE_MODE', 'Entering rescue mode', 'Rescue Mode'],
  [18, 'FAILED_ENTERING_RESCUE_MODE', 'Failed to enter rescue mode', 'Failed'],
  [19, 'EXITING_RESCUE_MODE', 'Exiting rescue mode', 'Rescue Mode'],
  [20, 'FAILED_EXITING_RESCUE_MODE', 'Failed to exit rescue mode', 'Failed'],
  [21, 'TESTING', 'Testing', 'Testing'],
  [22, 'FAILED_TESTING', 'Failed testing', 'Failed'],
];

export const REF_NAMES: readonly string[] = REF_STATUS_ROWS.map((r) => r[1]);
export const REF_INTS: readonly number[] = REF_STATUS_ROWS.map((r) => r[0]);

/** Integer of a status by constant name, from the reference table. */
export function st(name: string): number {
  const row = REF_STATUS_ROWS.find((r) => r[1] === name);
  if (!row) throw new Error(`no status ${name} in the reference table`);
  return row[0];
}

/** Display string of a status integer, from the reference table. */
export function display(status: number): string {
  const row = REF_STATUS_ROWS.find((r) => r[0] === status);
  if (!row) throw new Error(`no status ${status} in the reference table`);
  return row[2];
}

export function nameOf(status: number): string {
  const row = REF_STATUS_ROWS.find((r) => r[0] === status);
  if (!row) throw new Error(`no status ${status} in the reference table`);
  return row[1];
}

function list(text: string): number[] {
  return text.split(',').map((n) => st(n.trim()));
}

/**
 * 1.3 allowed targets. The BROKEN row is missing from maas-api.md; it is transcribed from
 * canonical/maas src/maasserver/node_status.py (NODE_TRANSITIONS[NODE_STATUS.BROKEN]).
 */
const REF_TRANSITION_TEXT: Readonly<Record<string, string>> = {
  NEW: 'COMMISSIONING, TESTING, READY, BROKEN, ENTERING_RESCUE_MODE, MISSING, RETIRED',
  COMMISSIONING: 'READY, FAILED_COMMISSIONING, TESTING, NEW, BROKEN, MISSING, RETIRED',
  FAILED_COMMISSIONING: 'COMMISSIONING, TESTING, BROKEN, ENTERING_RESCUE_MODE, MISSING, RETIRED',
  READY: 'ALLOCATED, RESERVED, COMMISSIONING, TESTING, BROKEN, ENTERING_RESCUE_MODE, MISSING, RETIRED',
  RESERVED: 'READY, ALLOCATED, RELEASING, DISK_ERASING, TESTING, BROKEN, ENTERING_RESCUE_MODE, MISSING, RETIRED',
  ALLOCATED: 'DEPLOYING, READY, RELEASING, DISK_ERASING, TESTING, BROKEN, ENTERING_RESCUE_MODE, MISSING, RETIRED',
  DEPLOYING: 'DEPLOYED, FAILED_DEPLOYMENT, ALLOCATED, READY, RELEASING, DISK_ERASING, BROKEN, MISSING',
  DEPLOYED: 'RELEASING, DISK_ERASING, ALLOCATED, READY, TESTING, BROKEN, ENTERING_RESCUE_MODE, MISSING',
  FAILED_DEPLOYMENT: 'ALLOCATED, READY, RELEASING, DISK_ERASING, TESTING, BROKEN, ENTERING_RESCUE_MODE, MISSING',
  RELEASING:
    'READY, NEW, ALLOCATED, RESERVED, DEPLOYED, FAILED_RELEASING, FAILED_DISK_ERASING, FAILED_DEPLOYMENT, BROKEN, MISSING',
  FAILED_RELEASING: 'RELEASING, DISK_ERASING, READY, TESTING, BROKEN',
  DISK_ERASING: 'READY, RELEASING, FAILED_DISK_ERASING, DISK_ERASING, BROKEN',
  FAILED_DISK_ERASING: 'DISK_ERASING, RELEASING, READY, ALLOCATED, TESTING, BROKEN, ENTERING_RESCUE_MODE',
  ENTERING_RESCUE_MODE: 'RESCUE_MODE, FAILED_ENTERING_RESCUE_MODE, EXITING_RESCUE_MODE, READY, DEPLOYED, BROKEN',
  RESCUE_MODE: 'EXITING_RESCUE_MODE, TESTING, BROKEN',
  FAILED_ENTERING_RESCUE_MODE: 'ENTERING_RESCUE_MODE, EXITING_RESCUE_MODE, TESTING, BROKEN',
  EXITING_RESCUE_MODE:
    'NEW, READY, RESERVED, ALLOCATED, DEPLOYED, RETIRED, MISSING, BROKEN, FAILED_COMMISSIONING, FAILED_DEPLOYMENT, ' +
    'FAILED_RELEASING, FAILED_DISK_ERASING, FAILED_ENTERING_RESCUE_MODE, FAILED_EXITING_RESCUE_MODE, FAILED_TESTING, RESCUE_MODE',
  FAILED_EXITING_RESCUE_MODE: 'EXITING_RESCUE_MODE, TESTING, BROKEN',
  TESTING:
    'READY, NEW, RESERVED, ALLOCATED, DEPLOYED, FAILED_TESTING, BROKEN, COMMISSIONING, MISSING, RETIRED, FAILED_DEPLOYMENT, ' +
    'FAILED_RELEASING, FAILED_DISK_ERASING, FAILED_ENTERING_RESCUE_MODE, FAILED_EXITING_RESCUE_MODE',
  FAILED_TESTING: 'COMMISSIONING, TESTING, READY, DEPLOYED, ENTERING_RESCUE_MODE, BROKEN, MISSING',
  MISSING: 'NEW, READY, ALLOCATED, COMMISSIONING, TESTING, BROKEN, ENTERING_RESCUE_MODE',
  RETIRED: 'NEW, READY, TESTING, BROKEN, ENTERING_RESCUE_MODE, MISSING',
  // From canonical/maas (see above).
  BROKEN: 'COMMISSIONING, READY, DISK_ERASING, RELEASING, ENTERING_RESCUE_MODE, TESTING, DEPLOYED',
};

/** Reference FSM: same status always allowed. */
export function refCanTransition(from: number, to: number): boolean {
  if (from === to) return true;
  const row = REF_TRANSITION_TEXT[nameOf(from)];
  if (row === undefined) throw new Error(`no transition row for ${nameOf(from)}`);
  return list(row).includes(to);
}

/** Statuses whose reference row lists `target` (excluding `target` itself). */
export function refSourcesOf(target: number): number[] {
  return REF_INTS.filter((s) => s !== target && refCanTransition(s, target));
}

/** 1.3 failure mapping. */
export const REF_FAILURE: ReadonlyArray<readonly [string, string]> = [
  ['COMMISSIONING', 'FAILED_COMMISSIONING'],
  ['DEPLOYING', 'FAILED_DEPLOYMENT'],
  ['RELEASING', 'FAILED_RELEASING'],
  ['DISK_ERASING', 'FAILED_DISK_ERASING'],
  ['ENTERING_RESCUE_MODE', 'FAILED_ENTERING_RESCUE_MODE'],
  ['EXITING_RESCUE_MODE', 'FAILED_EXITING_RESCUE_MODE'],
  ['TESTING', 'FAILED_TESTING'],
];
export const REF_MONITORED: readonly number[] = REF_FAILURE.map(([s]) => st(s));

/** 1.3 timeouts: RELEASING and EXITING_RESCUE_MODE 5 minutes, other monitored node_timeout. */
export function refDeadline(status: number, nodeTimeout = 30): number | null {
  if (!REF_MONITORED.includes(status)) return null;
  if (status === st('RELEASING') || status === st('EXITING_RESCUE_MODE')) return 5;
  return nodeTimeout;
}

export const REF_COMMISSIONING_LIKE = list('NEW, COMMISSIONING, DISK_ERASING, ENTERING_RESCUE_MODE, RELEASING, RESCUE_MODE, TESTING');

/** 1.4.1 node-action allowed statuses and permission. */
export const REF_UI_ACTIONS: Readonly<Record<string, { statuses: number[] | 'any'; permission: string }>> = {
  commission: { statuses: list('NEW, FAILED_COMMISSIONING, READY, BROKEN'), permission: 'admin' },
  test: {
    statuses: list(
      'FAILED_COMMISSIONING, NEW, READY, RESERVED, ALLOCATED, FAILED_DEPLOYMENT, DEPLOYED, MISSING, RETIRED, BROKEN, ' +
        'RESCUE_MODE, FAILED_RELEASING, FAILED_DISK_ERASING, FAILED_ENTERING_RESCUE_MODE, FAILED_EXITING_RESCUE_MODE, FAILED_TESTING',
    ),
    permission: 'admin',
  },
  abort: { statuses: list('COMMISSIONING, DISK_ERASING, DEPLOYING, TESTING'), permission: 'admin' },
  allocate: { statuses: list('READY'), permission: 'edit' },
  deploy: { statuses: list('READY, ALLOCATED'), permission: 'edit' },
  powerOn: { statuses: list('DEPLOYING, DEPLOYED, BROKEN'), permission: 'edit' },
  powerOff: {
    statuses: REF_INTS.filter((s) => !REF_MONITORED.includes(s)),
    permission: 'edit',
  },
  release: {
    statuses: list('ALLOCATED, DEPLOYED, DEPLOYING, FAILED_DEPLOYMENT, FAILED_RELEASING, FAILED_DISK_ERASING'),
    permission: 'edit',
  },
  markBroken: {
    statuses: list(
      'NEW, COMMISSIONING, READY, ALLOCATED, RELEASING, DEPLOYING, DEPLOYED, DISK_ERASING, TESTING, ' +
        'FAILED_COMMISSIONING, FAILED_DEPLOYMENT, FAILED_RELEASING, FAILED_DISK_ERASING, FAILED_ENTERING_RESCUE_MODE, ' +
        'FAILED_EXITING_RESCUE_MODE, FAILED_TESTING',
    ),
    permission: 'owner',
  },
  markFixed: { statuses: list('BROKEN'), permission: 'admin' },
  overrideFailedTesting: { statuses: list('FAILED_TESTING'), permission: 'admin' },
  rescueMode: {
    statuses: list(
      'NEW, FAILED_COMMISSIONING, READY, RESERVED, ALLOCATED, FAILED_DEPLOYMENT, DEPLOYED, MISSING, RETIRED, BROKEN, ' +
        'FAILED_DISK_ERASING, FAILED_ENTERING_RESCUE_MODE, FAILED_EXITING_RESCUE_MODE, FAILED_TESTING',
    ),
    permission: 'admin',
  },
  exitRescueMode: {
    statuses: list('RESCUE_MODE, ENTERING_RESCUE_MODE, FAILED_ENTERING_RESCUE_MODE, FAILED_EXITING_RESCUE_MODE'),
    permission: 'admin',
  },
  lock: { statuses: list('DEPLOYED, DEPLOYING'), permission: 'lock' },
  unlock: { statuses: 'any', permission: 'lock' },
};

/** 1.4.2 REST preconditions (statuses where the operation does something). */
export const REF_REST_RELEASABLE = list(
  'ALLOCATED, RESERVED, BROKEN, DEPLOYING, DEPLOYED, FAILED_DEPLOYMENT, FAILED_DISK_ERASING, FAILED_RELEASING',
);
export const REF_REST_RELEASE_NOOP = list('READY, RELEASING');

/** 1.3: testing passes back to READY from these. */
export const REF_TESTING_READY_FROM = list(
  'NEW, COMMISSIONING, FAILED_DEPLOYMENT, MISSING, RETIRED, BROKEN, FAILED_RELEASING, FAILED_DISK_ERASING, ' +
    'FAILED_ENTERING_RESCUE_MODE, FAILED_EXITING_RESCUE_MODE, FAILED_TESTING',
);
