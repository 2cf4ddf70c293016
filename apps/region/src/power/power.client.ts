import { Inject, Injectable } from '@nestjs/common';
import {
  ContractError,
  POWER_FATAL_ERRORS,
  PowerCycle,
  PowerOff,
  PowerOn,
  PowerOutcome,
  PowerQuery,
  PowerQueryBatch,
  PowerSetBootDevice,
  sealPowerParameters,
} from '@kiln/contracts';
import type { ContractBus } from '@kiln/contracts/nats';
import { log } from '../logging/logger';
import { CONTRACT_BUS } from '../nats/nats.module';
import { LiveRack, PowerRepository, PowerTargetRow } from './power.repository';
import { chooseRacks } from './rack-selection';
import { RackGoneError, whileRackAnswers } from './rack-watch';
import { SECRET_BOX, SecretBox } from './secret-box';

export type PowerAction =
  | { kind: 'on' }
  | { kind: 'off'; mode?: 'hard' | 'soft' }
  | { kind: 'cycle' }
  | { kind: 'query' }
  | { kind: 'setBootDevice'; device: 'pxe' | 'disk' };

/** A power command that failed, with the code the rack gave and the BMC's own words. */
export class PowerFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

export type { PowerTargetRow };

/** Rack-side failures that another rack might not have: try the next live rack. */
const FAIL_OVER = new Set(['UNAVAILABLE', 'TIMEOUT', 'RACK_BUSY', 'MISSING_TOOL']);
const DEFAULT_BUDGET_MS = 90_000;

/**
 * Sends power commands to a rack that can drive the machine's BMC, over NATS, and fails over to
 * the next live rack when one does not answer. BMC secrets are decrypted only here, on their way
 * to the rack; they are never logged.
 */
@Injectable()
export class PowerClient {
  constructor(
    private readonly repo: PowerRepository,
    @Inject(CONTRACT_BUS) private readonly bus: ContractBus,
    @Inject(SECRET_BOX) private readonly secrets: SecretBox,
  ) {}

  target(systemId: string): Promise<PowerTargetRow | null> {
    return this.repo.target(systemId);
  }

  params(t: PowerTargetRow): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(t.power_parameters ?? {})) out[k] = this.secrets.open(String(v));
    return { ...out, ...(t.instance ?? {}) };
  }

  /**
   * Live racks that can receive secrets (they registered a box public key): those that can drive
   * every power type first, then freshest heartbeat first. BMC credentials are sealed to each
   * rack's key, so nobody else on the bus reads them.
   */
  liveRacks(): Promise<LiveRack[]> {
    return this.repo.liveRacks();
  }

  private sealed(rack: LiveRack, t: PowerTargetRow, params: Record<string, string>): string {
    return sealPowerParameters(rack.boxPublicKey, rack.rackId, t.system_id, params);
  }

  /**
   * The live racks that may drive this BMC, best first (see chooseRacks). Fails, fatally, when
   * every live rack said it cannot drive the power type, with their reasons. Racks that never
   * registered a box key are left out: they could not open the sealed credentials.
   */
  async racksFor(t: PowerTargetRow, params: Record<string, string>): Promise<LiveRack[]> {
    const rows = await this.repo.runningRacks();
    const keyed = rows.filter((r) => r.box_public_key);
    if (!keyed.length) throw new PowerFailure('NO_RACK', 'no live rack controller is connected to drive this BMC', false);
    const choice = chooseRacks(
      keyed.map((r) => ({ systemId: r.system_id, addresses: (r.interfaces ?? []).flatMap((i) => i.addresses ?? []), powerUnavailable: r.power_unavailable ?? {} })),
      t.power_type,
      params.power_address,
    );
    if (!choice.racks.length) {
      const why = choice.refused.map((r) => `rack ${r.rackId}: ${r.reason}`).join('; ');
      throw new PowerFailure('MISSING_TOOL', `no live rack can drive power type ${t.power_type} (${why})`, true);
    }
    const keys = new Map(keyed.map((r) => [r.system_id, r.box_public_key as string]));
    return choice.racks.map((rackId) => ({ rackId, boxPublicKey: keys.get(rackId) as string }));
  }

  /** `commandId`: the command's idempotency id; a rack that already carried it out answers from memory. */
  async run(
    t: PowerTargetRow,
    action: PowerAction,
    budgetMs = DEFAULT_BUDGET_MS,
    opts: { commandId?: string } = {},
  ): Promise<PowerOutcome & { rackId: string }> {
    const params = this.params(t);
    const racks = await this.racksFor(t, params);
    const wait = { timeoutMs: budgetMs + 5000 };
    let last: PowerFailure | null = null;
    for (const rack of racks) {
      const rackId = rack.rackId;
      const base = { systemId: t.system_id, powerType: t.power_type, sealedParameters: this.sealed(rack, t, params), budgetMs, ...opts };
      try {
        const send = (): Promise<PowerOutcome> => {
          switch (action.kind) {
            case 'on':
              return this.bus.request(PowerOn, [rackId], base, wait);
            case 'off':
              return this.bus.request(PowerOff, [rackId], { ...base, mode: action.mode }, wait);
            case 'cycle':
              return this.bus.request(PowerCycle, [rackId], base, wait);
            case 'query':
              return this.bus.request(PowerQuery, [rackId], base, wait);
            case 'setBootDevice':
              return this.bus.request(PowerSetBootDevice, [rackId], { ...base, device: action.device }, wait);
          }
        };
        // A rack that goes away mid-command is noticed in seconds: the next rack gets the command.
        const outcome = await whileRackAnswers(this.bus, rackId, send());
        // The rack's lines for this command carry the same correlationId as this one (NATS headers).
        log().info({ systemId: t.system_id, rackId, action: action.kind, outcome: outcome.outcome, state: outcome.state }, 'power command answered by rack');
        return { ...outcome, rackId };
      } catch (e) {
        const failure = toFailure(e);
        log().warn({ systemId: t.system_id, rackId, code: failure.code, action: action.kind }, `power ${action.kind} failed on rack: ${failure.message}`);
        if (!FAIL_OVER.has(failure.code)) throw failure;
        last = failure;
      }
    }
    throw last ?? new PowerFailure('NO_RACK', 'no rack answered', false);
  }

  /** One polling round on one rack; null when no rack answered. */
  async queryBatch(targets: PowerTargetRow[], spreadMs: number) {
    const clear = targets.map((t) => ({ t, params: this.params(t) }));
    for (const rack of await this.liveRacks()) {
      const rackId = rack.rackId;
      const items = clear.map(({ t, params }) => ({ systemId: t.system_id, powerType: t.power_type, sealedParameters: this.sealed(rack, t, params) }));
      try {
        return await this.bus.request(PowerQueryBatch, [rackId], { items, spreadMs, budgetMs: 120_000 }, { timeoutMs: spreadMs + 130_000 });
      } catch (e) {
        log().warn({ rackId, err: (e as Error).message }, 'power polling batch failed on rack; trying the next');
      }
    }
    return null;
  }
}

function toFailure(e: unknown): PowerFailure {
  if (e instanceof PowerFailure) return e;
  if (e instanceof RackGoneError) return new PowerFailure('UNAVAILABLE', e.message, false);
  if (e instanceof ContractError) {
    return new PowerFailure(e.code, e.message, (POWER_FATAL_ERRORS as readonly string[]).includes(e.code));
  }
  return new PowerFailure('INTERNAL', (e as Error)?.message ?? String(e), false);
}
