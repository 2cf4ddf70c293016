import { hostname } from 'node:os';
import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { connect } from 'nats';
import { BusLogger, ContractBus } from '@kiln/contracts/nats';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { log } from '../logging/logger';

export const CONTRACT_BUS = Symbol('CONTRACT_BUS');

/** The bus logs through the current unit of work's logger. */
export const busLogger: BusLogger = {
  debug: (o, m) => log().debug(o, m),
  warn: (o, m) => log().warn(o, m),
  error: (o, m) => log().error(o, m),
};

/**
 * The region's NATS connection, wrapped in the typed contract bus. The region refuses to start
 * without NATS (as without Postgres); once up, the client reconnects forever.
 */
@Global()
@Module({
  providers: [
    {
      provide: CONTRACT_BUS,
      inject: [REGION_CONFIG],
      useFactory: async (config: RegionConfig) => {
        const nc = await connect({
          servers: config.nats.url,
          name: `kiln-region@${hostname()}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        });
        log().info({ nats: config.nats.url, prefix: config.nats.prefix || undefined }, 'connected to nats');
        void (async () => {
          for await (const s of nc.status()) {
            if (s.type === 'disconnect' || s.type === 'reconnect') log().warn({ nats: s.type, data: String(s.data) }, 'nats connection status');
          }
        })();
        return new ContractBus(nc, { prefix: config.nats.prefix, log: busLogger });
      },
    },
  ],
  exports: [CONTRACT_BUS],
})
export class NatsModule implements OnApplicationShutdown {
  constructor(@Inject(CONTRACT_BUS) private readonly bus: ContractBus) {}

  async onApplicationShutdown() {
    if (!this.bus.nc.isClosed()) await this.bus.nc.drain().catch(() => this.bus.nc.close());
  }
}
