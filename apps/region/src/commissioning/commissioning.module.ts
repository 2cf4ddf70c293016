import { Module } from '@nestjs/common';
import { CommissioningInventoryService } from './commissioning-inventory.service';

/** What commissioning teaches the region about a machine's hardware. */
@Module({
  providers: [CommissioningInventoryService],
  exports: [CommissioningInventoryService],
})
export class CommissioningModule {}
