import { DynamicModule, Module } from '@nestjs/common';
import { ApiCoreModule } from './api/api-core.module';
import { ApiModule } from './api/api.module';
import { REGION_CONFIG, RegionConfig } from './config/region.config';
import { BootResourcesModule } from './boot-resources/boot-resources.module';
import { DatabaseModule } from './database/database.module';
import { DiscoveriesModule } from './discoveries/discoveries.module';
import { RedisModule } from './database/redis.module';
import { EventsModule } from './events/events.module';
import { InventoryModule } from './inventory/inventory.module';
import { JobsModule } from './jobs/jobs.module';
import { MachinesModule } from './machines/machines.module';
import { MetaModule } from './misc/meta.module';
import { MetadataModule } from './metadata/metadata.module';
import { CommissioningModule } from './commissioning/commissioning.module';
import { NetworkingModule } from './networking/networking.module';
import { PowerModule } from './power/power.module';
import { NatsModule } from './nats/nats.module';
import { RacksModule } from './racks/racks.module';
import { ScriptsModule } from './scripts/scripts.module';
import { UsersModule } from './users/users.module';
import { Global } from '@nestjs/common';

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: RegionConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: REGION_CONFIG, useValue: config }], exports: [REGION_CONFIG] };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: RegionConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Infrastructure, global: configuration, Postgres, Redis, the job queue, NATS, the API registry.
        ConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule,
        JobsModule,
        NatsModule,
        ApiCoreModule,
        // The REST entry point, then one module per folder.
        ApiModule,
        MetaModule,
        UsersModule,
        EventsModule,
        PowerModule,
        MachinesModule,
        InventoryModule,
        RacksModule,
        NetworkingModule,
        DiscoveriesModule,
        ScriptsModule,
        CommissioningModule,
        MetadataModule,
        BootResourcesModule,
      ],
    };
  }
}
