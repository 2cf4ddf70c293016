import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/**
 * Turns the output of the commissioning scripts that describe the hardware
 * (`50-maas-01-commissioning`, `maas-kernel-cmdline`, `maas-lshw`) into the machine's inventory.
 * Called in the transaction that stores the script's result; throwing fails that result.
 */
@Injectable()
export class CommissioningInventoryService {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  async apply(em: EntityManager, machineId: number, scriptName: string, stdout: Buffer): Promise<void> {
    // The hardware inventory is applied elsewhere; nothing to do here yet.
  }
}
