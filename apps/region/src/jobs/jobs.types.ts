import type { Effect } from '@kiln/lifecycle';

/** Every job Kiln's region runs, with its payload. A job without a handler fails start-up. */
export interface JobPayloads {
  /** Fails machines whose deadline of record (status_expires) passed. Repeatable. */
  'deadline.sweep': Record<string, never>;
  /** Refreshes every queryable machine's power state through the racks. Repeatable. */
  'power.poll': Record<string, never>;
  /**
   * Carries out one side effect of a lifecycle transition (power, start scripts, ...). `outbox`:
   * the effect has a row in effect_outbox under the job's id until its result is recorded.
   * `correlationId`: the id of the API request that caused the transition, carried to the rack with its commands.
   */
  'machine.effect': { systemId: string; version: number; status: number; effect: Effect; actor: string | null; outbox?: boolean; correlationId?: string };
}

export type JobName = keyof JobPayloads;
export const JOB_NAMES: readonly JobName[] = ['deadline.sweep', 'power.poll', 'machine.effect'];

export const LIFECYCLE_QUEUE = Symbol('LIFECYCLE_QUEUE');
export const LIFECYCLE_QUEUE_NAME = 'lifecycle';
