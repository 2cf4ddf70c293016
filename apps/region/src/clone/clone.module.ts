import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { NetworkingModule } from '../networking/networking.module';
import { StorageModule } from '../storage/storage.module';
import { CloneRepository } from './clone.repository';
import { CloneService } from './clone.service';

/** machines op=clone: copying one machine's storage and interface configuration onto others. */
@Module({
  imports: [EventsModule, NetworkingModule, StorageModule],
  providers: [CloneRepository, CloneService],
  exports: [CloneService],
})
export class CloneModule {}
