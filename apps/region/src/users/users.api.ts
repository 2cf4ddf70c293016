import { Injectable, OnModuleInit } from '@nestjs/common';
import type { ApiTokenEntity, SshKeyEntity, UserEntity } from '@kiln/db';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse } from '../api/api.types';
import { BadRequestError } from '../api/http/http.errors';
import { parseBool } from '../api/http/params';
import { UsersService } from './users.service';

export function userJson(u: UserEntity) {
  return {
    username: u.username,
    email: u.email,
    is_superuser: u.isAdmin,
    is_local: true,
    resource_uri: `/MAAS/api/2.0/users/${encodeURIComponent(u.username)}/`,
  };
}

function tokenString(t: ApiTokenEntity): string {
  return `${t.consumerKey}:${t.tokenKey}:${t.tokenSecret}`;
}

/** MAAS's SSH key JSON: `keysource` is "lp:<user>" / "gh:<user>" for imported keys, "" for keys added by hand. */
function sshKeyJson(k: SshKeyEntity) {
  return { id: k.id, key: k.key, keysource: k.keysource ?? '', resource_uri: `/MAAS/api/2.0/account/prefs/sshkeys/${k.id}/` };
}

/** The path's SSH key id (not a number: no key has it). */
const keyId = (r: ApiRequest): number => Number(r.pathParams.id);

/** users/, users/{username}/, account/ and account/prefs/sshkeys/: the MAAS handlers of the same names. */
@Injectable()
export class UsersApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly users: UsersService,
  ) {}

  onModuleInit() {
    this.registry.register(
      {
        auth: {
          name: 'UsersHandler',
          doc: 'Manage the user accounts of this MAAS.',
          path: '/MAAS/api/2.0/users/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List users',
              run: async () => (await this.users.listVisible()).map(userJson),
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a MAAS user account',
              description: 'This is not safe: the password is sent in plaintext. Avoid it for production.',
              permission: 'admin',
              params: [
                { name: 'username', required: true, doc: 'Identifier-style username for the new user.' },
                { name: 'email', required: true, doc: 'Email address for the new user.' },
                { name: 'password', required: true, doc: 'Password for the new user.' },
                { name: 'is_superuser', required: true, type: 'Boolean', doc: 'Whether the new user is to be an administrator.' },
              ],
              run: async (r: ApiRequest) => {
                const isAdminRaw = r.params.get('is_superuser');
                const isAdmin = isAdminRaw === undefined ? false : parseBool(isAdminRaw);
                if (isAdmin === undefined) throw new BadRequestError({ is_superuser: ['Must be a boolean.'] });
                const u = await this.users.createUser({
                  username: r.params.get('username'),
                  email: r.params.get('email'),
                  password: r.params.get('password'),
                  isAdmin,
                });
                return userJson(u);
              },
            },
            {
              name: 'whoami',
              op: 'whoami',
              method: 'GET',
              title: 'Retrieve logged-in user',
              description: 'Returns the currently logged-in user.',
              run: async (r: ApiRequest) => userJson(await this.users.whoami(r.user!)),
            },
          ],
        },
      },
      {
        auth: {
          name: 'UserHandler',
          doc: 'Manage a user account.',
          path: '/MAAS/api/2.0/users/{username}/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Retrieve user details',
              run: async (r: ApiRequest) => userJson(await this.users.getVisible(r.pathParams.username)),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a user',
              permission: 'admin',
              params: [{ name: 'transfer_resources_to', doc: 'An optional username to transfer resources to.' }],
              run: async (r: ApiRequest) => {
                await this.users.deleteUser(r.pathParams.username, r.user!);
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'AccountHandler',
          doc: 'Manage the current logged-in user.',
          path: '/MAAS/api/2.0/account/',
          actions: [
            {
              name: 'create_authorisation_token',
              op: 'create_authorisation_token',
              method: 'POST',
              title: 'Create an authorisation token',
              description: 'Create an authorisation OAuth token and OAuth consumer.',
              params: [{ name: 'name', doc: 'Optional name of the token that will be generated.' }],
              run: async (r: ApiRequest) => {
                const t = await this.users.createToken(r.user!, r.params.get('name') ?? '');
                return { token_key: t.tokenKey, token_secret: t.tokenSecret, consumer_key: t.consumerKey, name: t.name };
              },
            },
            {
              name: 'list_authorisation_tokens',
              op: 'list_authorisation_tokens',
              method: 'GET',
              title: 'List authorisation tokens',
              description: 'List authorisation tokens available to the currently logged-in user.',
              run: async (r: ApiRequest) =>
                (await this.users.listTokens(r.user!)).map((t) => ({ name: t.name, token: tokenString(t) })),
            },
            {
              name: 'delete_authorisation_token',
              op: 'delete_authorisation_token',
              method: 'POST',
              title: 'Delete an authorisation token',
              params: [{ name: 'token_key', required: true, doc: 'The key of the token to be deleted.' }],
              run: async (r: ApiRequest) => {
                const key = r.params.get('token_key');
                if (!key) throw new BadRequestError({ token_key: ['This field is required.'] });
                await this.users.deleteToken(r.user!, key);
                return ApiResponse.noContent();
              },
            },
            {
              name: 'update_token_name',
              op: 'update_token_name',
              method: 'POST',
              title: 'Modify authorisation token',
              params: [
                { name: 'token', required: true, doc: 'The key of the token to be renamed (or the full token string).' },
                { name: 'name', required: true, doc: 'New name of the token.' },
              ],
              run: async (r: ApiRequest) => {
                const token = r.params.get('token');
                const name = r.params.get('name');
                if (!token || name === undefined) throw new BadRequestError('token and name are required.');
                await this.users.renameToken(r.user!, token, name);
                return 'Accepted';
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'SSHKeysHandler',
          doc: 'Manage the collection of all the SSH keys in this MAAS.',
          path: '/MAAS/api/2.0/account/prefs/sshkeys/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List SSH keys',
              run: async (r: ApiRequest) => (await this.users.listSshKeys(r.user!)).map(sshKeyJson),
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Add a new SSH key',
              params: [{ name: 'key', required: true, doc: 'A public SSH key should be provided in the request payload as form data with the name "key".' }],
              // MAAS answers 201 Created with the key.
              run: async (r: ApiRequest) => new ApiResponse(201, sshKeyJson(await this.users.addSshKey(r.user!, r.params.get('key')))),
            },
            {
              name: 'import',
              op: 'import',
              method: 'POST',
              title: 'Import SSH keys',
              params: [{ name: 'keysource', required: true, doc: 'The source of the keys: lp:<user> (Launchpad) or gh:<user> (GitHub); a bare <user> means Launchpad.' }],
              run: async (r: ApiRequest) => {
                const result = await this.users.importSshKeys(r.user!, r.params.get('keysource'));
                // The body is MAAS's: the keys imported. What was skipped (and why) rides in headers:
                // how many, and the first few.
                const headers: Record<string, string> = result.skipped.length
                  ? { 'X-Kiln-Skipped-Count': String(result.skipped.length), 'X-Kiln-Skipped-Keys': JSON.stringify(result.skipped.slice(0, 20)) }
                  : {};
                return new ApiResponse(200, result.imported.map(sshKeyJson), 'application/json; charset=utf-8', headers);
              },
            },
          ],
        },
      },
      {
        auth: {
          name: 'SSHKeyHandler',
          doc: 'Manage an SSH key.',
          path: '/MAAS/api/2.0/account/prefs/sshkeys/{id}/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'Retrieve an SSH key',
              run: async (r: ApiRequest) => sshKeyJson(await this.users.sshKey(r.user!, keyId(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete an SSH key',
              run: async (r: ApiRequest) => {
                await this.users.deleteSshKey(r.user!, keyId(r));
                return ApiResponse.noContent();
              },
            },
          ],
        },
      },
    );
  }
}
