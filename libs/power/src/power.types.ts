/**
 * The power driver contract. A driver knows one way of talking to a BMC (IPMI, Redfish, virsh,
 * a webhook, or nobody at all for `manual`); it declares its settings with MAAS's parameter
 * names, parses them once into a typed value, and performs single BMC calls. It never retries
 * and never verifies: `power.control.ts` does both, the same way for every driver.
 */

import { PowerError } from './power.errors';

/** What a BMC says about the machine. `unknown`: the BMC cannot tell (or there is no BMC). */
export type PowerState = 'on' | 'off' | 'unknown';

/** The boot device a power-on should use (one-shot override, as MAAS sets before every power on). */
export type BootDevice = 'pxe' | 'disk';

/** Hard: cut the power. Soft: ask the OS to shut down (ACPI), which it may ignore. */
export type OffMode = 'hard' | 'soft';

export type PowerAction =
  | { kind: 'on' }
  | { kind: 'off'; mode?: OffMode }
  | { kind: 'cycle' }
  | { kind: 'query' }
  | { kind: 'set_boot_device'; device: BootDevice };

export type PowerActionKind = PowerAction['kind'];

// ---- settings catalogue (the shape of MAAS's describe_power_types) ----

export type FieldType = 'string' | 'mac_address' | 'choice' | 'multiple_choice' | 'password';

export interface PowerField {
  name: string;
  label: string;
  field_type: FieldType;
  required: boolean;
  scope: 'bmc' | 'node';
  choices: [string, string][];
  /** Power parameters are strings; a multiple_choice default is comma-separated. */
  default: string;
  secret: boolean;
}

export interface PowerTypeDef {
  name: string;
  description: string;
  chassis: boolean;
  can_probe: boolean;
  queryable: boolean;
  fields: PowerField[];
}

// ---- drivers ----

/** Handed to every driver call. */
export interface DriverCallContext {
  /** Aborts the call (the tool is killed, the request destroyed). */
  signal?: AbortSignal;
  /** Upper bound for this one call, in milliseconds. */
  timeoutMs: number;
  /** The machine the call is for (webhooks pass it on as a System_Id header, as MAAS does). */
  systemId?: string;
}

/**
 * What a driver answers to a change. `accepted`: the BMC took the command (verification follows).
 * `manual`: there is nobody to ask; an operator must act (`message` says what to do).
 */
export type ChangeOutcome = { kind: 'accepted' } | { kind: 'manual'; message: string };

export interface PowerDriver<S = unknown> {
  /** The catalogue entry: name, description and settings with MAAS's names. */
  readonly def: PowerTypeDef;
  /** Whether `queryBootDevice` can read back what `setBootDevice` wrote. */
  readonly canQueryBootDevice: boolean;
  /**
   * Turns power parameters (strings, as stored by the region) into typed settings.
   * Throws PowerError BAD_SETTINGS (fatal) with every problem found.
   */
  parseSettings(params: Readonly<Record<string, string>>): S;
  /** A stable key for the BMC these settings reach (calls to one key are serialised). */
  bmcKey(settings: S): string;
  query(settings: S, ctx: DriverCallContext): Promise<PowerState>;
  on(settings: S, ctx: DriverCallContext): Promise<ChangeOutcome>;
  /** `mode` undefined: the driver's default (ipmi: power_off_mode; others: hard). */
  off(settings: S, mode: OffMode | undefined, ctx: DriverCallContext): Promise<ChangeOutcome>;
  /** Power cycle a machine that is on (the caller powers on a machine that is off instead). */
  cycle(settings: S, ctx: DriverCallContext): Promise<ChangeOutcome>;
  setBootDevice(settings: S, device: BootDevice, ctx: DriverCallContext): Promise<ChangeOutcome>;
  /** `none`: no override set; `other`: an override we did not ask for (CD, BIOS setup...). */
  queryBootDevice(settings: S, ctx: DriverCallContext): Promise<BootDevice | 'none' | 'other'>;
  /**
   * Optional batch queries (a driver offers both methods or neither): where these settings fit
   * in a `queryMany`, or null when this BMC is only ever asked alone.
   */
  queryGroup?(settings: S): QueryGroup | null;
  /**
   * Asks several BMCs of one query group for their power state in one BMC call (ipmi: one
   * `ipmipower -h a,b,c --stat`), one answer per settings, in order; the names must differ.
   * Like every driver call it never retries: the caller retries the failed ones. It throws only
   * when the call as a whole failed (a missing tool, a run abandoned at the deadline).
   */
  queryMany?(settings: readonly S[], ctx: DriverCallContext): Promise<QueryManyAnswer[]>;
}

/** Where a BMC fits in a batch query. */
export interface QueryGroup {
  /**
   * BMCs whose keys are equal can be asked in one call (the same tool options and credentials).
   * Opaque, and never the credentials in the clear.
   */
  key: string;
  /** How the call's output names this BMC; two BMCs with one name cannot share a call. */
  name: string;
}

/**
 * One BMC's part of a batch query: its power state, the failure it answered with (retryable
 * or fatal, with the BMC's words), or `unasked` when the call never got to it (another host
 * spoiled the call, or the output left it out) and it should be asked on its own.
 */
export type QueryManyAnswer =
  | { kind: 'state'; state: PowerState }
  | { kind: 'failed'; error: PowerError }
  | { kind: 'unasked'; why: string };

/** The result of one power command, after retries and verification. */
export interface PowerResult {
  /** `done`: the BMC did it and a query confirmed it (or it was a query). `manual`: an operator must act. */
  outcome: 'done' | 'manual';
  /** The state last read from the BMC (for `manual`: unknown). */
  state: PowerState;
  /** The boot device read back after set_boot_device. */
  bootDevice?: BootDevice | 'none' | 'other';
  /** True when a query confirmed the change; a query result is always verified. */
  verified: boolean;
  /** BMC calls made: commands plus queries, retries included. */
  calls: number;
  elapsedMs: number;
  /** For `manual`: what the operator should do. */
  message?: string;
}
