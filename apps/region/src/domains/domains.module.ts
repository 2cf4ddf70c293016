import { Module } from '@nestjs/common';
import { NetworkingModule } from '../networking/networking.module';
import { DomainsApi } from './domains.api';
import { DomainsRepository } from './domains.repository';
import { DomainsService } from './domains.service';

/** Domains, DNS resources and their records: stored as data (Kiln does not serve DNS yet). */
@Module({ imports: [NetworkingModule], providers: [DomainsRepository, DomainsService, DomainsApi] })
export class DomainsModule {}
