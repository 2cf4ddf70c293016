import { Module } from '@nestjs/common';
import { BootSourcesApi } from './boot-sources.api';
import { BootSourcesRepository } from './boot-sources.repository';
import { BootSourcesService } from './boot-sources.service';

/** Boot sources and selections (stored and served; Kiln does not sync images from them). */
@Module({ providers: [BootSourcesRepository, BootSourcesService, BootSourcesApi] })
export class BootSourcesModule {}
