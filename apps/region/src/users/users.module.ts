import { Module } from '@nestjs/common';
import { UsersApi } from './users.api';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({ providers: [UsersRepository, UsersService, UsersApi], exports: [UsersRepository, UsersService] })
export class UsersModule {}
