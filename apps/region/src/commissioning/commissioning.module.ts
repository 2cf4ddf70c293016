import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { CommissioningInventoryRepository } from './commissioning-inventory.repository';
import { CommissioningInventoryService } from './commissioning-inventory.service';

/** Commissioning: what the region makes of the machine's commissioning output (its hardware inventory). */
@Module({
  imports: [StorageModule],
  providers: [CommissioningInventoryRepository, CommissioningInventoryService],
  exports: [CommissioningInventoryService],
})
export class CommissioningModule {}
