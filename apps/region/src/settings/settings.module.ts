import { Global, Module } from '@nestjs/common';
import { ConfigRepository } from './config.repository';
import { ConfigService } from './config.service';
import { MaasApi } from './maas.api';

/** MAAS's configuration settings (maas/), read by the services that act on them. */
@Global()
@Module({ providers: [ConfigRepository, ConfigService, MaasApi], exports: [ConfigService] })
export class SettingsModule {}
