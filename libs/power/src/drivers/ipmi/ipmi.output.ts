import { PowerError, PowerErrorCode, tidyOutput } from '../../power.errors';
import { BootDevice, PowerState, QueryManyAnswer } from '../../power.types';

/**
 * Pure reading of what ipmipower, ipmi-chassis-config and ipmitool print. Every failure keeps
 * the tool's own words (`bmcSays`); the code says whether retrying can help.
 */
export interface ToolOutput {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

type Rule = [pattern: RegExp, code: PowerErrorCode, explanation: string];

/** freeipmi's error strings (ipmipower prints them per host on stdout, ipmi-config on stderr). */
const FREEIPMI_RULES: Rule[] = [
  [/username invalid/i, 'BMC_AUTH', 'the BMC does not know this user name'],
  [/password invalid/i, 'BMC_AUTH', 'the BMC refused the password'],
  [/password verification timeout/i, 'BMC_AUTH', 'the BMC did not accept the password (IPMI 1.5 answers a wrong password with silence)'],
  [/k_g invalid/i, 'BMC_AUTH', 'the BMC refused the K_g key'],
  [/privilege level insufficient/i, 'BMC_AUTH', 'the user lacks the privilege for this action'],
  [/privilege level cannot be obtained/i, 'BMC_AUTH', 'the BMC will not grant this user the privilege level asked for'],
  [/requires atleast (\w+) privilege/i, 'BAD_SETTINGS', 'privilege_level is too low for this action'],
  [/authentication type unavailable/i, 'BAD_SETTINGS', 'the BMC does not offer this authentication type at this privilege level'],
  [/cipher suite id unavailable/i, 'BAD_SETTINGS', 'the BMC does not offer this cipher suite'],
  [/ipmi 2\.0 unavailable/i, 'BAD_SETTINGS', 'the BMC does not speak IPMI 2.0; use power_driver LAN (IPMI 1.5)'],
  [/ipmi 1\.5 unavailable/i, 'BAD_SETTINGS', 'the BMC does not speak IPMI 1.5; use power_driver LAN_2_0'],
  [/hostname invalid|invalid hostname/i, 'BAD_SETTINGS', 'power_address is not a valid host'],
  [/device not found|could not find inband device/i, 'BAD_SETTINGS', 'no IPMI device found'],
  [/Config File Error/i, 'BAD_SETTINGS', 'the credentials could not be handed to freeipmi'],
  [/BMC busy/i, 'BMC_BUSY', 'the BMC is busy'],
  [/connection timeout/i, 'BMC_TIMEOUT', 'the BMC did not answer'],
  [/session timeout/i, 'BMC_TIMEOUT', 'the IPMI session timed out'],
  [/driver timeout|message timeout/i, 'BMC_TIMEOUT', 'the BMC stopped answering'],
  [/internal IPMI error/i, 'BMC_ERROR', 'freeipmi met an IPMI error it cannot handle'],
  [/BMC error/i, 'BMC_ERROR', 'the BMC answered with an error (an unsupported cipher suite looks like this)'],
  [/Failed to commit/i, 'BMC_ERROR', 'the BMC refused the boot device setting'],
];

/** ipmitool's words (with -v), stderr. Order matters: the first match wins. */
const IPMITOOL_RULES: Rule[] = [
  [/RAKP 2 HMAC is invalid/i, 'BMC_AUTH', 'the BMC refused the password'],
  [/unauthorized name|Invalid user name/i, 'BMC_AUTH', 'the BMC does not know this user name'],
  [/RAKP 4 message has invalid integrity check value/i, 'BMC_AUTH', 'the BMC refused the K_g key'],
  [/Activate Session command failed|Activate Session error/i, 'BMC_AUTH', 'the BMC refused the session (wrong password or privilege)'],
  [/Insufficient privilege level|requested privilege level|unauthorized role or privilege/i, 'BMC_AUTH', 'the user lacks the privilege for this action'],
  [/invalid authentication algorithm|invalid integrity algorithm|invalid confidentiality algorithm|no matching cipher suite/i, 'BAD_SETTINGS', 'the BMC does not offer this cipher suite'],
  [/Invalid privilege level/i, 'BAD_SETTINGS', 'privilege_level is not one ipmitool accepts'],
  [/insufficient resources for session|no session slot/i, 'BMC_BUSY', 'the BMC has no free session'],
  [/Unable to establish IPMI v2 \/ RMCP\+ session|Unable to establish IPMI v1\.5 \/ RMCP session|Unable to establish LAN session/i, 'BMC_TIMEOUT', 'no IPMI session could be opened (the BMC did not answer)'],
  [/Get Auth Capabilities error|Get Channel Authentication Capabilities/i, 'BMC_TIMEOUT', 'the BMC did not answer the capabilities request'],
  [/Unable to get Chassis Power Status|Set Chassis Power Control .* failed|Error setting Chassis Boot Parameter/i, 'BMC_ERROR', 'the BMC refused the command'],
];

function classify(rules: Rule[], text: string, words: string, fallback: string): PowerError {
  for (const [re, code, explanation] of rules) {
    if (re.test(text)) return new PowerError(code, explanation, words);
  }
  return new PowerError('BMC_ERROR', fallback, words);
}

function timedOut(tool: string, out: ToolOutput): PowerError {
  return new PowerError('BMC_TIMEOUT', `${tool} did not finish in time`, tidyOutput(`${out.stdout}\n${out.stderr}`));
}

// ---------- ipmipower ----------

/**
 * ipmipower prints one line per host, `host: result` (`on`, `off`, `ok`, or an error), on
 * stdout, and usage problems on stderr. It can exit 0 with an error line ("BMC error").
 */
export function ipmipowerResult(out: ToolOutput): string {
  if (out.timedOut) throw timedOut('ipmipower', out);
  const line = out.stdout
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => /^\S+: /.test(l));
  const result = line ? line.slice(line.indexOf(': ') + 2).trim() : '';
  if (out.code === 0 && /^(on|off|ok)$/i.test(result)) return result.toLowerCase();
  const words = tidyOutput(`${out.stdout}\n${out.stderr}`) || `exit code ${out.code}`;
  throw ipmipowerFailure(result, out.stderr, words);
}

function ipmipowerFailure(result: string, stderr: string, words: string): PowerError {
  return classify(FREEIPMI_RULES, `${result}\n${stderr}`, words, 'ipmipower failed');
}

const NO_STATE = 'ipmipower --stat gave no power state';

export function ipmipowerState(out: ToolOutput): PowerState {
  const r = ipmipowerResult(out);
  if (r === 'on' || r === 'off') return r;
  throw new PowerError('BMC_ERROR', NO_STATE, tidyOutput(out.stdout));
}

/**
 * Reads a many-host `ipmipower -h a,b,c --stat`: one answer per name asked (the host as in -h,
 * without its port), in order. ipmipower prints a line per host, `host: on`, `host: off` or
 * `host: <error>`, and exits 1 if any host failed, so each host is judged by its own line alone,
 * with the same rules and the same words (`host: password invalid`) as a one-host run.
 *
 * A host without a line was not asked: one unresolvable name stops ipmipower before it asks
 * anyone (it prints only `name: invalid hostname`). Such hosts come back `unasked`, unless the
 * run as a whole failed (killed at its deadline: BMC_TIMEOUT; nothing printed but an error on
 * stderr, such as a config file error: that error, for every host).
 */
export function ipmipowerStates(out: ToolOutput, names: readonly string[]): QueryManyAnswer[] {
  const lines = new Map<string, { line: string; result: string }>();
  for (const raw of out.stdout.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^([^\s:]+): (.+)$/.exec(line);
    const host = m?.[1].toLowerCase();
    if (m && host && !lines.has(host)) lines.set(host, { line, result: m[2].trim() });
  }
  const stderr = tidyOutput(out.stderr);
  return names.map((name): QueryManyAnswer => {
    const got = lines.get(name.toLowerCase());
    if (got) {
      if (/^(on|off)$/i.test(got.result)) return { kind: 'state', state: got.result.toLowerCase() as PowerState };
      const words = tidyOutput(`${got.line}\n${out.stderr}`);
      if (/^ok$/i.test(got.result)) return { kind: 'failed', error: new PowerError('BMC_ERROR', NO_STATE, words) };
      return { kind: 'failed', error: ipmipowerFailure(got.result, out.stderr, words) };
    }
    if (out.timedOut) return { kind: 'failed', error: new PowerError('BMC_TIMEOUT', 'ipmipower did not finish in time', stderr) };
    if (lines.size === 0 && (stderr || out.code !== 0)) {
      return { kind: 'failed', error: ipmipowerFailure('', out.stderr, stderr || `exit code ${out.code}`) };
    }
    return { kind: 'unasked', why: `ipmipower printed no answer for ${name}` };
  });
}

// ---------- ipmi-chassis-config ----------

export function chassisConfigCheck(out: ToolOutput): void {
  if (out.timedOut) throw timedOut('ipmi-chassis-config', out);
  const errText = out.stderr;
  if (out.code === 0 && !/ERROR|error:|timeout|invalid/i.test(errText)) return;
  const words = tidyOutput(errText || out.stdout) || `exit code ${out.code}`;
  throw classify(FREEIPMI_RULES, errText, words, 'ipmi-chassis-config failed');
}

/** Reads `Boot_Device <value>` from a --checkout of Chassis_Boot_Flags. */
export function chassisConfigBootDevice(out: ToolOutput): BootDevice | 'none' | 'other' {
  chassisConfigCheck(out);
  const m = /^\s*Boot_Device\s+(\S+)/m.exec(out.stdout);
  if (!m) throw new PowerError('BMC_ERROR', 'ipmi-chassis-config printed no Boot_Device', tidyOutput(out.stdout));
  return bootDeviceFromFreeipmi(m[1]);
}

export function bootDeviceFromFreeipmi(v: string): BootDevice | 'none' | 'other' {
  switch (v.toUpperCase()) {
    case 'PXE':
      return 'pxe';
    case 'HARD-DRIVE':
      return 'disk';
    case 'NO-OVERRIDE':
      return 'none';
    default:
      return 'other';
  }
}

// ---------- ipmitool ----------

export function ipmitoolCheck(out: ToolOutput): string {
  if (out.timedOut) throw timedOut('ipmitool', out);
  if (out.code === 0) return out.stdout;
  const words = tidyOutput(`${out.stderr}\n${out.stdout}`) || `exit code ${out.code}`;
  throw classify(IPMITOOL_RULES, `${out.stderr}\n${out.stdout}`, words, 'ipmitool failed');
}

export function ipmitoolState(out: ToolOutput): PowerState {
  const stdout = ipmitoolCheck(out);
  const m = /Chassis Power is (on|off)/i.exec(stdout);
  if (!m) throw new PowerError('BMC_ERROR', 'ipmitool printed no power state', tidyOutput(stdout));
  return m[1].toLowerCase() as PowerState;
}

/** Reads the boot device selector from `chassis bootparam get 5`. */
export function ipmitoolBootDevice(out: ToolOutput): BootDevice | 'none' | 'other' {
  const stdout = ipmitoolCheck(out);
  const m = /Boot Device Selector\s*:\s*(.+)$/im.exec(stdout);
  if (!m) throw new PowerError('BMC_ERROR', 'ipmitool printed no boot device selector', tidyOutput(stdout));
  const sel = m[1].trim();
  if (/Force PXE/i.test(sel)) return 'pxe';
  if (/Force Boot from default Hard-Drive$/i.test(sel)) return 'disk';
  if (/No override/i.test(sel)) return 'none';
  return 'other';
}
