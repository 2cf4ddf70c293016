import {
  HARDWARE_TYPE_ALIASES,
  HARDWARE_TYPE_CODES,
  PARALLEL_ALIASES,
  PARALLEL_CODES,
  SCRIPT_STATUS_CODES,
  SCRIPT_STATUS_NAMES,
  SCRIPT_TYPE_ALIASES,
  SCRIPT_TYPE_CODES,
  type ScriptStatus,
} from '@kiln/scripts';

/**
 * MAAS's display names of the script enums (metadataserver/enum.py `*_CHOICES`), and its
 * translations of request values (`translate_script_type`, `translate_hardware_type`,
 * `translate_result_type`): a known word or the number of a known value. Pure.
 */

export const SCRIPT_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'Commissioning script',
  2: 'Testing script',
  3: 'Release script',
  4: 'Deployment script',
};

export const HARDWARE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'Node',
  1: 'CPU',
  2: 'Memory',
  3: 'Storage',
  4: 'Network',
  5: 'GPU',
};

export const PARALLEL_NAMES: Readonly<Record<number, string>> = {
  0: 'Disabled',
  1: 'Run along other instances of this script',
  2: 'Run along any other script.',
};

/** Script set (run) types: script_sets.result_type. */
export const RESULT_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'Commissioning',
  1: 'Installation',
  2: 'Testing',
  3: 'Release',
  4: 'Deployment',
};

const RESULT_TYPE_WORDS: Readonly<Record<string, number>> = {
  commission: 0,
  commissioning: 0,
  install: 1,
  installation: 1,
  test: 2,
  testing: 2,
  release: 3,
  deploy: 4,
  deployment: 4,
};

const STATUS_NAME_BY_CODE = new Map<number, string>(
  (Object.keys(SCRIPT_STATUS_CODES) as ScriptStatus[]).map((s) => [SCRIPT_STATUS_CODES[s], SCRIPT_STATUS_NAMES[s]]),
);

/** A script status's display name; -1 (no results) and anything unknown are "Unknown", as in MAAS's node JSON. */
export function scriptStatusName(code: number): string {
  return STATUS_NAME_BY_CODE.get(code) ?? 'Unknown';
}

function translate(value: string, words: Readonly<Record<string, number>>, known: Readonly<Record<number, string>>): number | undefined {
  const v = value.trim().toLowerCase();
  if (/^\d+$/.test(v)) return known[Number(v)] === undefined ? undefined : Number(v);
  return words[v];
}

const codesOf = <T extends string>(aliases: Readonly<Record<string, T>>, codes: Readonly<Record<T, number>>) =>
  Object.fromEntries(Object.entries(aliases).map(([word, name]) => [word, codes[name]]));

const SCRIPT_TYPE_WORDS = codesOf(SCRIPT_TYPE_ALIASES, SCRIPT_TYPE_CODES);
const HARDWARE_TYPE_WORDS = codesOf(HARDWARE_TYPE_ALIASES, HARDWARE_TYPE_CODES);
const PARALLEL_WORDS = codesOf(PARALLEL_ALIASES, PARALLEL_CODES);

export function translateScriptType(value: string): number | undefined {
  return translate(value, SCRIPT_TYPE_WORDS, SCRIPT_TYPE_NAMES);
}

export function translateHardwareType(value: string): number | undefined {
  return translate(value, HARDWARE_TYPE_WORDS, HARDWARE_TYPE_NAMES);
}

export function translateParallel(value: string): number | undefined {
  return translate(value, PARALLEL_WORDS, PARALLEL_NAMES);
}

export function translateResultType(value: string): number | undefined {
  return translate(value, RESULT_TYPE_WORDS, RESULT_TYPE_NAMES);
}

export const SCRIPT_TYPE_ERROR = 'Script type must be commissioning, testing, release or deployment.';
export const HARDWARE_TYPE_ERROR = 'Hardware type must be node, cpu, memory, storage, network or gpu.';
export const PARALLEL_ERROR = 'Script parallel must be disabled, instance, or any.';
export const RESULT_TYPE_ERROR = 'Result type must be commissioning, testing, installation, release or deployment.';

/** A duration as Python prints a timedelta without microseconds: `0:05:00`, `1 day, 2:00:00`. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  const days = Math.floor(whole / 86400);
  const rest = whole % 86400;
  const clock = `${Math.floor(rest / 3600)}:${String(Math.floor((rest % 3600) / 60)).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
  return days ? `${days} day${days === 1 ? '' : 's'}, ${clock}` : clock;
}
