/**
 * The enums of MAAS's script model (reference maas-api.md §1.2), as names with their wire numbers.
 * Names are what Kiln's code uses; numbers are what MAAS clients see in JSON and index.json.
 */

export const SCRIPT_TYPE_CODES = { commissioning: 0, testing: 2, release: 3, deployment: 4 } as const;
export type ScriptType = keyof typeof SCRIPT_TYPE_CODES;
export const SCRIPT_TYPES = Object.keys(SCRIPT_TYPE_CODES) as ScriptType[];

export const HARDWARE_TYPE_CODES = { node: 0, cpu: 1, memory: 2, storage: 3, network: 4, gpu: 5 } as const;
export type HardwareType = keyof typeof HARDWARE_TYPE_CODES;

export const PARALLEL_CODES = { disabled: 0, instance: 1, any: 2 } as const;
export type Parallel = keyof typeof PARALLEL_CODES;

/** Accepted spellings in embedded metadata (§5.2); numbers are accepted as well. */
export const SCRIPT_TYPE_ALIASES: Readonly<Record<string, ScriptType>> = {
  commissioning: 'commissioning',
  commission: 'commissioning',
  testing: 'testing',
  test: 'testing',
  release: 'release',
  deployment: 'deployment',
};

export const HARDWARE_TYPE_ALIASES: Readonly<Record<string, HardwareType>> = {
  node: 'node',
  machine: 'node',
  controller: 'node',
  other: 'node',
  generic: 'node',
  cpu: 'cpu',
  processor: 'cpu',
  memory: 'memory',
  ram: 'memory',
  storage: 'storage',
  disk: 'storage',
  ssd: 'storage',
  network: 'network',
  net: 'network',
  interface: 'network',
  gpu: 'gpu',
  graphics: 'gpu',
};

export const PARALLEL_ALIASES: Readonly<Record<string, Parallel>> = {
  disabled: 'disabled',
  none: 'disabled',
  instance: 'instance',
  name: 'instance',
  any: 'any',
  enabled: 'any',
};

/** Statuses the ephemeral environment sends with `op=signal` (§1.2, §4.8). */
export const SIGNAL_STATUSES = [
  'OK',
  'FAILED',
  'WORKING',
  'COMMISSIONING',
  'TESTING',
  'TIMEDOUT',
  'INSTALLING',
  'APPLYING_NETCONF',
  'RELEASING',
  'DEPLOYING',
] as const;
export type SignalStatus = (typeof SIGNAL_STATUSES)[number];

/** The key of each script set in index.json, and the folder of its scripts in the tar (§4.6). */
export const SCRIPT_SET_KEYS: Readonly<Record<ScriptType, string>> = {
  commissioning: 'commissioning_scripts',
  testing: 'testing_scripts',
  release: 'release_scripts',
  deployment: 'deployment_scripts',
};

export function codeToName<T extends string>(codes: Readonly<Record<T, number>>, code: number): T | undefined {
  return (Object.keys(codes) as T[]).find((k) => codes[k] === code);
}
