import { Global, Module } from '@nestjs/common';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { SECRET_BOX, SecretBox } from '../power/secret-box';
import { ConfigRepository } from './config.repository';
import { ConfigService } from './config.service';
import { MaasApi } from './maas.api';

/** MAAS's configuration settings (maas/), read by the services that act on them. */
@Global()
@Module({ providers: [{ provide: SECRET_BOX, inject: [REGION_CONFIG], useFactory: (c: RegionConfig) => new SecretBox(c.secretKey) }, ConfigRepository, ConfigService, MaasApi], exports: [ConfigService] })
export class SettingsModule {}
