import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { UserEntity } from '@kiln/db';
import { BadRequestError, NotFoundError } from '../api/http/http.errors';
import { hashPassword, verifyPassword } from '@kiln/db';
import { UsersRepository } from './users.repository';

const USERNAME = /^[\w.@+-]{1,150}$/;

@Injectable()
export class UsersService {
  constructor(private readonly repo: UsersRepository) {
    // Ready before the first login of a user that does not exist, which then costs no extra hash.
    void dummyPasswordHash();
  }

  async createUser(input: { username?: string; email?: string; password?: string; isAdmin: boolean }): Promise<UserEntity> {
    const errors: Record<string, string[]> = {};
    if (!input.username) errors.username = ['This field is required.'];
    else if (!USERNAME.test(input.username)) {
      errors.username = ['Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.'];
    }
    if (input.email !== undefined && input.email !== '' && !/^[^@\s]+@[^@\s]+$/.test(input.email)) {
      errors.email = ['Enter a valid email address.'];
    }
    if (!errors.username && (await this.repo.findByUsername(input.username!))) {
      errors.username = ['A user with that username already exists.'];
    }
    if (Object.keys(errors).length) throw new BadRequestError(errors);
    return this.repo.create({
      username: input.username!,
      email: input.email ?? '',
      passwordHash: input.password ? await hashPassword(input.password) : '',
      isAdmin: input.isAdmin,
    });
  }

  async getVisible(username: string): Promise<UserEntity> {
    const u = await this.repo.findByUsername(username);
    if (!u || u.isSystem) throw new NotFoundError('No User matches the given query.');
    return u;
  }

  /** username + password -> the user, or null (python-libmaas login, `kiln` CLI). */
  /**
   * The user whose password this is, or null. Always runs one password hash, against a dummy
   * hash when there is no such user, so the answer takes as long whether the user exists or not.
   */
  async checkPassword(username: string, password: string): Promise<UserEntity | null> {
    const u = await this.repo.findByUsername(username);
    const usable = !!u && !u.isSystem && u.isActive && !!u.passwordHash;
    const ok = await verifyPassword(password, usable ? u!.passwordHash : await dummyPasswordHash());
    return usable && ok ? u : null;
  }
}

export function userJson(u: UserEntity) {
  return {
    username: u.username,
    email: u.email,
    is_superuser: u.isAdmin,
    is_local: true,
    resource_uri: `/MAAS/api/2.0/users/${encodeURIComponent(u.username)}/`,
  };
}

let dummyHash: Promise<string> | null = null;

/** A hash of a random password, made once: what a login for a missing user is checked against. */
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}
