import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { PowerModule } from '../power/power.module';
import { MachineJobsWorker } from './machine-jobs.worker';
import { MachineJsonCache } from './machine-json.cache';
import { MachineJsonWarmer } from './machine-json.warmer';
import { MachineConfigService } from './machine-config.service';
import { MachineLifecycleService } from './machine-lifecycle.service';
import { MachinesApi } from './machines.api';
import { MachinesRepository } from './machines.repository';
import { MachinesService } from './machines.service';

/** Machines: their API, lifecycle, configuration and the jobs that carry out their effects. */
@Module({
  imports: [EventsModule, PowerModule],
  providers: [
    MachinesRepository,
    MachineJsonCache,
    MachineJsonWarmer,
    MachineLifecycleService,
    MachinesService,
    MachineConfigService,
    MachineJobsWorker,
    MachinesApi,
  ],
  exports: [MachinesRepository, MachineLifecycleService, MachineJobsWorker],
})
export class MachinesModule {}
