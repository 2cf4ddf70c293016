import { Module } from '@nestjs/common';
import { CommissioningModule } from '../commissioning/commissioning.module';
import { EventsModule } from '../events/events.module';
import { MachinesModule } from '../machines/machines.module';
import { ScriptsModule } from '../scripts/scripts.module';
import { MetadataSignalService } from './metadata-signal.service';
import { MetadataStatusService } from './metadata-status.service';
import { MetadataRepository } from './metadata.repository';
import { MetadataService } from './metadata.service';

/**
 * What the metadata API (/MAAS/metadata/) does for machines and cloud-init. Its HTTP edge,
 * MetadataController, and the node-token authentication are mounted by the ApiModule.
 */
@Module({
  imports: [EventsModule, MachinesModule, ScriptsModule, CommissioningModule],
  providers: [MetadataRepository, MetadataService, MetadataSignalService, MetadataStatusService],
  exports: [MetadataService, MetadataSignalService, MetadataStatusService],
})
export class MetadataModule {}
