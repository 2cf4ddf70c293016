import { Module } from '@nestjs/common';
import { RegionControllersApi } from './region-controllers.api';
import { RegionControllersRepository } from './region-controllers.repository';
import { RegionControllersService } from './region-controllers.service';

/** The running region processes, recorded with a heartbeat. */
@Module({ providers: [RegionControllersRepository, RegionControllersService, RegionControllersApi], exports: [RegionControllersService] })
export class RegionControllersModule {}
