import type { EventLevelName } from './event-levels';

/**
 * Every type of machine event the region writes, with the level it is usually written at (MAAS:
 * `maascommon/events.py`, `EVENT_TYPES` and `EVENT_DETAILS`). The event log's `type` column is
 * typed by this catalogue: a write with a type that is not listed here does not compile.
 *
 * Where a writer picks the level from what happened (a failed boot step is a WARNING, a routine
 * one DEBUG), it takes the `type` from here and says the level itself.
 */
export interface MachineEventDetail {
  readonly type: string;
  readonly level: EventLevelName;
}

export const MachineEvents = {
  // ---- lifecycle transitions (libs/lifecycle `decide`): the new status's display name, or one of these
  NEW: { type: 'New', level: 'INFO' },
  COMMISSIONING: { type: 'Commissioning', level: 'INFO' },
  FAILED_COMMISSIONING: { type: 'Failed commissioning', level: 'ERROR' },
  MISSING: { type: 'Missing', level: 'WARNING' },
  READY: { type: 'Ready', level: 'INFO' },
  RESERVED: { type: 'Reserved', level: 'INFO' },
  DEPLOYED: { type: 'Deployed', level: 'INFO' },
  RETIRED: { type: 'Retired', level: 'INFO' },
  BROKEN: { type: 'Broken', level: 'WARNING' },
  DEPLOYING: { type: 'Deploying', level: 'INFO' },
  ALLOCATED: { type: 'Allocated', level: 'INFO' },
  FAILED_DEPLOYMENT: { type: 'Failed deployment', level: 'ERROR' },
  RELEASING: { type: 'Releasing', level: 'INFO' },
  FAILED_RELEASING: { type: 'Releasing failed', level: 'ERROR' },
  DISK_ERASING: { type: 'Disk erasing', level: 'INFO' },
  FAILED_DISK_ERASING: { type: 'Failed disk erasing', level: 'ERROR' },
  RESCUE_MODE: { type: 'Rescue mode', level: 'INFO' },
  ENTERING_RESCUE_MODE: { type: 'Entering rescue mode', level: 'INFO' },
  FAILED_ENTERING_RESCUE_MODE: { type: 'Failed to enter rescue mode', level: 'ERROR' },
  EXITING_RESCUE_MODE: { type: 'Exiting rescue mode', level: 'INFO' },
  FAILED_EXITING_RESCUE_MODE: { type: 'Failed to exit rescue mode', level: 'ERROR' },
  TESTING: { type: 'Testing', level: 'INFO' },
  FAILED_TESTING: { type: 'Failed testing', level: 'ERROR' },
  LOCKED: { type: 'Locked', level: 'INFO' },
  UNLOCKED: { type: 'Unlocked', level: 'INFO' },
  POWERING_ON: { type: 'Powering on', level: 'INFO' },
  POWERING_OFF: { type: 'Powering off', level: 'INFO' },

  // ---- the machine record (machines/)
  CREATED: { type: 'Created', level: 'INFO' },
  ENLISTED: { type: 'Enlisted', level: 'INFO' },
  NOT_COMMISSIONED: { type: 'Not commissioned', level: 'WARNING' },
  UPDATED: { type: 'Updated', level: 'DEBUG' },
  DELETED: { type: 'Deleted', level: 'WARNING' },
  ZONE_CHANGED: { type: 'Zone changed', level: 'DEBUG' },
  STORAGE_LAYOUT_SET: { type: 'Storage layout set', level: 'DEBUG' },
  FILESYSTEM_MOUNTED: { type: 'Filesystem mounted', level: 'DEBUG' },
  FILESYSTEM_UNMOUNTED: { type: 'Filesystem unmounted', level: 'DEBUG' },
  STORAGE_CONFIGURATION_RESTORED: { type: 'Storage configuration restored', level: 'DEBUG' },
  NETWORKING_CONFIGURATION_RESTORED: { type: 'Networking configuration restored', level: 'DEBUG' },
  DEFAULT_CONFIGURATION_RESTORED: { type: 'Default configuration restored', level: 'DEBUG' },
  CONFIGURATION_CLONED: { type: 'Configuration cloned', level: 'INFO' },

  // ---- effects the lifecycle worker carries out (machines/machine-jobs.worker.ts)
  POWER_ON: { type: 'Power on', level: 'INFO' },
  POWER_CYCLE: { type: 'Power cycle', level: 'INFO' },
  POWER_OFF: { type: 'Power off', level: 'INFO' },
  POWERED_ON: { type: 'Powered on', level: 'INFO' },
  POWERED_CYCLED: { type: 'Powered cycled', level: 'INFO' },
  POWERED_OFF: { type: 'Powered off', level: 'INFO' },
  POWER_RETRY: { type: 'Power retry', level: 'INFO' },
  POWER_FAILED: { type: 'Power failed', level: 'ERROR' },
  POWER_QUERY_FAILED: { type: 'Power query failed', level: 'WARNING' },
  WAITING_FOR_BOOT: { type: 'Waiting for boot', level: 'INFO' },
  ABORTED: { type: 'Aborted', level: 'INFO' },

  // ---- what the machine reports through the metadata API (metadata/)
  GATHERING_INFO: { type: 'Gathering information', level: 'INFO' },
  SCRIPT_RESULT: { type: 'Script result', level: 'DEBUG' },
  SCRIPT_RESULT_FAILED: { type: 'Script result failed', level: 'WARNING' },
  BMC_REPORTED: { type: 'BMC credentials reported', level: 'INFO' },
  NODE_STATUS_EVENT: { type: 'Node status event', level: 'DEBUG' },
  NODE_STATUS_FAILURE: { type: 'Node status failure', level: 'ERROR' },
  NETBOOT_CHANGED: { type: 'Netboot changed', level: 'DEBUG' },

  // ---- what racks report of a machine's boot (racks/rack-events.catalogue.ts)
  PXE_REQUEST: { type: 'PXE Request', level: 'INFO' },
  NO_BOOT_IMAGE: { type: 'No boot image', level: 'ERROR' },
  DHCP_LEASE: { type: 'DHCP lease', level: 'INFO' },
  DHCP_LEASE_RENEWED: { type: 'DHCP lease renewed', level: 'DEBUG' },
  DHCP_LEASE_RELEASED: { type: 'DHCP lease released', level: 'DEBUG' },
  DHCP_LEASE_EXPIRED: { type: 'DHCP lease expired', level: 'DEBUG' },
  DHCP_LEASE_DECLINED: { type: 'DHCP lease declined', level: 'WARNING' },
  DHCP_DISCOVER: { type: 'DHCP discover', level: 'DEBUG' },
  DHCP_OFFER: { type: 'DHCP offer', level: 'DEBUG' },
  DHCP_REQUEST: { type: 'DHCP request', level: 'DEBUG' },
  DHCP_ACK: { type: 'DHCP ack', level: 'DEBUG' },
  DHCP_NAK: { type: 'DHCP nak', level: 'WARNING' },
  TFTP_REQUEST: { type: 'TFTP Request', level: 'DEBUG' },
  HTTP_REQUEST: { type: 'HTTP Request', level: 'DEBUG' },
  BOOT_SCRIPT: { type: 'Boot script', level: 'DEBUG' },
  METADATA_REQUEST: { type: 'Metadata request', level: 'DEBUG' },
} as const satisfies Record<string, MachineEventDetail>;

export type MachineEventKey = keyof typeof MachineEvents;
export type MachineEventType = (typeof MachineEvents)[MachineEventKey]['type'];

const TYPES: ReadonlySet<string> = new Set(Object.values(MachineEvents).map((e) => e.type));

export function isMachineEventType(value: string): value is MachineEventType {
  return TYPES.has(value);
}

/**
 * The catalogued type of an event the lifecycle decided (its types are plain strings in
 * libs/lifecycle, which knows nothing of the region's log). An uncatalogued one is a bug caught by
 * this catalogue's spec; should one slip through, it is still recorded rather than lost.
 */
export function lifecycleEventType(value: string): MachineEventType {
  return value as MachineEventType;
}
