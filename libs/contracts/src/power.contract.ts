import { z } from 'zod';
import { rpc } from './contract';
import { BoxKeyPair, openSealed, sealTo } from './crypto/sealed-box';
import { systemId } from './net.schema';

/**
 * Power commands a region sends to a rack that can reach the BMC (`rack.<rackId>.power.*`).
 * The rack runs the driver (libs/power) under its concurrency cap, retries retryable failures,
 * verifies every change by querying, and answers with the state it read back.
 *
 * Failures answer with one of POWER_ERRORS; the message carries the BMC's own words
 * ("... (BMC said: password invalid)"). POWER_FATAL_ERRORS will fail the same way until someone
 * fixes something (credentials, parameters, the rack's tools): do not retry them; the others may
 * succeed later or on another rack.
 *
 * Timeouts: a command can take a while (retries with backoff, then verification queries: an
 * unreachable BMC fails after about a minute with the rack's default policy, and the rack stops
 * any command at its budget, 120 s by default). The region should pass its own deadline as
 * `budgetMs` and wait a little longer than that for the reply.
 */
export const POWER_ERRORS = [
  /** The BMC refused the credentials (user, password, K_g, privilege). */
  'BMC_AUTH',
  /** Unknown power type, or power parameters the driver cannot use. */
  'BAD_SETTINGS',
  /** The rack lacks the tool the driver needs (ipmipower, ipmitool, virsh). */
  'MISSING_TOOL',
  /** The driver cannot do this (e.g. set a boot device through a webhook). */
  'UNSUPPORTED',
  /** No route, connection refused or reset. */
  'BMC_UNREACHABLE',
  /** The BMC did not answer in time (or the budget ran out). */
  'BMC_TIMEOUT',
  /** The BMC is busy or out of sessions. */
  'BMC_BUSY',
  /** The BMC answered with an error. */
  'BMC_ERROR',
  /** The BMC accepted the change but queries never showed it. */
  'NOT_VERIFIED',
  /** The rack has too many power commands queued; try another rack or later. */
  'RACK_BUSY',
] as const;
export type PowerErrorCodeWire = (typeof POWER_ERRORS)[number];

export const POWER_FATAL_ERRORS = ['BMC_AUTH', 'BAD_SETTINGS', 'MISSING_TOOL', 'UNSUPPORTED'] as const satisfies readonly PowerErrorCodeWire[];

export const powerStateWire = z.enum(['on', 'off', 'unknown']);
export const bootDeviceWire = z.enum(['pxe', 'disk']);

/** MAAS power parameters: names and values are strings (secrets included: they travel sealed, never logged). */
export const powerParameters = z
  .record(z.string().min(1).max(64), z.string().max(4096))
  .refine((p) => Object.keys(p).length <= 64, 'too many power parameters');

/**
 * Power parameters sealed by the region to the one rack that runs the command (its X25519 box
 * key, see crypto/sealed-box.ts), for one machine: anyone else on the bus sees ciphertext, and a
 * box cannot be replayed for another machine or another rack.
 */
export const sealedPowerParameters = z.string().min(1).max(400_000).regex(/^kb1\.[A-Za-z0-9_-]+$/, 'a sealed box');

function powerParametersContext(rackId: string, systemId: string): string {
  return `power:${rackId}:${systemId}`;
}

/** What the region sends: the machine's power parameters sealed to `rackId`'s box public key. */
export function sealPowerParameters(rackBoxPublicKey: string, rackId: string, systemId: string, params: Record<string, string>): string {
  return sealTo(rackBoxPublicKey, JSON.stringify(params), powerParametersContext(rackId, systemId));
}

/** What the rack reads. Throws when the box was not sealed to this rack for this machine, or is not power parameters. */
export function openPowerParameters(rack: BoxKeyPair, rackId: string, systemId: string, sealed: string): Record<string, string> {
  const clear = openSealed(rack, sealed, powerParametersContext(rackId, systemId)).toString('utf8');
  return powerParameters.parse(JSON.parse(clear));
}

/** Which BMC, how to reach it, and for which machine. */
export const powerTarget = z.object({
  systemId,
  /** MAAS power_type: ipmi, redfish, virsh, webhook, manual. */
  powerType: z.string().min(1).max(64),
  sealedParameters: sealedPowerParameters,
});

const commandBase = powerTarget.extend({
  /** Time the region allows; the rack gives up (BMC_TIMEOUT) when it runs out. */
  budgetMs: z.number().int().min(1000).max(600_000).optional(),
  /**
   * The command's idempotency id (the region's effect id). A rack remembers what it did under
   * this id for a while and answers a repeat from memory: a retried power cycle cycles once.
   */
  commandId: z.string().min(1).max(128).optional(),
});

/** What a rack answers to a power command. */
export const powerOutcome = z.object({
  /** done: the BMC did it and a query confirmed it. manual: an operator must act (`message`). */
  outcome: z.enum(['done', 'manual']),
  /** The state read back from the BMC (unknown for manual, or after set_boot_device). */
  state: powerStateWire,
  /** Read back after set_boot_device: pxe, disk, none, other. */
  bootDevice: z.enum(['pxe', 'disk', 'none', 'other']).optional(),
  verified: z.boolean(),
  /** BMC calls made (retries and verification queries included). */
  calls: z.number().int().nonnegative(),
  elapsedMs: z.number().int().nonnegative(),
  message: z.string().max(4096).optional(),
});
export type PowerOutcome = z.output<typeof powerOutcome>;

function powerRpc<N extends string, R extends z.ZodTypeAny>(name: N, verb: string, request: R) {
  return rpc({
    name,
    answeredBy: 'rack',
    since: 1,
    subject: (rackId: string) => `rack.${rackId}.power.${verb}`,
    request,
    reply: powerOutcome,
    errors: POWER_ERRORS,
  });
}

/** rack.<rackId>.power.on — power on (a machine that is on stays on). */
export const PowerOn = powerRpc('PowerOn', 'on', commandBase);

/** rack.<rackId>.power.off — hard (cut power) or soft (ask the OS); no mode: the driver's default (ipmi: power_off_mode). */
export const PowerOff = powerRpc('PowerOff', 'off', commandBase.extend({ mode: z.enum(['hard', 'soft']).optional() }));

/** rack.<rackId>.power.cycle — reboot a machine that is on, start one that is off. */
export const PowerCycle = powerRpc('PowerCycle', 'cycle', commandBase);

/** rack.<rackId>.power.query — read the power state now (query_power_state). */
export const PowerQuery = powerRpc('PowerQuery', 'query', commandBase);

/** rack.<rackId>.power.set_boot_device — one-time boot override before the next power on. */
export const PowerSetBootDevice = powerRpc('PowerSetBootDevice', 'set_boot_device', commandBase.extend({ device: bootDeviceWire }));

/**
 * rack.<rackId>.power.query_batch — one polling round: the rack queries every BMC under its
 * concurrency cap, spreading the starts over `spreadMs` (jitter), and answers once with every
 * result. A failed BMC is a result (ok: false), not an error of the whole batch.
 */
export const PowerQueryBatch = rpc({
  name: 'PowerQueryBatch',
  answeredBy: 'rack',
  since: 1,
  subject: (rackId: string) => `rack.${rackId}.power.query_batch`,
  request: z.object({
    items: z.array(powerTarget).max(5000),
    /** Starts are spread uniformly over this window (default: the rack's configured jitter). */
    spreadMs: z.number().int().min(0).max(300_000).optional(),
    budgetMs: z.number().int().min(1000).max(600_000).optional(),
  }),
  reply: z.object({
    results: z.array(
      z.discriminatedUnion('ok', [
        z.object({ systemId, ok: z.literal(true), state: powerStateWire, elapsedMs: z.number().int().nonnegative() }),
        z.object({
          systemId,
          ok: z.literal(false),
          code: z.enum(POWER_ERRORS),
          /** Our explanation plus the BMC's own words. */
          message: z.string().max(4096),
          fatal: z.boolean(),
        }),
      ]),
    ),
    elapsedMs: z.number().int().nonnegative(),
  }),
  errors: ['RACK_BUSY'] as const,
});

/** Every power contract, for registration and docs. */
export const POWER_CONTRACTS = [PowerOn, PowerOff, PowerCycle, PowerQuery, PowerSetBootDevice, PowerQueryBatch] as const;
