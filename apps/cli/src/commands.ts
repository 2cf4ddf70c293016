import { existsSync, writeFileSync } from 'node:fs';
import { nkeys } from 'nats';
import { renderNatsServerConfig } from '@kiln/contracts';
import { DataSource } from 'typeorm';
import {
  ApiTokenEntity,
  createEnrollmentToken,
  forgetRackKeys,
  hashPassword,
  newKeyPart,
  regionNkeyPublicKey,
  reloadNatsServer,
  enrolledRackNkeys,
  UserEntity,
  writeNatsServerConfig,
} from '@kiln/db';

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

/**
 * A one-time rack enrollment token, valid for `ttlHours`. Only its SHA-256 is stored; the token is
 * shown once, to be given to the new rack (KILN_RACK_ENROLL_TOKEN).
 */
export async function rackToken(ds: DataSource, opts: { ttlHours: number }): Promise<{ token: string; expires: Date }> {
  if (!Number.isFinite(opts.ttlHours) || opts.ttlHours <= 0 || opts.ttlHours > 24 * 30) throw new CliError('--hours must be between 0 and 720');
  return createEnrollmentToken(ds, opts.ttlHours * 3600_000);
}

/**
 * Revokes a rack: its NATS nkey and box key are forgotten, so every region drops it from the NATS
 * server config at its next sweep (the server then cuts its connection) and seals it nothing more.
 */
export async function rackRevoke(ds: DataSource, opts: { rackId: string }): Promise<void> {
  if (!(await forgetRackKeys(ds, opts.rackId))) throw new CliError(`no rack with id ${opts.rackId}`);
}

/** The region's NATS nkey seed at `path` (created, mode 0600, when missing); returns its public key. */
export function natsNkey(path: string): string {
  if (!existsSync(path)) writeFileSync(path, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`, { mode: 0o600, flag: 'wx' });
  return regionNkeyPublicKey(path);
}

export interface NatsServerOptions {
  /** The region's nkey seed file. */
  nkeyFile: string;
  listen: string;
  jetstreamDir: string;
  pidFile: string;
  /** KILN_NATS_PREFIX. */
  prefix: string;
  tls?: { certFile: string; keyFile: string };
}

/**
 * The NATS server config for the enrolled racks in the database, as a region with
 * KILN_NATS_SERVER_CONFIG would write it (for the first start of the server, before any region).
 * Creates the region's nkey seed when it is missing.
 */
export async function natsConfig(ds: DataSource, opts: NatsServerOptions): Promise<string> {
  return renderNatsServerConfig({
    listen: opts.listen,
    jetstreamDir: opts.jetstreamDir,
    pidFile: opts.pidFile,
    prefix: opts.prefix,
    regionNkeys: [natsNkey(opts.nkeyFile)],
    racks: await enrolledRackNkeys(ds),
    ...(opts.tls ? { tls: opts.tls } : {}),
  });
}

/**
 * Writes the NATS server config to `configFile` (atomically) and, when the server of `pidFile`
 * runs, has it reload: a revoked rack's connection is cut at once instead of at the next sweep.
 */
export async function applyNatsConfig(ds: DataSource, opts: NatsServerOptions & { configFile: string }): Promise<'reloaded' | 'written'> {
  await writeNatsServerConfig(opts.configFile, await natsConfig(ds, opts));
  return (await reloadNatsServer(opts.pidFile)) === null ? 'written' : 'reloaded';
}
