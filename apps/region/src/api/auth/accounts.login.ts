import { Injectable } from '@nestjs/common';
import { UsersRepository } from '../../users/users.repository';
import { UsersService } from '../../users/users.service';
import { parseBody } from '../http/body.parser';
import { BadRequestError, UnauthorizedError } from '../http/http.errors';

/**
 * POST /MAAS/accounts/authenticate/: username + password -> a new API key, as python-libmaas's
 * login() expects (form fields username, password, consumer).
 */
@Injectable()
export class AccountsLogin {
  constructor(
    private readonly users: UsersService,
    private readonly repo: UsersRepository,
  ) {}

  async authenticate(contentType: string | undefined, body: Buffer) {
    const p = parseBody(contentType, body);
    const username = p.get('username');
    const password = p.get('password');
    if (!username || !password) throw new BadRequestError('username and password are required.');
    const user = await this.users.checkPassword(username, password);
    if (!user) throw new UnauthorizedError('Username or password is incorrect.', {});
    const t = await this.repo.createToken(user.id, p.get('consumer') ?? 'API token');
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ consumer_key: t.consumerKey, token_key: t.tokenKey, token_secret: t.tokenSecret, name: t.name }),
    };
  }
}
