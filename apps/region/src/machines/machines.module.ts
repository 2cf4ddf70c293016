import { Module } from '@nestjs/common';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { EventsApi } from '../events/events.api';
import { EventsRepository } from '../events/events.repository';
import { InventoryApi } from '../inventory/inventory.api';
import { MetaApi } from '../misc/meta.api';
import { SECRET_BOX, SecretBox } from '../power/secret-box';
import { PowerClient } from '../power/power.client';
import { BmcRepository } from './bmc.repository';
import { BmcService } from './bmc.service';
import { EffectOutboxRepository } from './effect-outbox.repository';
import { MachineAccess } from './machine.access';
import { MachineAllocationService } from './machine-allocation.service';
import { MachineEditingService } from './machine-editing.service';
import { MachineEnlistmentService } from './machine-enlistment.service';
import { MachineJobsWorker } from './machine-jobs.worker';
import { MachineJsonCache } from './machine-json.cache';
import { MachineJsonWarmer } from './machine-json.warmer';
import { MachineConfigService } from './machine-config.service';
import { MachineLifecycleService } from './machine-lifecycle.service';
import { MachinesApi } from './machines.api';
import { MachineListingService } from './machine-listing.service';
import { MachinePowerService } from './machine-power.service';
import { MachinesRepository } from './machines.repository';

@Module({
  providers: [
    { provide: SECRET_BOX, inject: [REGION_CONFIG], useFactory: (c: RegionConfig) => new SecretBox(c.secretKey) },
    MachinesRepository,
    BmcRepository,
    EffectOutboxRepository,
    MachineAccess,
    BmcService,
    PowerClient,
    MachineJsonCache,
    MachineJsonWarmer,
    EventsRepository,
    MachineLifecycleService,
    MachineListingService,
    MachineEnlistmentService,
    MachineEditingService,
    MachineAllocationService,
    MachinePowerService,
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
