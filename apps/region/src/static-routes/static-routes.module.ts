import { Module } from '@nestjs/common';
import { NetworkingModule } from '../networking/networking.module';
import { StaticRoutesApi } from './static-routes.api';
import { StaticRoutesRepository } from './static-routes.repository';
import { StaticRoutesService } from './static-routes.service';

/** Static routes between subnets. */
@Module({ imports: [NetworkingModule], providers: [StaticRoutesRepository, StaticRoutesService, StaticRoutesApi] })
export class StaticRoutesModule {}
