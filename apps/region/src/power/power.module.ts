import { Module } from '@nestjs/common';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { PowerClient } from './power.client';
import { PowerRepository } from './power.repository';
import { SECRET_BOX, SecretBox } from './secret-box';

/**
 * Power: the client that sends power commands to racks (choosing and watching the rack), and the
 * secret box that seals BMC secrets at rest. The power types catalogue, rack selection and rack
 * watch are plain functions the client and the machines service import.
 */
@Module({
  providers: [{ provide: SECRET_BOX, inject: [REGION_CONFIG], useFactory: (c: RegionConfig) => new SecretBox(c.secretKey) }, PowerRepository, PowerClient],
  exports: [SECRET_BOX, PowerClient],
})
export class PowerModule {}
