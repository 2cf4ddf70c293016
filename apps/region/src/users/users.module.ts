import { Module } from '@nestjs/common';
import { SshKeyImporter } from './ssh-key.importer';
import { UsersApi } from './users.api';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/** User accounts, API tokens and SSH keys; the API layer's authentication reads them too. */
@Module({ providers: [UsersRepository, UsersService, UsersApi, SshKeyImporter], exports: [UsersRepository, UsersService] })
export class UsersModule {}
