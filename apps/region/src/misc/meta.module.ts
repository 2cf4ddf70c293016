import { Module } from '@nestjs/common';
import { MetaApi } from './meta.api';

/** version/ and describe/: what every client reads first. */
@Module({ providers: [MetaApi] })
export class MetaModule {}
