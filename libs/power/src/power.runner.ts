import { IpmiDriver, IpmiDriverOptions } from './drivers/ipmi/ipmi.driver';
import { ManualDriver } from './drivers/manual/manual.driver';
import { RedfishDriver, RedfishDriverOptions } from './drivers/redfish/redfish.driver';
import { VirshDriver, VirshDriverOptions } from './drivers/virsh/virsh.driver';
import { WebhookDriver, WebhookDriverOptions } from './drivers/webhook/webhook.driver';
import { ControlDeps, realDeps, runPowerAction } from './power.control';
import { PowerError } from './power.errors';
import { PowerPolicy, powerPolicy } from './power.policy';
import { PowerAction, PowerDriver, PowerResult, QueryGroup } from './power.types';

/** A power command as the rack receives it: which driver, its parameters, what to do. */
export interface PowerCommand {
  powerType: string;
  params: Readonly<Record<string, string>>;
  action: PowerAction;
  systemId?: string;
}

export type PowerDrivers = ReadonlyMap<string, PowerDriver<unknown>>;

export interface DriverOptions {
  ipmi?: IpmiDriverOptions;
  redfish?: RedfishDriverOptions;
  virsh?: VirshDriverOptions;
  webhook?: WebhookDriverOptions;
}

/** One instance of each driver (drivers keep small caches: Redfish discovery and sessions). */
export function createPowerDrivers(opts: DriverOptions = {}): Map<string, PowerDriver<unknown>> {
  const drivers: PowerDriver<unknown>[] = [
    new IpmiDriver(opts.ipmi) as PowerDriver<unknown>,
    new RedfishDriver(opts.redfish) as PowerDriver<unknown>,
    new VirshDriver(opts.virsh) as PowerDriver<unknown>,
    new WebhookDriver(opts.webhook) as PowerDriver<unknown>,
    new ManualDriver() as PowerDriver<unknown>,
  ];
  return new Map(drivers.map((d) => [d.def.name, d]));
}

/** A command whose driver and settings are resolved: ready to run, and keyed by its BMC. */
export interface PreparedCommand {
  driver: PowerDriver<unknown>;
  settings: unknown;
  bmcKey: string;
  command: PowerCommand;
}

/** Resolves drivers and settings, and runs commands with the retry and verification policy. */
export class PowerRunner {
  readonly policy: PowerPolicy;

  constructor(
    private readonly drivers: PowerDrivers,
    policy: Partial<PowerPolicy> = {},
    private readonly deps: ControlDeps = realDeps,
  ) {
    this.policy = powerPolicy(policy);
  }

  /** Throws PowerError BAD_SETTINGS (fatal) for an unknown power type or bad parameters. */
  prepare(command: PowerCommand): PreparedCommand {
    if (!command.powerType) throw new PowerError('BAD_SETTINGS', 'no power type is configured for this machine');
    const driver = this.drivers.get(command.powerType);
    if (!driver) {
      throw new PowerError('BAD_SETTINGS', `unknown power type "${command.powerType}" (this rack knows ${[...this.drivers.keys()].join(', ')})`);
    }
    const settings = driver.parseSettings(command.params);
    return { driver, settings, bmcKey: driver.bmcKey(settings), command };
  }

  /** `firstAttempt`: a batch query already made the query's first attempt, which failed so. */
  run(
    p: PreparedCommand,
    opts: { signal?: AbortSignal; gate?: ControlDeps['gate']; policy?: PowerPolicy; firstAttempt?: PowerError } = {},
  ): Promise<PowerResult> {
    const deps: ControlDeps = opts.gate ? { ...this.deps, gate: opts.gate } : this.deps;
    return runPowerAction(p.driver, p.settings, p.command.action, opts.policy ?? this.policy, deps, {
      signal: opts.signal,
      systemId: p.command.systemId,
      firstAttempt: opts.firstAttempt,
    });
  }

  /**
   * Where a prepared query fits in a batch query, or null when its driver has no `queryMany`
   * (or this BMC is asked alone). Keys are scoped by power type.
   */
  queryGroup(p: PreparedCommand): QueryGroup | null {
    if (p.command.action.kind !== 'query' || !p.driver.queryGroup || !p.driver.queryMany) return null;
    const g = p.driver.queryGroup(p.settings);
    return g ? { key: `${p.driver.def.name}:${g.key}`, name: g.name } : null;
  }

  /** prepare + run (bad settings reject like any other failure). */
  async execute(command: PowerCommand, opts: { signal?: AbortSignal } = {}): Promise<PowerResult> {
    return this.run(this.prepare(command), opts);
  }
}
