import { Module } from '@nestjs/common';
import { LicenseKeysApi } from './license-keys.api';
import { LicenseKeysRepository } from './license-keys.repository';
import { LicenseKeysService } from './license-keys.service';

/** License keys of the operating systems that need one. */
@Module({ providers: [LicenseKeysRepository, LicenseKeysService, LicenseKeysApi] })
export class LicenseKeysModule {}
