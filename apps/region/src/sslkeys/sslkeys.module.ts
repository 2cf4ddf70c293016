import { Module } from '@nestjs/common';
import { SslKeysApi } from './sslkeys.api';
import { SslKeysRepository } from './sslkeys.repository';
import { SslKeysService } from './sslkeys.service';

/** Users' SSL keys. */
@Module({ providers: [SslKeysRepository, SslKeysService, SslKeysApi] })
export class SslKeysModule {}
