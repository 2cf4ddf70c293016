import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'nats';
import { BOOT_IMAGE_FILES, GetBootImages, ROOT_IMAGE_FILE, type BootImage } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { withLogContext } from '../logging/logger';
import { CONTRACT_BUS } from '../nats/nats.module';
import { REGION_QUEUE } from '../racks/rack-registration.handler';
import { DOWNLOAD_PATH } from './boot-resource-files.controller';
import { BootResourcesService } from './boot-resources.service';

/** Answers GetBootImages: the images every rack should hold, and where to fetch their files. */
@Injectable()
export class BootImagesHandler implements OnApplicationBootstrap, OnModuleDestroy {
  private sub: Subscription | null = null;

  constructor(
    @Inject(CONTRACT_BUS) private readonly bus: ContractBus,
    private readonly resources: BootResourcesService,
  ) {}

  onApplicationBootstrap() {
    this.sub = this.bus.serve(GetBootImages, ['*'], (req) => withLogContext({ rackId: req.rackId }, () => this.answer()), { queue: REGION_QUEUE });
  }

  onModuleDestroy() {
    this.sub?.unsubscribe();
  }

  async answer() {
    const images: BootImage[] = (await this.resources.netbootImages()).map((i) => ({
      name: i.name,
      architecture: i.architecture,
      version: i.version,
      files: BOOT_IMAGE_FILES.map((filename) => ({ filename, ...i.files[filename] })),
    }));
    // Deployable images: the root tarball the installer streams from its rack.
    for (const d of await this.resources.deployableImages()) {
      images.push({ name: d.name, architecture: d.architecture, version: d.version, files: [{ filename: ROOT_IMAGE_FILE, ...d.file }] });
    }
    return { images, downloadPath: DOWNLOAD_PATH };
  }
}
