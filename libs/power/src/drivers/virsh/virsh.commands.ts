import { PowerError, PowerErrorCode, tidyOutput } from '../../power.errors';
import { PowerState } from '../../power.types';

/** Pure construction of virsh invocations and reading of what virsh prints. */
export type VirshOp = 'domstate' | 'start' | 'destroy' | 'shutdown' | 'reset';

export function virshArgs(uri: string, op: VirshOp, domain: string): string[] {
  // `--` ends option parsing, so a domain name starting with '-' stays a name.
  return ['--connect', uri, '--quiet', op, '--', domain];
}

/** libvirt's domain states, mapped as MAAS maps them (drivers/power/virsh.py). */
const STATES: Record<string, PowerState> = {
  running: 'on',
  'in shutdown': 'on',
  'shut off': 'off',
  'no state': 'off',
  idle: 'off',
  blocked: 'off',
  paused: 'off',
  crashed: 'off',
  pmsuspended: 'off',
};

export function domstateToPower(stdout: string): PowerState {
  const line = stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!line) throw new PowerError('BMC_ERROR', 'virsh domstate printed nothing');
  const state = STATES[line.toLowerCase()];
  if (!state) throw new PowerError('BMC_ERROR', `unknown libvirt domain state "${line}"`, line);
  return state;
}

type Rule = [RegExp, PowerErrorCode, string];

const RULES: Rule[] = [
  [/failed to get domain|Domain not found|no domain with matching name/i, 'BAD_SETTINGS', 'libvirt has no such domain (power_id)'],
  [/authentication failed|Permission denied|access denied|auth.*(refused|failed)/i, 'BMC_AUTH', 'libvirt refused the credentials'],
  [/invalid argument.*uri|no connection driver available|Unable to parse URI|unsupported configuration/i, 'BAD_SETTINGS', 'power_address is not a libvirt URI this rack can use'],
  [/failed to connect to the hypervisor|Connection refused|No route to host|Could not resolve|Network is unreachable|Failed to connect socket|End of file while reading data/i, 'BMC_UNREACHABLE', 'cannot reach the hypervisor'],
  [/timed out|timeout/i, 'BMC_TIMEOUT', 'the hypervisor did not answer in time'],
];

/** Errors that mean the change is already done. */
const ALREADY = {
  start: /Domain is already active|already running/i,
  destroy: /domain is not running|not active/i,
  shutdown: /domain is not running|not active/i,
  reset: /$^/,
  domstate: /$^/,
} satisfies Record<VirshOp, RegExp>;

export interface VirshOutput {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Throws a classified PowerError unless the command succeeded (or its change was already so). */
export function checkVirsh(op: VirshOp, out: VirshOutput): string {
  if (out.timedOut) throw new PowerError('BMC_TIMEOUT', 'virsh did not finish in time', tidyOutput(out.stderr));
  if (out.code === 0) return out.stdout;
  const words = tidyOutput(out.stderr || out.stdout) || `exit code ${out.code}`;
  if (ALREADY[op].test(out.stderr)) return out.stdout;
  for (const [re, code, explanation] of RULES) {
    if (re.test(out.stderr)) return throwIt(code, explanation, words);
  }
  return throwIt('BMC_ERROR', `virsh ${op} failed`, words);
}

function throwIt(code: PowerErrorCode, msg: string, words: string): never {
  throw new PowerError(code, msg, words);
}

/**
 * Hypervisors reached through libvirt's remote protocol (a libvirtd, locally or on a host), and
 * how. Drivers that run inside virsh itself are refused: `test://<file>` makes virsh read a file
 * of the rack and quote a line of it in its error; esx://, vpx://, hyperv:// and the like make
 * virsh speak HTTP(S) to any host and port and report on what answered.
 */
const HYPERVISORS = new Set(['qemu', 'xen', 'lxc']);
const TRANSPORTS = new Set(['', 'ssh', 'libssh', 'libssh2', 'tcp', 'tls', 'unix']);

export interface UriPolicy {
  /** Accept test:// URIs naming a node file (Kiln's own tests); otherwise only test:///default. */
  testDriverFiles?: boolean;
}

/** MAAS refuses query strings in the URI: `?command=` would let a user run programs on the rack. */
export function checkUri(uri: string, policy: UriPolicy = {}): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) {
    throw new PowerError('BAD_SETTINGS', `invalid virsh power parameters: power_address "${uri}" is not a libvirt URI (e.g. qemu+ssh://user@host/system).`);
  }
  if (uri.includes('?')) {
    throw new PowerError('BAD_SETTINGS', 'invalid virsh power parameters: extra parameters in the virsh address are not supported.');
  }
  if (scheme === 'test') {
    if (uri === 'test:///default' || policy.testDriverFiles) return;
    throw new PowerError('BAD_SETTINGS', 'invalid virsh power parameters: of libvirt\'s test driver only test:///default can be used.');
  }
  const [hypervisor, transport = '', ...rest] = scheme.split('+');
  if (!HYPERVISORS.has(hypervisor) || !TRANSPORTS.has(transport) || rest.length > 0) {
    throw new PowerError(
      'BAD_SETTINGS',
      `invalid virsh power parameters: power_address "${scheme}://..." is not supported; use a QEMU/KVM, Xen or LXC host's libvirtd (qemu:///system, qemu+ssh://user@host/system, qemu+tcp://, qemu+tls://).`,
    );
  }
}

/** The SSH_ASKPASS helper that hands the password to ssh (qemu+ssh:// URIs) from a 0600 file beside it. */
export const ASKPASS_SCRIPT = '#!/bin/sh\nexec cat "$(dirname "$0")/pass"\n';
