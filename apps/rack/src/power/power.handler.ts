import {
  ContractError,
  PowerCycle,
  PowerErrorCodeWire,
  PowerOff,
  PowerOn,
  PowerOutcome,
  PowerQuery,
  PowerQueryBatch,
  PowerSetBootDevice,
  ReplyIn,
  RequestOf,
} from '@kiln/contracts';
import { PowerAction, PowerError, PowerErrorCode, PowerResult, isPowerError, redactPowerParameters } from '@kiln/power/drivers';
import { CommandMemory } from './command.memory';
import { PowerExecutor, RackBusyError } from './power.executor';

/**
 * What a rack does with each power request, whatever carried it: run it on the executor and
 * turn the result into the contract's reply, or the failure into one of the contract's codes.
 * Validation of the request happens at the edge (the transport), before these functions.
 */
export interface PowerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const silent: PowerLog = { info: () => undefined, warn: () => undefined };

export interface PowerHandlers {
  on(req: RequestOf<typeof PowerOn>): Promise<PowerOutcome>;
  off(req: RequestOf<typeof PowerOff>): Promise<PowerOutcome>;
  cycle(req: RequestOf<typeof PowerCycle>): Promise<PowerOutcome>;
  query(req: RequestOf<typeof PowerQuery>): Promise<PowerOutcome>;
  setBootDevice(req: RequestOf<typeof PowerSetBootDevice>): Promise<PowerOutcome>;
  queryBatch(req: RequestOf<typeof PowerQueryBatch>): Promise<ReplyIn<typeof PowerQueryBatch>>;
}

type Target = { systemId: string; powerType: string; sealedParameters: string; budgetMs?: number; commandId?: string };

/**
 * Opens the power parameters the region sealed to this rack for one machine (see
 * sealPowerParameters); throws when they were sealed to another rack or machine, or altered.
 */
export type PowerParametersOpener = (systemId: string, sealed: string) => Record<string, string>;

const NOT_SEALED_HERE = 'the power parameters were not sealed to this rack for this machine (the region may hold an older key of this rack: it re-learns it when the rack registers)';

export function createPowerHandlers(
  executor: PowerExecutor,
  unseal: PowerParametersOpener,
  log: PowerLog = silent,
  memory: CommandMemory<PowerOutcome> = new CommandMemory(),
): PowerHandlers {
  const open = (t: { systemId: string; sealedParameters: string }): Record<string, string> | null => {
    try {
      return unseal(t.systemId, t.sealedParameters);
    } catch {
      log.warn({ systemId: t.systemId }, 'power command refused: its parameters were not sealed to this rack');
      return null;
    }
  };
  const run = (req: Target, action: PowerAction): Promise<PowerOutcome> => {
    if (!req.commandId || action.kind === 'query') return execute(req, action);
    // A command the rack already carried out is answered from memory, never done twice.
    const ids = { systemId: req.systemId, action: action.kind, commandId: req.commandId };
    return memory.once(`${req.commandId}:${action.kind}`, () => execute(req, action), {
      onRepeat: () => log.info(ids, 'repeated power command answered from memory'),
      // The rack stopped while it ran this command: a cycle may have rebooted the machine already,
      // so it is finished as a power on (a machine that is on stays on), never a second reboot.
      interrupted: () => {
        log.warn(ids, 'power command was interrupted by a rack restart; carrying it out without repeating what may have taken effect');
        return execute(req, action.kind === 'cycle' ? { kind: 'on' } : action);
      },
    });
  };
  const execute = async (req: Target, action: PowerAction): Promise<PowerOutcome> => {
    const ids = { systemId: req.systemId, powerType: req.powerType, action: action.kind, commandId: req.commandId };
    const params = open(req);
    if (!params) throw new ContractError('BAD_SETTINGS', NOT_SEALED_HERE);
    try {
      const r = await executor.execute({ powerType: req.powerType, params, action, systemId: req.systemId }, { budgetMs: req.budgetMs });
      log.info({ ...ids, outcome: r.outcome, state: r.state, calls: r.calls, elapsedMs: r.elapsedMs }, 'power command done');
      return toOutcome(r);
    } catch (e) {
      const failure = powerFailure(e);
      // Parameters are logged without their secrets; the BMC's words are in the message.
      log.warn(
        { ...ids, code: failure.code, params: redactPowerParameters(req.powerType, params), err: failure.message },
        'power command failed',
      );
      throw failure;
    }
  };

  return {
    on: (req) => run(req, { kind: 'on' }),
    off: (req) => run(req, { kind: 'off', mode: req.mode }),
    cycle: (req) => run(req, { kind: 'cycle' }),
    query: (req) => run(req, { kind: 'query' }),
    setBootDevice: (req) => run(req, { kind: 'set_boot_device', device: req.device }),
    queryBatch: async (req) => {
      const started = Date.now();
      const opened = req.items.map((i) => ({ systemId: i.systemId, powerType: i.powerType, params: open(i) }));
      const refused = opened.filter((i) => !i.params).map((i) => ({ systemId: i.systemId, ok: false as const, code: 'BAD_SETTINGS' as const, message: NOT_SEALED_HERE, fatal: true }));
      const results = await executor.queryBatch(
        opened.flatMap((i) => (i.params ? [{ systemId: i.systemId, powerType: i.powerType, params: i.params }] : [])),
        { spreadMs: req.spreadMs, budgetMs: req.budgetMs },
      );
      const failed = results.filter((r) => !r.ok).length;
      log.info({ items: results.length, failed, elapsedMs: Date.now() - started }, 'power query batch done');
      return {
        elapsedMs: Date.now() - started,
        results: [
          ...results.map((r) =>
            r.ok
              ? { systemId: r.systemId, ok: true as const, state: r.state, elapsedMs: r.elapsedMs }
              : { systemId: r.systemId, ok: false as const, code: toWireCode(r.error.code), message: r.error.describe().slice(0, 4096), fatal: r.error.fatal },
          ),
          ...refused,
        ],
      };
    },
  };
}

function toOutcome(r: PowerResult): PowerOutcome {
  return {
    outcome: r.outcome,
    state: r.state,
    verified: r.verified,
    calls: r.calls,
    elapsedMs: Math.round(r.elapsedMs),
    ...(r.bootDevice ? { bootDevice: r.bootDevice } : {}),
    ...(r.message ? { message: r.message } : {}),
  };
}

/** Any failure of a power command as the contract's coded error. */
export function powerFailure(e: unknown): ContractError<PowerErrorCodeWire | 'INTERNAL'> {
  if (e instanceof RackBusyError) return new ContractError('RACK_BUSY', e.message);
  if (isPowerError(e)) return new ContractError(toWireCode(e.code), describeForWire(e));
  return new ContractError('INTERNAL', 'the power command failed unexpectedly; the rack logged the details');
}

function describeForWire(e: PowerError): string {
  return e.describe().slice(0, 4096);
}

/** The one mapping from libs/power's codes to the wire's (exhaustive: a new code fails to compile). */
export function toWireCode(code: PowerErrorCode): PowerErrorCodeWire {
  switch (code) {
    case 'BMC_AUTH':
      return 'BMC_AUTH';
    case 'BAD_SETTINGS':
      return 'BAD_SETTINGS';
    case 'MISSING_TOOL':
      return 'MISSING_TOOL';
    case 'UNSUPPORTED':
      return 'UNSUPPORTED';
    case 'BMC_UNREACHABLE':
      return 'BMC_UNREACHABLE';
    case 'BMC_TIMEOUT':
      return 'BMC_TIMEOUT';
    case 'BMC_BUSY':
      return 'BMC_BUSY';
    case 'BMC_ERROR':
      return 'BMC_ERROR';
    case 'NOT_VERIFIED':
      return 'NOT_VERIFIED';
  }
}
