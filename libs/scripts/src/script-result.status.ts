/**
 * What a `signal` carrying a script's result means for that result (reference maas-api.md §4.8,
 * §5.4): which uploaded part is which output, and the status the result ends in. Decisions only;
 * the region stores them.
 */
import type { ScriptResultYaml } from './result-yaml.parser';
import type { SignalStatus } from './script.enums';

/** Script result statuses with their wire numbers (§1.2). */
export const SCRIPT_STATUS_CODES = {
  pending: 0,
  running: 1,
  passed: 2,
  failed: 3,
  timedout: 4,
  aborted: 5,
  degraded: 6,
  installing: 7,
  failed_installing: 8,
  skipped: 9,
  applying_netconf: 10,
  failed_applying_netconf: 11,
} as const;
export type ScriptStatus = keyof typeof SCRIPT_STATUS_CODES;

export const SCRIPT_STATUS_NAMES: Readonly<Record<ScriptStatus, string>> = {
  pending: 'Pending',
  running: 'Running',
  passed: 'Passed',
  failed: 'Failed',
  timedout: 'Timed out',
  aborted: 'Aborted',
  degraded: 'Degraded',
  installing: 'Installing dependencies',
  failed_installing: 'Failed installing dependencies',
  skipped: 'Skipped',
  applying_netconf: 'Applying custom network configuration',
  failed_applying_netconf: 'Failed to apply custom network configuration',
};

export type OutputKind = 'combined' | 'stdout' | 'stderr' | 'result';

/** `hello.out` → stdout of `hello`; `.err` → stderr; `.yaml` → result YAML; else combined output. */
export function classifyUploadedFile(part: string): { script: string; kind: OutputKind } {
  for (const [suffix, kind] of [
    ['.out', 'stdout'],
    ['.err', 'stderr'],
    ['.yaml', 'result'],
  ] as const) {
    if (part.endsWith(suffix) && part.length > suffix.length) return { script: part.slice(0, -suffix.length), kind };
  }
  return { script: part, kind: 'combined' };
}

export interface SignalledResult {
  signal: SignalStatus;
  /** Absent when the signal carries no exit status (a "Starting" message). */
  exitStatus?: number;
  /** The result's status before this signal. */
  current: ScriptStatus;
  /** The parsed result YAML, when one was uploaded and is valid. */
  resultYaml?: ScriptResultYaml | null;
}

/**
 * The status a result moves to. WORKING without an exit status marks it running; INSTALLING and
 * APPLYING_NETCONF mark those phases; an exit status finishes it (0 passed, else failed, or the
 * failed form of the phase it was in); TIMEDOUT times it out; a valid result YAML `status` has
 * the last word.
 */
export function nextScriptStatus(r: SignalledResult): ScriptStatus {
  if (r.exitStatus === undefined) {
    switch (r.signal) {
      case 'INSTALLING':
        return 'installing';
      case 'APPLYING_NETCONF':
        return 'applying_netconf';
      case 'TIMEDOUT':
        return 'timedout';
      case 'WORKING':
        return r.current === 'pending' ? 'running' : r.current;
      default:
        return r.current;
    }
  }
  let status: ScriptStatus;
  if (r.signal === 'TIMEDOUT') status = 'timedout';
  else if (r.exitStatus === 0) status = 'passed';
  else if (r.current === 'installing') status = 'failed_installing';
  else if (r.current === 'applying_netconf') status = 'failed_applying_netconf';
  else status = 'failed';
  return r.resultYaml?.status ?? status;
}

/** Parameters as the results API shows them: password values replaced by `REDACTED`. */
export function redactParameters<T extends { type: string; value?: unknown }>(params: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(params).map(([k, p]) => [k, p.type === 'password' && p.value !== undefined ? { ...p, value: 'REDACTED' } : p]),
  );
}
