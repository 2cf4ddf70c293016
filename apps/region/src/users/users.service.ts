import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ApiTokenEntity, hashPassword, SshKeyEntity, UserEntity, verifyPassword } from '@kiln/db';
import { forbidden, invalid, notFound } from '../common/domain.error';
import { log } from '../logging/logger';
import { keySourceString, parseKeySource, SshKeyImporter } from './ssh-key.importer';
import { UsersRepository } from './users.repository';

const USERNAME = /^[\w.@+-]{1,150}$/;
const SSH_KEY = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+=*( .*)?$/;

/** Who is asking: a user may manage their own tokens and keys; an administrator anyone's keys. */
export interface UserActor {
  id: number;
  isAdmin: boolean;
}

export interface SkippedKey {
  /** The start of the line (keys are long). */
  key: string;
  reason: string;
}

export interface SshKeyImport {
  imported: SshKeyEntity[];
  skipped: SkippedKey[];
}

/** User accounts, their API tokens and SSH keys, and password checks. */
@Injectable()
export class UsersService {
  constructor(
    private readonly repo: UsersRepository,
    private readonly importer: SshKeyImporter,
  ) {
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
    if (Object.keys(errors).length) throw invalid(errors);
    return this.repo.create({
      username: input.username!,
      email: input.email ?? '',
      passwordHash: input.password ? await hashPassword(input.password) : '',
      isAdmin: input.isAdmin,
    });
  }

  async getVisible(username: string): Promise<UserEntity> {
    const u = await this.repo.findByUsername(username);
    if (!u || u.isSystem) throw notFound('No User matches the given query.');
    return u;
  }

  /** The users people can see (not the system's own). */
  listVisible(): Promise<UserEntity[]> {
    return this.repo.listVisible();
  }

  /** The caller's own account. */
  async whoami(caller: UserActor): Promise<UserEntity> {
    return (await this.repo.findById(caller.id))!;
  }

  async deleteUser(username: string, caller: UserActor): Promise<void> {
    const u = await this.getVisible(username);
    if (u.id === caller.id) throw invalid('You cannot delete your own account.');
    await this.repo.delete(u.id);
  }

  // ---- API tokens ---------------------------------------------------------------------------------

  createToken(caller: UserActor, name: string): Promise<ApiTokenEntity> {
    return this.repo.createToken(caller.id, name);
  }

  listTokens(caller: UserActor): Promise<ApiTokenEntity[]> {
    return this.repo.listTokens(caller.id);
  }

  /** Deleting a token the caller does not have is not an error (as MAAS). */
  async deleteToken(caller: UserActor, tokenKey: string): Promise<void> {
    await this.repo.deleteToken(caller.id, tokenKey);
  }

  /** `token` is the token's key or the whole consumer:token:secret string. */
  async renameToken(caller: UserActor, token: string, name: string): Promise<void> {
    const key = token.includes(':') ? token.split(':')[1] : token;
    if (!(await this.repo.renameToken(caller.id, key, name))) throw notFound('No Token matches the given query.');
  }

  // ---- SSH keys ---------------------------------------------------------------------------------

  listSshKeys(caller: UserActor): Promise<SshKeyEntity[]> {
    return this.repo.listSshKeys(caller.id);
  }

  async addSshKey(caller: UserActor, raw: string | undefined): Promise<SshKeyEntity> {
    const key = (raw ?? '').trim();
    if (!key) throw invalid({ key: ['This field is required.'] });
    if (!SSH_KEY.test(key)) throw invalid({ key: ['Invalid SSH public key.'] });
    if (await this.repo.sshKeyExists(caller.id, key)) throw invalid({ __all__: ['This key has already been added for this user.'] });
    return this.repo.addSshKey(caller.id, key, null);
  }

  /**
   * `op=import`: fetches the keys of `lp:<user>` / `gh:<user>` and stores the new ones with that
   * keysource. Keys the caller already has are skipped; lines that are not SSH public keys are
   * skipped and reported.
   */
  async importSshKeys(caller: UserActor, rawSource: string | undefined): Promise<SshKeyImport> {
    const source = parseKeySource(rawSource);
    const fetched = await this.importer.fetchKeys(source);
    const skipped: SkippedKey[] = [];
    // The start of the line, printable ASCII only (it is reported in a header).
    const excerpt = (k: string) => k.slice(0, 80).replace(/[^\x20-\x7e]/g, '?');
    const valid: string[] = [];
    for (const line of fetched) {
      const key = line.trim();
      if (!SSH_KEY.test(key)) skipped.push({ key: excerpt(key), reason: 'Invalid SSH public key.' });
      else if (valid.includes(key)) skipped.push({ key: excerpt(key), reason: 'Duplicate key in the answer.' });
      else valid.push(key);
    }
    const have = new Set((await this.repo.listSshKeys(caller.id)).map((k) => k.key));
    const fresh = valid.filter((k) => {
      if (!have.has(k)) return true;
      skipped.push({ key: excerpt(k), reason: 'This key has already been added for this user.' });
      return false;
    });
    const imported = await this.repo.addSshKeysIfAbsent(caller.id, fresh, keySourceString(source));
    log().info({ userId: caller.id, keysource: keySourceString(source), imported: imported.length, skipped: skipped.length }, 'SSH keys imported');
    return { imported, skipped };
  }

  /** A key the caller owns (or any key, for an administrator, who may read it). */
  async sshKey(caller: UserActor, id: number): Promise<SshKeyEntity> {
    const k = Number.isInteger(id) ? await this.repo.findSshKey(id) : null;
    if (!k) throw notFound('No SSHKey matches the given query.');
    if (k.userId !== caller.id && !caller.isAdmin) throw forbidden("Can't delete a key you don't own.");
    return k;
  }

  /** Only the key's owner may delete it, administrators included (MAAS: 403 "Can't delete a key you don't own."). */
  async deleteSshKey(caller: UserActor, id: number): Promise<void> {
    const k = await this.sshKey(caller, id);
    if (k.userId !== caller.id) throw forbidden("Can't delete a key you don't own.");
    await this.repo.deleteSshKey(k.id);
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

let dummyHash: Promise<string> | null = null;

/** A hash of a random password, made once: what a login for a missing user is checked against. */
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}
