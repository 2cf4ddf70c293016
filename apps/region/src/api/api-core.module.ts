import { Global, Module } from '@nestjs/common';
import { ApiRegistry } from './api.registry';

/** The API definition every feature module registers its resources into. */
@Global()
@Module({ providers: [ApiRegistry], exports: [ApiRegistry] })
export class ApiCoreModule {}
