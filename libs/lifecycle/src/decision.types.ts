/**
 * Inputs and outputs of `decide`: what the lifecycle needs to know about a machine, the events
 * it reacts to, and the decision it returns. Nothing here performs anything.
 */
import type { NodeStatus, PowerState, StopMode } from './node-status';

/** The part of a machine the lifecycle rules read. */
export interface MachineView {
  /** Used only in error messages ("node <id> is in state ..."); optional for tests and tools. */
  systemId?: string;
  status: NodeStatus;
  /** Saved when entering TESTING, ENTERING_RESCUE_MODE, BROKEN, COMMISSIONING. */
  previousStatus: NodeStatus | null;
  /** Username of the owner, null when unowned. */
  owner: string | null;
  locked: boolean;
  /** '' = unconfigured, 'manual' = not queryable (the operator presses the button). */
  powerType: string;
  powerState: PowerState;
  interfaceCount: number;
  /** Created by anonymous enlistment and not yet through its first commissioning/testing. */
  enlisting: boolean;
  /** '' until deployed. */
  osystem: string;
  /**
   * False when the machine has never been commissioned (no commissioning results): testing such
   * a NEW machine is refused. Undefined means "unknown" and is not checked.
   */
  commissioned?: boolean;
}

export interface Actor {
  username: string;
  isAdmin: boolean;
}

/** Operator/API actions. */
export type ActionEvent =
  | { type: 'commission' }
  | { type: 'test' }
  | { type: 'abort' }
  | { type: 'allocate' }
  | { type: 'deploy' }
  /**
   * `erase`: wipe disks (-> DISK_ERASING); `scripts`: run release scripts in the ephemeral
   * environment (-> RELEASING, completed by `releaseCompleted`). Neither: a plain power-off release.
   */
  | { type: 'release'; erase?: boolean; scripts?: boolean }
  | { type: 'markBroken'; comment?: string }
  | { type: 'markFixed' }
  | { type: 'rescueMode' }
  | { type: 'exitRescueMode' }
  | { type: 'lock' }
  | { type: 'unlock' }
  | { type: 'overrideFailedTesting' }
  | { type: 'powerOn' }
  | { type: 'powerOff'; stopMode?: StopMode }
  | { type: 'accept' };

/** Signals from the machine, the rack or timers (the actor may be the system). */
export type SignalEvent =
  /** `thenTesting`: the runner signalled TESTING: testing scripts follow in the same boot. */
  | { type: 'commissioningSucceeded'; thenTesting?: boolean }
  | { type: 'commissioningFailed'; reason?: string }
  | { type: 'testingSucceeded' }
  | { type: 'testingFailed'; reason?: string }
  | { type: 'deployed' }
  | { type: 'deploymentFailed'; reason?: string }
  | { type: 'releaseCompleted' }
  | { type: 'releaseFailed'; reason?: string }
  | { type: 'rescueEntered' }
  | { type: 'rescueExited' }
  /**
   * Kiln: the BMC cannot do what the status needs and no retry will fix it (missing tool on every
   * rack, refused credentials, bad settings, unsupported): the in-flight status fails now, with
   * the reason, instead of at its deadline.
   */
  | { type: 'powerFailed'; reason: string }
  /** The deadline passed; `lastStep`: the machine's last sign of progress, named in the reason. */
  | { type: 'timedOut'; lastStep?: string };

export type LifecycleEvent = ActionEvent | SignalEvent;
export type ActionName = ActionEvent['type'];
export type SignalName = SignalEvent['type'];
export type LifecycleEventType = LifecycleEvent['type'];

export type Effect =
  | { kind: 'powerOn' }
  | { kind: 'powerCycle' }
  | { kind: 'powerOff'; stopMode: StopMode }
  | { kind: 'setOwner'; owner: string }
  | { kind: 'clearOwner' }
  /** Clear osystem/distro_series/hwe_kernel/agent_name/owner data. */
  | { kind: 'clearDeployment' }
  | { kind: 'startCommissioning' }
  | { kind: 'startTesting' }
  | { kind: 'startDeployment' }
  | { kind: 'startReleaseScripts' }
  /** Mark pending/running script results Aborted. */
  | { kind: 'abortScripts' }
  | { kind: 'setLocked'; locked: boolean }
  | { kind: 'setErrorDescription'; text: string };
export type EffectKind = Effect['kind'];

/**
 * Why an event was refused, one mapper per transport (REST: CONFLICT 409, FORM_ERROR 400 as
 * `{"__all__": [message]}`, FORBIDDEN 403 with an empty body, UNCONFIGURED_POWER 500 text).
 * NOOP is not an error: the request is already satisfied (or the signal is stale) and nothing
 * changes; REST answers it as a success with the unchanged machine.
 */
export type RefusalCode = 'CONFLICT' | 'FORM_ERROR' | 'FORBIDDEN' | 'UNCONFIGURED_POWER' | 'NOOP';

export type EventLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'AUDIT';

export interface LifecycleEventRecord {
  /** Short title for the event log, e.g. "Deploying", "Failed deployment", "Powering off". */
  type: string;
  level: EventLevel;
  /** What happened and who asked, e.g. "Deployment requested by alice". */
  description: string;
}

export interface Accepted {
  ok: true;
  from: NodeStatus;
  /** Equal to `from` for actions that change no status (power, lock). */
  to: NodeStatus;
  /** Present when previous_status must be written; absent means "leave it". */
  previousStatus?: NodeStatus | null;
  /** Present when the enlisting flag must be written; absent means "leave it". */
  enlisting?: boolean;
  /**
   * Statuses passed through on the way to `to` within this one step, for the status history:
   * deploying a READY machine (READY -> ALLOCATED -> DEPLOYING) and leaving rescue mode with a
   * manual power type (RESCUE_MODE -> EXITING_RESCUE_MODE -> DEPLOYED). In both cases the direct
   * transition is not in the FSM; each hop is.
   */
  via?: NodeStatus[];
  /** To run in order after the status is persisted. */
  effects: Effect[];
  /**
   * deadlineMinutes(to). When `to === from` the region keeps the current `status_expires`
   * (a power action during DEPLOYING does not extend the deployment deadline).
   */
  deadlineMinutes: number | null;
  event: LifecycleEventRecord;
}

export interface Refused {
  ok: false;
  code: RefusalCode;
  message: string;
}

export type Decision = Accepted | Refused;

export interface DecideOptions {
  /** The `node_timeout` setting in minutes (default 30). */
  nodeTimeoutMinutes?: number;
}
