import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { BootImagesHandler } from './boot-images.handler';
import { BootResourceFilesController, BootResourceUploadMiddleware, UPLOAD_AUTH_MODULE } from './boot-resource-files.controller';
import { BootResourcesApi } from './boot-resources.api';
import { BootResourcesRepository } from './boot-resources.repository';
import { BootResourcesService } from './boot-resources.service';

/**
 * Boot resources: the boot-resources/ API, the streamed uploads that fill them, the racks'
 * downloads, and GetBootImages (which images racks hold). The boot config reads the images
 * through BootResourcesService.
 */
@Module({
  imports: [UPLOAD_AUTH_MODULE],
  controllers: [BootResourceFilesController],
  providers: [BootResourcesRepository, BootResourcesService, BootResourcesApi, BootImagesHandler],
  exports: [BootResourcesService],
})
export class BootResourcesModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(BootResourceUploadMiddleware).forRoutes({ path: 'MAAS/api/2.0/boot-resources/*', method: RequestMethod.PUT });
  }
}
