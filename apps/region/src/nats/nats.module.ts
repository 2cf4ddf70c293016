import { hostname } from 'node:os';
import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { connect, nkeyAuthenticator } from 'nats';
import { MessageSigner } from '@kiln/contracts';
import { BusLogger, ContractBus } from '@kiln/contracts/nats';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { busContext, log } from '../logging/logger';

export const CONTRACT_BUS = Symbol('CONTRACT_BUS');

/** The key every region signs bus messages with, derived from the shared KILN_SECRET_KEY. */
export function regionSigner(config: Pick<RegionConfig, 'secretKey'>): MessageSigner {
  return MessageSigner.fromSecret(`kiln-region-signing:${config.secretKey.toString('base64')}`);
}

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
          // The region's nkey identity (KILN_NATS_NKEY_FILE), when the NATS server requires one.
          ...(config.nats.nkeyFile ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(config.nats.nkeyFile, 'utf8').trim())) } : {}),
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        });
        log().info({ nats: config.nats.url, prefix: config.nats.prefix || undefined }, 'connected to nats');
        void (async () => {
          for await (const s of nc.status()) {
            if (s.type === 'disconnect' || s.type === 'reconnect') log().warn({ nats: s.type, data: String(s.data) }, 'nats connection status');
          }
        })();
        // Every region signs what it sends racks with the key derived from KILN_SECRET_KEY; racks pin its public half.
        const signer = regionSigner(config);
        log().info({ regionSigningKey: signer.publicKey }, 'region message-signing key (racks pin it as KILN_REGION_SIGNING_KEY)');
        return new ContractBus(nc, { prefix: config.nats.prefix, log: busLogger, signer, context: busContext });
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
