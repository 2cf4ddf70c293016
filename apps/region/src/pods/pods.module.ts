import { Module } from '@nestjs/common';
import { PodsApi } from './pods.api';
import { PodsService } from './pods.service';

/** pods/ and vm-hosts/: Kiln manages no VM hosts and says so. */
@Module({ providers: [PodsService, PodsApi] })
export class PodsModule {}
