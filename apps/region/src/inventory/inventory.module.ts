import { Module } from '@nestjs/common';
import { MachinesModule } from '../machines/machines.module';
import { InventoryApi } from './inventory.api';
import { InventoryRepository } from './inventory.repository';
import { InventoryService } from './inventory.service';

/** Tags, zones and resource pools (tags/ lists the machines that carry a tag, hence machines). */
@Module({
  imports: [MachinesModule],
  providers: [InventoryRepository, InventoryService, InventoryApi],
})
export class InventoryModule {}
