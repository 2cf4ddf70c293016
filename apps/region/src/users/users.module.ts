import { Module } from '@nestjs/common';
import { UsersApi } from './users.api';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/** User accounts, API tokens and SSH keys; the API layer's authentication reads them too. */
@Module({ providers: [UsersRepository, UsersService, UsersApi], exports: [UsersRepository, UsersService] })
export class UsersModule {}
