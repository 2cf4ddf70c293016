import { DynamicModule, Module } from '@nestjs/common';
import { ApiCoreModule } from './api/api-core.module';
import { ApiModule } from './api/api.module';
import { REGION_CONFIG, RegionConfig } from './config/region.config';
import { BootResourcesModule } from './boot-resources/boot-resources.module';
import { DatabaseModule } from './database/database.module';
import { DiscoveriesModule } from './discoveries/discoveries.module';
import { IpAddressesModule } from './ipaddresses/ipaddresses.module';
import { RedisModule } from './database/redis.module';
import { EventsModule } from './events/events.module';
import { InventoryModule } from './inventory/inventory.module';
import { JobsModule } from './jobs/jobs.module';
import { MachinesModule } from './machines/machines.module';
import { CloneModule } from './clone/clone.module';
import { MetaModule } from './misc/meta.module';
import { MetadataModule } from './metadata/metadata.module';
import { CommissioningModule } from './commissioning/commissioning.module';
import { NetworkingModule } from './networking/networking.module';
import { StorageModule } from './storage/storage.module';
import { InterfacesModule } from './interfaces/interfaces.module';
import { PowerModule } from './power/power.module';
import { NatsModule } from './nats/nats.module';
import { RacksModule } from './racks/racks.module';
import { ScriptsModule } from './scripts/scripts.module';
import { SettingsModule } from './settings/settings.module';
import { SslKeysModule } from './sslkeys/sslkeys.module';
import { LicenseKeysModule } from './license-keys/license-keys.module';
import { NotificationsModule } from './notifications/notifications.module';
import { FilesModule } from './files/files.module';
import { PackageRepositoriesModule } from './package-repositories/package-repositories.module';
import { BootSourcesModule } from './boot-sources/boot-sources.module';
import { PodsModule } from './pods/pods.module';
import { DhcpSnippetsModule } from './dhcp-snippets/dhcp-snippets.module';
import { UsersModule } from './users/users.module';
import { SpacesModule } from './spaces/spaces.module';
import { DomainsModule } from './domains/domains.module';
import { DevicesModule } from './devices/devices.module';
import { NodesModule } from './nodes/nodes.module';
import { RegionControllersModule } from './region-controllers/region-controllers.module';
import { StaticRoutesModule } from './static-routes/static-routes.module';
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
        SettingsModule,
        SslKeysModule,
        LicenseKeysModule,
        NotificationsModule,
        FilesModule,
        PackageRepositoriesModule,
        BootSourcesModule,
        PodsModule,
        DhcpSnippetsModule,
        MetaModule,
        UsersModule,
        EventsModule,
        PowerModule,
        MachinesModule,
        CloneModule,
        InventoryModule,
        RacksModule,
        NetworkingModule,
        StorageModule,
        InterfacesModule,
        DiscoveriesModule,
        IpAddressesModule,
        ScriptsModule,
        CommissioningModule,
        MetadataModule,
        BootResourcesModule,
        SpacesModule,
        StaticRoutesModule,
        DomainsModule,
        DevicesModule,
        RegionControllersModule,
        NodesModule,
      ],
    };
  }
}
