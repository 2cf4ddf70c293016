import { Module } from '@nestjs/common';
import { NetworkingModule } from '../networking/networking.module';
import { SpacesApi } from './spaces.api';
import { SpacesRepository } from './spaces.repository';
import { SpacesService } from './spaces.service';

/** Spaces: named sets of VLANs. */
@Module({ imports: [NetworkingModule], providers: [SpacesRepository, SpacesService, SpacesApi] })
export class SpacesModule {}
