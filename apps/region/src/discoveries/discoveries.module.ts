import { Module } from '@nestjs/common';
import { DiscoveriesApi } from './discoveries.api';
import { DiscoveriesRepository } from './discoveries.repository';
import { DiscoveriesService } from './discoveries.service';

/** discoveries/: what the racks observe on their networks (DHCP leases), as MAAS's discoveries. */
@Module({ providers: [DiscoveriesRepository, DiscoveriesService, DiscoveriesApi], exports: [DiscoveriesService] })
export class DiscoveriesModule {}
