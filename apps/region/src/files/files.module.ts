import { Module } from '@nestjs/common';
import { FilesApi } from './files.api';
import { FilesRepository } from './files.repository';
import { FilesService } from './files.service';

/** MAAS's file storage. */
@Module({ providers: [FilesRepository, FilesService, FilesApi] })
export class FilesModule {}
