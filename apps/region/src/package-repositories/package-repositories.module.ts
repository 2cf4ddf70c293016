import { Module } from '@nestjs/common';
import { PackageRepositoriesApi } from './package-repositories.api';
import { PackageRepositoriesRepository } from './package-repositories.repository';
import { PackageRepositoriesService } from './package-repositories.service';

/** Package repositories (stored and served; not yet written into deployed machines' apt sources). */
@Module({ providers: [PackageRepositoriesRepository, PackageRepositoriesService, PackageRepositoriesApi] })
export class PackageRepositoriesModule {}
