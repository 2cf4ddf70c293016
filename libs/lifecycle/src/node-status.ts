/**
 * Machine status enum and the other small enums that appear in machine JSON and in the
 * ephemeral protocol (reference: maas-api.md 1.1 and 1.2).
 *
 * The integers, display strings and labels are part of the wire contract: clients match on
 * `status` and `status_name` (Juju reads `status_name`, Terraform waits for "Deployed"/"Ready"),
 * and list filters take the lower-case labels. Do not renumber or reword anything here.
 */

export const NodeStatus = {
  NEW: 0,
  COMMISSIONING: 1,
  FAILED_COMMISSIONING: 2,
  MISSING: 3,
  READY: 4,
  RESERVED: 5,
  DEPLOYED: 6,
  RETIRED: 7,
  BROKEN: 8,
  DEPLOYING: 9,
  ALLOCATED: 10,
  FAILED_DEPLOYMENT: 11,
  RELEASING: 12,
  FAILED_RELEASING: 13,
  DISK_ERASING: 14,
  FAILED_DISK_ERASING: 15,
  RESCUE_MODE: 16,
  ENTERING_RESCUE_MODE: 17,
  FAILED_ENTERING_RESCUE_MODE: 18,
  EXITING_RESCUE_MODE: 19,
  FAILED_EXITING_RESCUE_MODE: 20,
  TESTING: 21,
  FAILED_TESTING: 22,
} as const;
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus];

/** Constant name of a status, e.g. 'FAILED_COMMISSIONING'. */
export type NodeStatusKey = keyof typeof NodeStatus;

/** The simplified groups of the `simple_status` filter, as displayed. */
export const SIMPLE_STATUSES = [
  'Allocated',
  'Broken',
  'Commissioning',
  'Deployed',
  'Deploying',
  'Failed',
  'New',
  'Ready',
  'Releasing',
  'Rescue Mode',
  'Testing',
  'Other',
] as const;
export type SimpleStatus = (typeof SIMPLE_STATUSES)[number];

interface StatusInfo {
  readonly key: NodeStatusKey;
  readonly name: string;
  readonly simple: SimpleStatus;
}

/** One row per status: constant name, display string (`status_name`) and simplified group. */
const STATUS_INFO: Readonly<Record<NodeStatus, StatusInfo>> = {
  [NodeStatus.NEW]: { key: 'NEW', name: 'New', simple: 'New' },
  [NodeStatus.COMMISSIONING]: { key: 'COMMISSIONING', name: 'Commissioning', simple: 'Commissioning' },
  [NodeStatus.FAILED_COMMISSIONING]: { key: 'FAILED_COMMISSIONING', name: 'Failed commissioning', simple: 'Failed' },
  [NodeStatus.MISSING]: { key: 'MISSING', name: 'Missing', simple: 'Other' },
  [NodeStatus.READY]: { key: 'READY', name: 'Ready', simple: 'Ready' },
  [NodeStatus.RESERVED]: { key: 'RESERVED', name: 'Reserved', simple: 'Other' },
  [NodeStatus.DEPLOYED]: { key: 'DEPLOYED', name: 'Deployed', simple: 'Deployed' },
  [NodeStatus.RETIRED]: { key: 'RETIRED', name: 'Retired', simple: 'Other' },
  [NodeStatus.BROKEN]: { key: 'BROKEN', name: 'Broken', simple: 'Broken' },
  [NodeStatus.DEPLOYING]: { key: 'DEPLOYING', name: 'Deploying', simple: 'Deploying' },
  [NodeStatus.ALLOCATED]: { key: 'ALLOCATED', name: 'Allocated', simple: 'Allocated' },
  [NodeStatus.FAILED_DEPLOYMENT]: { key: 'FAILED_DEPLOYMENT', name: 'Failed deployment', simple: 'Failed' },
  [NodeStatus.RELEASING]: { key: 'RELEASING', name: 'Releasing', simple: 'Releasing' },
  // Not "Failed releasing": MAAS has always displayed this one differently.
  [NodeStatus.FAILED_RELEASING]: { key: 'FAILED_RELEASING', name: 'Releasing failed', simple: 'Failed' },
  [NodeStatus.DISK_ERASING]: { key: 'DISK_ERASING', name: 'Disk erasing', simple: 'Releasing' },
  [NodeStatus.FAILED_DISK_ERASING]: { key: 'FAILED_DISK_ERASING', name: 'Failed disk erasing', simple: 'Failed' },
  [NodeStatus.RESCUE_MODE]: { key: 'RESCUE_MODE', name: 'Rescue mode', simple: 'Rescue Mode' },
  [NodeStatus.ENTERING_RESCUE_MODE]: { key: 'ENTERING_RESCUE_MODE', name: 'Entering rescue mode', simple: 'Rescue Mode' },
  [NodeStatus.FAILED_ENTERING_RESCUE_MODE]: {
    key: 'FAILED_ENTERING_RESCUE_MODE',
    name: 'Failed to enter rescue mode',
    simple: 'Failed',
  },
  [NodeStatus.EXITING_RESCUE_MODE]: { key: 'EXITING_RESCUE_MODE', name: 'Exiting rescue mode', simple: 'Rescue Mode' },
  [NodeStatus.FAILED_EXITING_RESCUE_MODE]: {
    key: 'FAILED_EXITING_RESCUE_MODE',
    name: 'Failed to exit rescue mode',
    simple: 'Failed',
  },
  [NodeStatus.TESTING]: { key: 'TESTING', name: 'Testing', simple: 'Testing' },
  [NodeStatus.FAILED_TESTING]: { key: 'FAILED_TESTING', name: 'Failed testing', simple: 'Failed' },
};

/** Every status, in numeric order. */
export const ALL_STATUSES: readonly NodeStatus[] = Object.values(NodeStatus).sort((a, b) => a - b);

/** True when `value` is one of the 23 status integers (use it to validate DB rows and query params). */
export function isNodeStatus(value: unknown): value is NodeStatus {
  return typeof value === 'number' && Object.prototype.hasOwnProperty.call(STATUS_INFO, value);
}

/** Constant name, e.g. 13 -> 'FAILED_RELEASING'. */
export function statusKey(status: NodeStatus): NodeStatusKey {
  return STATUS_INFO[status].key;
}

/** Display string (`status_name`), e.g. 13 -> "Releasing failed". */
export function statusName(status: NodeStatus): string {
  return STATUS_INFO[status].name;
}

/** Short label used by the `status=` filter: the lower-case constant name, e.g. "failed_commissioning". */
export function statusLabel(status: NodeStatus): string {
  return STATUS_INFO[status].key.toLowerCase();
}

const STATUS_BY_LABEL: ReadonlyMap<string, NodeStatus> = new Map<string, NodeStatus>([
  ...ALL_STATUSES.map((s): [string, NodeStatus] => [statusLabel(s), s]),
  ['default', NodeStatus.NEW],
]);

/**
 * Parses a `status=` filter label. Accepts exactly the lower-case labels (and "default", MAAS's
 * alias of NEW), like the MAAS filter does; anything else is undefined so the REST layer can
 * answer 400.
 */
export function parseStatusLabel(label: string): NodeStatus | undefined {
  return STATUS_BY_LABEL.get(label);
}

/** Simplified group of a status, e.g. DISK_ERASING -> "Releasing", MISSING -> "Other". */
export function simpleStatus(status: NodeStatus): SimpleStatus {
  return STATUS_INFO[status].simple;
}

/** Filter label of a simplified group: lower case with `_` for spaces, e.g. "rescue_mode". */
export function simpleStatusLabel(group: SimpleStatus): string {
  return group.toLowerCase().replace(/ /g, '_');
}

/** Parses a `simple_status=` filter label, e.g. "rescue_mode" -> "Rescue Mode". */
export function parseSimpleStatusLabel(label: string): SimpleStatus | undefined {
  return SIMPLE_STATUSES.find((group) => simpleStatusLabel(group) === label);
}

/** Every status in a simplified group (for turning a `simple_status` filter into a status list). */
export function statusesInSimpleGroup(group: SimpleStatus): NodeStatus[] {
  return ALL_STATUSES.filter((s) => simpleStatus(s) === group);
}

// ---------------------------------------------------------------------------------------------
// Power

/** `power_state` as reported in machine JSON (lower-case strings). */
export type PowerState = 'on' | 'off' | 'unknown' | 'error';
export const POWER_STATES: readonly PowerState[] = ['on', 'off', 'unknown', 'error'];

/** power_off `stop_mode`; MAAS defaults to 'hard'. */
export type StopMode = 'hard' | 'soft';
export const DEFAULT_STOP_MODE: StopMode = 'hard';

// ---------------------------------------------------------------------------------------------
// Script results

/** Script result status (`*_status` ints in machine JSON and script results). */
export const ScriptStatus = {
  /** Not a stored status: "no results" in the machine JSON summaries. */
  UNKNOWN: -1,
  PENDING: 0,
  RUNNING: 1,
  PASSED: 2,
  FAILED: 3,
  TIMEDOUT: 4,
  ABORTED: 5,
  DEGRADED: 6,
  INSTALLING: 7,
  FAILED_INSTALLING: 8,
  SKIPPED: 9,
  APPLYING_NETCONF: 10,
  FAILED_APPLYING_NETCONF: 11,
} as const;
export type ScriptStatus = (typeof ScriptStatus)[keyof typeof ScriptStatus];

const SCRIPT_STATUS_NAMES: Readonly<Record<ScriptStatus, string>> = {
  [ScriptStatus.UNKNOWN]: 'Unknown',
  [ScriptStatus.PENDING]: 'Pending',
  [ScriptStatus.RUNNING]: 'Running',
  [ScriptStatus.PASSED]: 'Passed',
  [ScriptStatus.FAILED]: 'Failed',
  [ScriptStatus.TIMEDOUT]: 'Timed out',
  [ScriptStatus.ABORTED]: 'Aborted',
  [ScriptStatus.DEGRADED]: 'Degraded',
  [ScriptStatus.INSTALLING]: 'Installing dependencies',
  [ScriptStatus.FAILED_INSTALLING]: 'Failed installing dependencies',
  [ScriptStatus.SKIPPED]: 'Skipped',
  [ScriptStatus.APPLYING_NETCONF]: 'Applying custom network configuration',
  [ScriptStatus.FAILED_APPLYING_NETCONF]: 'Failed to apply custom network configuration',
};

/** Display name of a script status, e.g. 4 -> "Timed out", -1 -> "Unknown". */
export function scriptStatusName(status: ScriptStatus): string {
  return SCRIPT_STATUS_NAMES[status];
}

/** Statuses of a script that is still going. */
export const RUNNING_SCRIPT_STATUSES: readonly ScriptStatus[] = [
  ScriptStatus.RUNNING,
  ScriptStatus.INSTALLING,
  ScriptStatus.APPLYING_NETCONF,
];
/** Running, plus PENDING: what abortScripts marks Aborted. */
export const RUNNING_OR_PENDING_SCRIPT_STATUSES: readonly ScriptStatus[] = [
  ScriptStatus.PENDING,
  ...RUNNING_SCRIPT_STATUSES,
];
export const FAILED_SCRIPT_STATUSES: readonly ScriptStatus[] = [
  ScriptStatus.FAILED,
  ScriptStatus.TIMEDOUT,
  ScriptStatus.FAILED_INSTALLING,
  ScriptStatus.FAILED_APPLYING_NETCONF,
];

// ---------------------------------------------------------------------------------------------
// Node types

/** `node_type` in node JSON. */
export const NodeType = {
  MACHINE: 0,
  DEVICE: 1,
  RACK_CONTROLLER: 2,
  REGION_CONTROLLER: 3,
  REGION_AND_RACK_CONTROLLER: 4,
} as const;
export type NodeType = (typeof NodeType)[keyof typeof NodeType];

const NODE_TYPE_NAMES: Readonly<Record<NodeType, string>> = {
  [NodeType.MACHINE]: 'Machine',
  [NodeType.DEVICE]: 'Device',
  [NodeType.RACK_CONTROLLER]: 'Rack controller',
  [NodeType.REGION_CONTROLLER]: 'Region controller',
  [NodeType.REGION_AND_RACK_CONTROLLER]: 'Region and rack controller',
};

/** `node_type_name`, e.g. 2 -> "Rack controller". */
export function nodeTypeName(type: NodeType): string {
  return NODE_TYPE_NAMES[type];
}
