import { DynamicModule, Global, Inject, Module, OnApplicationShutdown, Type } from '@nestjs/common';
import { BOOT_CONFIG_SOURCE, NatsBootConfigSource } from './boot/boot-config.source';
import { RACK_CONFIG, RackConfig } from './config/rack.config';
import { RackEventsPublisher } from './events/rack-events.publisher';
import { bindRootLogger, log } from './logging/logger';
import { RackNatsConnection } from './nats/rack-nats.connection';
import { DhcpConfigFeed } from './dhcp/dhcp-config.feed';
import { loadOrCreateBoxKeyPair, loadOrCreateNatsSeed, loadOrCreateRackId } from './registration/rack-identity.store';
import { pinnedRegionKey } from './registration/rack-enrollment.client';
import { RACK_IDENTITY, RackIdentity } from './registration/rack.identity';
import { RegistrationService } from './registration/registration.service';
import { featuresFor } from './rack.features';

/** The rack core every server module builds on: config, identity, NATS, registration, caches. */
@Global()
@Module({})
export class RackCoreModule implements OnApplicationShutdown {
  constructor(@Inject(RackNatsConnection) private readonly nats: RackNatsConnection) {}

  static forRoot(config: RackConfig): DynamicModule {
    return {
      module: RackCoreModule,
      providers: [
        { provide: RACK_CONFIG, useValue: config },
        {
          provide: RACK_IDENTITY,
          useFactory: async (): Promise<RackIdentity> => {
            const rackId = await loadOrCreateRackId(config.stateDir);
            bindRootLogger({ rackId });
            const nkey = await loadOrCreateNatsSeed(config.stateDir);
            const box = await loadOrCreateBoxKeyPair(config.stateDir);
            log().info({ nkey: nkey.publicKey }, 'rack NATS identity (public nkey)');
            let regionSigningKey: string | null = null;
            try {
              regionSigningKey = await pinnedRegionKey({
                stateDir: config.stateDir,
                regionUrl: config.regionUrl,
                token: config.enrollToken,
                rackId,
                hostname: config.hostname,
                nkeyPublic: nkey.publicKey,
                boxPublicKey: box.publicKey,
              });
              if (regionSigningKey) log().info({ regionSigningKey }, 'enrolled; region signing key pinned');
            } catch (err) {
              // The rack keeps serving from its caches; NATS refuses it until it is enrolled.
              log().error({ err: (err as Error).message }, 'rack enrollment failed');
            }
            return { rackId, hostname: config.hostname, box, nkeySeed: nkey.seed, regionSigningKey };
          },
        },
        {
          provide: RackNatsConnection,
          inject: [RACK_IDENTITY],
          useFactory: (id: RackIdentity) => {
            const c = new RackNatsConnection(config, id);
            c.start();
            return c;
          },
        },
        {
          provide: DhcpConfigFeed,
          inject: [RACK_CONFIG, RACK_IDENTITY, RackNatsConnection],
          useFactory: async (cfg: RackConfig, id: RackIdentity, nats: RackNatsConnection) => {
            const feed = new DhcpConfigFeed(cfg, id, nats);
            await feed.load();
            return feed;
          },
        },
        NatsBootConfigSource,
        { provide: BOOT_CONFIG_SOURCE, useExisting: NatsBootConfigSource },
        RackEventsPublisher,
        RegistrationService,
      ],
      exports: [RACK_CONFIG, RACK_IDENTITY, RackNatsConnection, DhcpConfigFeed, BOOT_CONFIG_SOURCE, RackEventsPublisher, RegistrationService],
    };
  }

  async onApplicationShutdown() {
    await this.nats.close();
  }
}

/** The rack daemon: the core plus one module per server (rack.features.ts). */
@Module({})
export class RackModule {
  static forRoot(config: RackConfig, features: Array<Type<unknown> | DynamicModule> = featuresFor(config.services)): DynamicModule {
    return { module: RackModule, imports: [RackCoreModule.forRoot(config), ...features] };
  }
}
