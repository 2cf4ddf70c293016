import { Module } from '@nestjs/common';
import { AddressAllocator } from './address.allocator';
import { DhcpConfigBuilder } from './dhcp-config.builder';
import { DhcpConfigPublisher } from './dhcp-config.publisher';
import { DhcpConfigRepository } from './dhcp-config.repository';
import { NetworkingApi } from './networking.api';
import { NetworkingRepository } from './networking.repository';
import { NetworkingService } from './networking.service';

/** Fabrics, VLANs, subnets, IP ranges and reserved IPs, and the DHCP configuration racks serve from them. */
@Module({
  providers: [AddressAllocator, NetworkingRepository, DhcpConfigRepository, DhcpConfigBuilder, DhcpConfigPublisher, NetworkingService, NetworkingApi],
  exports: [AddressAllocator, NetworkingRepository, DhcpConfigBuilder, DhcpConfigPublisher],
})
export class NetworkingModule {}
