import { Module } from '@nestjs/common';
import { NetworkingModule } from '../networking/networking.module';
import { StorageModule } from '../storage/storage.module';
import { CloneModule } from '../clone/clone.module';
import { BootResourcesRepository } from '../boot-resources/boot-resources.repository';
import { BootResourcesService } from '../boot-resources/boot-resources.service';
import { CommissioningModule } from '../commissioning/commissioning.module';
import { EventsModule } from '../events/events.module';
import { PowerModule } from '../power/power.module';
import { ScriptsModule } from '../scripts/scripts.module';
import { BmcRepository } from './bmc.repository';
import { AutoAddressesService } from './auto-addresses.service';
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

/** Machines: their API, lifecycle, configuration and the jobs that carry out their effects. */
@Module({
  imports: [EventsModule, PowerModule, CommissioningModule, ScriptsModule, StorageModule, CloneModule, NetworkingModule],
  providers: [
    // Deploy and the installer read which images the region holds (stateless; the module itself
    // cannot be imported here: its upload controller depends on the API module, which needs this one).
    BootResourcesRepository,
    BootResourcesService,
    MachinesRepository,
    BmcRepository,
    EffectOutboxRepository,
    MachineAccess,
    BmcService,
    MachineJsonCache,
    MachineJsonWarmer,
    MachineLifecycleService,
    AutoAddressesService,
    MachineListingService,
    MachineEnlistmentService,
    MachineEditingService,
    MachineAllocationService,
    MachinePowerService,
    MachineConfigService,
    MachineJobsWorker,
    MachinesApi,
  ],
  exports: [MachinesRepository, MachineLifecycleService, MachineJobsWorker, BmcService, MachineEnlistmentService, MachineListingService, MachineEditingService, MachineConfigService],
})
export class MachinesModule {}
