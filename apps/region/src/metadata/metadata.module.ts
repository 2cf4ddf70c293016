import { Module } from '@nestjs/common';
import { NodeTokenAuthenticator } from '../api/auth/node-token.authenticator';
import { CommissioningModule } from '../commissioning/commissioning.module';
import { EventsModule } from '../events/events.module';
import { MachinesModule } from '../machines/machines.module';
import { ScriptsModule } from '../scripts/scripts.module';
import { MetadataSignalService } from './metadata-signal.service';
import { MetadataStatusService } from './metadata-status.service';
import { MetadataController } from './metadata.controller';
import { MetadataRepository } from './metadata.repository';
import { MetadataService } from './metadata.service';

/** The metadata API machines and cloud-init talk to with node tokens (/MAAS/metadata/). */
@Module({
  imports: [EventsModule, MachinesModule, ScriptsModule, CommissioningModule],
  controllers: [MetadataController],
  providers: [NodeTokenAuthenticator, MetadataRepository, MetadataService, MetadataSignalService, MetadataStatusService],
})
export class MetadataModule {}
