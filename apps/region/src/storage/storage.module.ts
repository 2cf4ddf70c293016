import { Module } from '@nestjs/common';
import { MachineAccess } from '../machines/machine.access';
import { StorageApi } from './storage.api';
import { StorageRepository } from './storage.repository';
import { StorageService } from './storage.service';

/** A machine's storage model: block devices, partitions, filesystems and volume groups. */
@Module({
  providers: [StorageRepository, StorageService, StorageApi, MachineAccess],
  exports: [StorageRepository, StorageService],
})
export class StorageModule {}
