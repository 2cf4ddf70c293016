import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { ApiTokenEntity, SshKeyEntity, UserEntity } from '@kiln/db';
import { newKeyPart as generateApiKeyPart } from '@kiln/db';

export interface TokenWithUser {
  token: ApiTokenEntity;
  user: UserEntity;
}

/** Every query on users, their API keys and SSH keys. */
@Injectable()
export class UsersRepository {
  constructor(private readonly ds: DataSource) {}

  findByUsername(username: string): Promise<UserEntity | null> {
    return this.ds.getRepository(UserEntity).findOneBy({ username });
  }

  findById(id: number): Promise<UserEntity | null> {
    return this.ds.getRepository(UserEntity).findOneBy({ id });
  }

  listVisible(): Promise<UserEntity[]> {
    return this.ds.getRepository(UserEntity).find({ where: { isSystem: false }, order: { id: 'ASC' } });
  }

  async create(u: { username: string; email: string; passwordHash: string; isAdmin: boolean; isSystem?: boolean }) {
    const repo = this.ds.getRepository(UserEntity);
    return repo.save(repo.create({ ...u, isSystem: u.isSystem ?? false, isActive: true }));
  }

  async delete(id: number): Promise<void> {
    await this.ds.getRepository(UserEntity).delete({ id });
  }

  async findToken(tokenKey: string): Promise<TokenWithUser | null> {
    const token = await this.ds
      .getRepository(ApiTokenEntity)
      .findOne({ where: { tokenKey }, relations: { user: true } });
    if (!token || !token.user) return null;
    return { token, user: token.user };
  }

  async createToken(userId: number, name: string): Promise<ApiTokenEntity> {
    const repo = this.ds.getRepository(ApiTokenEntity);
    return repo.save(
      repo.create({
        userId,
        name,
        consumerKey: generateApiKeyPart(18),
        tokenKey: generateApiKeyPart(18),
        tokenSecret: generateApiKeyPart(32),
      }),
    );
  }

  listTokens(userId: number): Promise<ApiTokenEntity[]> {
    return this.ds.getRepository(ApiTokenEntity).find({ where: { userId }, order: { id: 'ASC' } });
  }

  async deleteToken(userId: number, tokenKey: string): Promise<boolean> {
    const r = await this.ds.getRepository(ApiTokenEntity).delete({ userId, tokenKey });
    return (r.affected ?? 0) > 0;
  }

  async renameToken(userId: number, tokenKey: string, name: string): Promise<boolean> {
    const r = await this.ds.getRepository(ApiTokenEntity).update({ userId, tokenKey }, { name });
    return (r.affected ?? 0) > 0;
  }

  listSshKeys(userId: number): Promise<SshKeyEntity[]> {
    return this.ds.getRepository(SshKeyEntity).find({ where: { userId }, order: { id: 'ASC' } });
  }

  findSshKey(id: number): Promise<SshKeyEntity | null> {
    return this.ds.getRepository(SshKeyEntity).findOneBy({ id });
  }

  async addSshKey(userId: number, key: string, keysource: string | null): Promise<SshKeyEntity> {
    const repo = this.ds.getRepository(SshKeyEntity);
    return repo.save(repo.create({ userId, key, keysource }));
  }

  async deleteSshKey(id: number): Promise<void> {
    await this.ds.getRepository(SshKeyEntity).delete({ id });
  }

  async sshKeyExists(userId: number, key: string): Promise<boolean> {
    return this.ds.getRepository(SshKeyEntity).existsBy({ userId, key });
  }

  /** Adds the keys the user does not have yet (one statement; a key added meanwhile is skipped), in order. */
  async addSshKeysIfAbsent(userId: number, keys: readonly string[], keysource: string): Promise<SshKeyEntity[]> {
    if (keys.length === 0) return [];
    const r = await this.ds
      .createQueryBuilder()
      .insert()
      .into(SshKeyEntity)
      .values(keys.map((key) => ({ userId, key, keysource })))
      .orIgnore()
      .returning(['id'])
      .execute();
    const ids = (r.raw as { id: number }[]).map((row) => row.id);
    if (ids.length === 0) return [];
    return this.ds.getRepository(SshKeyEntity).find({ where: { id: In(ids) }, order: { id: 'ASC' } });
  }
}
