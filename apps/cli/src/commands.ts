import { DataSource } from 'typeorm';
import { ApiTokenEntity, hashPassword, newKeyPart, UserEntity } from '@kiln/db';

/** Region-host administration, run against the region's database (like `maas createadmin`). */
export class CliError extends Error {}

export async function migrate(ds: DataSource): Promise<string[]> {
  const done = await ds.runMigrations({ transaction: 'each' });
  return done.map((m) => m.name);
}

export async function createAdmin(
  ds: DataSource,
  opts: { username: string; password: string; email: string },
): Promise<UserEntity> {
  if (!/^[\w.@+-]{1,150}$/.test(opts.username)) throw new CliError(`invalid username: ${opts.username}`);
  if (!opts.password) throw new CliError('a password is required (--password)');
  const repo = ds.getRepository(UserEntity);
  if (await repo.findOneBy({ username: opts.username })) throw new CliError(`user ${opts.username} already exists`);
  return repo.save(
    repo.create({ username: opts.username, email: opts.email, passwordHash: await hashPassword(opts.password), isAdmin: true }),
  );
}

/** Prints an existing key of the user, or makes one with --generate (as `maas apikey`). */
export async function apiKey(ds: DataSource, opts: { username: string; generate: boolean; name?: string }): Promise<string[]> {
  const user = await ds.getRepository(UserEntity).findOneBy({ username: opts.username });
  if (!user) throw new CliError(`no such user: ${opts.username}`);
  const tokens = ds.getRepository(ApiTokenEntity);
  let list = await tokens.find({ where: { userId: user.id }, order: { id: 'ASC' } });
  if (opts.generate || !list.length) {
    await tokens.save(
      tokens.create({
        userId: user.id,
        name: opts.name ?? 'kiln apikey',
        consumerKey: newKeyPart(18),
        tokenKey: newKeyPart(18),
        tokenSecret: newKeyPart(32),
      }),
    );
    list = await tokens.find({ where: { userId: user.id }, order: { id: 'ASC' } });
    if (opts.generate) list = list.slice(-1);
  }
  return list.map((t) => `${t.consumerKey}:${t.tokenKey}:${t.tokenSecret}`);
}
