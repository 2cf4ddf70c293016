import { Module } from '@nestjs/common';
import { DevicesApi } from './devices.api';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';

/** Devices: nodes known by their MAC addresses, which Kiln does not deploy. */
@Module({ providers: [DevicesRepository, DevicesService, DevicesApi], exports: [DevicesService] })
export class DevicesModule {}
