import { join } from 'node:path';
import { Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { openPowerParameters, PowerOutcome } from '@kiln/contracts';
import { createPowerDrivers } from '@kiln/power/drivers';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { log } from '../logging/logger';
import { RackNatsConnection } from '../nats/rack-nats.connection';
import { RACK_IDENTITY, RackIdentity } from '../registration/rack.identity';
import { CommandJournal } from './command.journal';
import { CommandMemory } from './command.memory';
import { PowerExecutor } from './power.executor';
import { createPowerHandlers, PowerLog } from './power.handler';
import { PowerNatsServer, servePowerOverNats } from './power.nats';

/**
 * Answers this rack's power subjects (rack.<rackId>.power.*) with the BMC drivers, under the
 * rack's cap on concurrent BMC calls. Subscriptions are made once, on the first connection, and
 * survive reconnections.
 */
@Injectable()
export class RackPowerService implements OnModuleInit, OnApplicationShutdown {
  private server: PowerNatsServer | null = null;
  readonly executor: PowerExecutor;

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(RACK_IDENTITY) private readonly identity: RackIdentity,
    @Inject(RackNatsConnection) private readonly nats: RackNatsConnection,
  ) {
    this.executor = new PowerExecutor(createPowerDrivers(), {});
  }

  /** Command ids and their outcomes, kept in the state dir so that a restarted rack remembers them. */
  private memory(): CommandMemory<PowerOutcome> {
    const ttlMs = 15 * 60_000;
    return new CommandMemory<PowerOutcome>(ttlMs, 10_000, Date.now, new CommandJournal(join(this.config.stateDir, 'power-commands.jsonl'), ttlMs));
  }

  onModuleInit() {
    this.nats.onConnected(() => {
      const bus = this.nats.maybeBus();
      if (this.server || !bus || !bus.verifies) return;
      // The root logger carries the rack id already; each request's lines add its correlation id.
      const plog: PowerLog = {
        info: (o, m) => log().info({ component: 'power', ...o }, m),
        warn: (o, m) => log().warn({ component: 'power', ...o }, m),
      };
      this.server = servePowerOverNats(
        bus,
        this.identity.rackId,
        createPowerHandlers(
          this.executor,
          (systemId, sealed) => openPowerParameters(this.identity.box, this.identity.rackId, systemId, sealed),
          plog,
          this.memory(),
        ),
      );
      plog.info({ subjects: this.server.subjects.length, maxConcurrent: this.executor.config.maxConcurrent }, 'serving power commands');
    });
  }

  async onApplicationShutdown() {
    await this.server?.stop();
  }
}

@Module({ providers: [RackPowerService], exports: [RackPowerService] })
export class PowerModule {}
