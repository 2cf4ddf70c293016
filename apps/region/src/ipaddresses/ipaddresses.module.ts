import { Module } from '@nestjs/common';
import { NetworkingModule } from '../networking/networking.module';
import { IpAddressesApi } from './ipaddresses.api';
import { IpAddressesRepository } from './ipaddresses.repository';
import { IpAddressesService } from './ipaddresses.service';

/** ipaddresses/: addresses users reserve for themselves. */
@Module({ imports: [NetworkingModule], providers: [IpAddressesRepository, IpAddressesService, IpAddressesApi] })
export class IpAddressesModule {}
