import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { MachinesModule } from '../machines/machines.module';
import { RacksModule } from '../racks/racks.module';
import { RegionControllersModule } from '../region-controllers/region-controllers.module';
import { NodesApi } from './nodes.api';
import { NodesRepository } from './nodes.repository';
import { NodesService } from './nodes.service';

/** The generic node view over machines, devices, rack and region controllers. */
@Module({ imports: [MachinesModule, DevicesModule, RacksModule, RegionControllersModule], providers: [NodesRepository, NodesService, NodesApi] })
export class NodesModule {}
