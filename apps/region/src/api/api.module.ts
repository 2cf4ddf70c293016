import { Module } from '@nestjs/common';
import { MetadataController } from '../metadata/metadata.controller';
import { MetadataModule } from '../metadata/metadata.module';
import { ScriptsModule } from '../scripts/scripts.module';
import { UsersModule } from '../users/users.module';
import { ApiController } from './api.controller';
import { ApiDispatcher } from './api.dispatcher';
import { AccountsLogin } from './auth/accounts.login';
import { NodeTokenAuthenticator } from './auth/node-token.authenticator';
import { OAuthAuthenticator } from './auth/oauth.authenticator';

/** The HTTP entry points: the REST API (users' API keys) and the metadata API (node tokens). */
@Module({
  imports: [UsersModule, ScriptsModule, MetadataModule],
  controllers: [ApiController, MetadataController],
  providers: [ApiDispatcher, OAuthAuthenticator, AccountsLogin, NodeTokenAuthenticator],
})
export class ApiModule {}
