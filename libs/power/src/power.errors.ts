/**
 * Power failures carry a code, whether retrying can help, and the BMC's (or the tool's) own words,
 * so that an operator reads what the BMC said rather than "Failed to query node's BMC".
 *
 * Fatal codes (no retry: the same call would fail the same way until someone fixes something):
 * - BMC_AUTH: the BMC refused the credentials (user, password, K_g, privilege).
 * - BAD_SETTINGS: the power parameters are wrong or incomplete (or the BMC rejects our protocol
 *   choice, e.g. an unavailable cipher suite).
 * - MISSING_TOOL: the rack lacks the program the driver needs (ipmipower, virsh...).
 * - UNSUPPORTED: the driver cannot do that (e.g. a webhook cannot set a boot device).
 *
 * Retryable codes (the BMC or the path to it may recover):
 * - BMC_UNREACHABLE: no route, connection refused or reset, DNS failure.
 * - BMC_TIMEOUT: the BMC did not answer in time (IPMI over UDP drops packets under load).
 * - BMC_BUSY: the BMC said it is busy or out of sessions.
 * - BMC_ERROR: the BMC answered with an error we do not classify further.
 * - NOT_VERIFIED: the BMC accepted the change but queries never showed it.
 */
export const FATAL_CODES = ['BMC_AUTH', 'BAD_SETTINGS', 'MISSING_TOOL', 'UNSUPPORTED'] as const;
export const RETRYABLE_CODES = ['BMC_UNREACHABLE', 'BMC_TIMEOUT', 'BMC_BUSY', 'BMC_ERROR', 'NOT_VERIFIED'] as const;
export const POWER_ERROR_CODES = [...FATAL_CODES, ...RETRYABLE_CODES] as const;

export type FatalCode = (typeof FATAL_CODES)[number];
export type RetryableCode = (typeof RETRYABLE_CODES)[number];
export type PowerErrorCode = FatalCode | RetryableCode;

const FATAL = new Set<string>(FATAL_CODES);

export function isFatalCode(code: PowerErrorCode): code is FatalCode {
  return FATAL.has(code);
}

export class PowerError extends Error {
  readonly fatal: boolean;

  /**
   * @param code what went wrong
   * @param message our explanation, for operators
   * @param bmcSays the BMC's or the tool's own words, verbatim (secrets redacted), '' if none
   */
  constructor(
    readonly code: PowerErrorCode,
    message: string,
    readonly bmcSays = '',
  ) {
    super(message);
    this.name = 'PowerError';
    this.fatal = isFatalCode(code);
  }

  /** One line for events and replies: our explanation, then what the BMC said. */
  describe(): string {
    return this.bmcSays ? `${this.message} (BMC said: ${this.bmcSays})` : this.message;
  }

  /** The same failure, said again with more context (e.g. "after 3 attempts"). */
  withMessage(message: string): PowerError {
    return new PowerError(this.code, message, this.bmcSays);
  }
}

export function isPowerError(e: unknown): e is PowerError {
  return e instanceof PowerError;
}

/**
 * Removes secrets from text a tool printed before it reaches an error or a log. Tools rarely echo
 * passwords, but a BMC's error page or a verbose tool might.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 3) out = out.split(s).join('********');
  }
  return out;
}

/** Trims tool output to something that fits in an event: the meaningful lines, at most `max` chars. */
export function tidyOutput(text: string, max = 600): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !NOISE.some((n) => n.test(l)));
  const joined = lines.join(' | ');
  return joined.length > max ? `${joined.slice(0, max - 1)}…` : joined;
}

/** Lines ipmitool prints that say nothing about the outcome. */
const NOISE = [/^Loading IANA PEN Registry/i, /^Get HPM\.x Capabilities request failed/i];
