import { Module } from '@nestjs/common';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { EventsApi } from '../events/events.api';
import { EventsRepository } from '../events/events.repository';
import { InventoryApi } from '../inventory/inventory.api';
import { MetaApi } from '../misc/meta.api';
import { SECRET_BOX, SecretBox } from '../power/secret-box';
import { PowerClient } from '../power/power.client';
import { MachineJobsWorker } from './machine-jobs.worker';
import { MachineJsonCache } from './machine-json.cache';
import { MachineJsonWarmer } from './machine-json.warmer';
import { MachineConfigService } from './machine-config.service';
import { MachineLifecycleService } from './machine-lifecycle.service';
import { MachinesApi } from './machines.api';
import { MachinesRepository } from './machines.repository';
import { MachinesService } from './machines.service';

@Module({
  providers: [
    { provide: SECRET_BOX, inject: [REGION_CONFIG], useFactory: (c: RegionConfig) => new SecretBox(c.secretKey) },
    MachinesRepository,
    PowerClient,
    MachineJsonCache,
    MachineJsonWarmer,
    EventsRepository,
    MachineLifecycleService,
    MachinesService,
    MachineConfigService,
    MachineJobsWorker,
    MachinesApi,
    EventsApi,
    InventoryApi,
    MetaApi,
  ],
  exports: [MachinesRepository, MachineLifecycleService, EventsRepository, MachineJobsWorker],
})
export class MachinesModule {}
