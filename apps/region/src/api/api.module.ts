import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { ApiController } from './api.controller';
import { ApiDispatcher } from './api.dispatcher';
import { AccountsLogin } from './auth/accounts.login';
import { OAuthAuthenticator } from './auth/oauth.authenticator';

@Module({
  imports: [UsersModule],
  controllers: [ApiController],
  providers: [ApiDispatcher, OAuthAuthenticator, AccountsLogin],
  exports: [OAuthAuthenticator],
})
export class ApiModule {}
