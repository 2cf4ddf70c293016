import { Module } from '@nestjs/common';
import { MachineAccess } from '../machines/machine.access';
import { NetworkingModule } from '../networking/networking.module';
import { InterfacesApi } from './interfaces.api';
import { InterfacesRepository } from './interfaces.repository';
import { InterfacesService } from './interfaces.service';

/** Machines' and devices' network interfaces: physical, bond, bridge and VLAN, and their links to subnets. */
@Module({
  imports: [NetworkingModule],
  providers: [InterfacesRepository, InterfacesService, InterfacesApi, MachineAccess],
})
export class InterfacesModule {}
