import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createDataSource, writeNatsServerConfig } from '@kiln/db';
import { apiKey, applyNatsConfig, CliError, createAdmin, migrate, natsConfig, NatsServerOptions, natsNkey, rackRevoke, rackToken } from './commands';

const USAGE = `kiln <command> [options]

Commands (run on a region host; they use KILN_DATABASE_URL):
  migrate                                         apply database migrations
  createadmin --username U --password P [--email E]   create an administrator
  apikey --username U [--generate] [--name N]     print (or create) the user's API keys
  rack-token [--hours H]                          print a one-time rack enrollment token (default: valid 24 h)
  rack-revoke --rack ID                           revoke a rack: it is cut off the bus at once where KILN_NATS_SERVER_CONFIG
                                                  is set (the server reloads), otherwise within a region's sweep
  nats-nkey --out FILE                            create the region's NATS nkey seed if missing; print its public key
  nats-config --out FILE                          write the NATS server config (region settings from the environment:
                                                  KILN_NATS_NKEY_FILE, KILN_NATS_SERVER_LISTEN, ...)
`;

/** The NATS server settings a region reads, or null without the region's nkey. */
function natsServerOptions(env: NodeJS.ProcessEnv): NatsServerOptions | null {
  if (!env.KILN_NATS_NKEY_FILE) return null;
  return {
    nkeyFile: env.KILN_NATS_NKEY_FILE,
    listen: env.KILN_NATS_SERVER_LISTEN || '0.0.0.0:4222',
    jetstreamDir: env.KILN_NATS_JETSTREAM_DIR || '/var/lib/kiln/nats',
    pidFile: env.KILN_NATS_SERVER_PID_FILE || '/run/kiln/nats-server.pid',
    prefix: env.KILN_NATS_PREFIX ?? '',
    ...(env.KILN_NATS_TLS_CERT && env.KILN_NATS_TLS_KEY ? { tls: { certFile: env.KILN_NATS_TLS_CERT, keyFile: env.KILN_NATS_TLS_KEY } } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      username: { type: 'string' },
      password: { type: 'string' },
      email: { type: 'string', default: '' },
      generate: { type: 'boolean', default: false },
      name: { type: 'string' },
      hours: { type: 'string', default: '24' },
      rack: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  if (command === 'nats-nkey') {
    if (!values.out) throw new CliError('--out is required');
    process.stdout.write(`${natsNkey(values.out)}\n`);
    return 0;
  }
  const ds = createDataSource({
    url: process.env.KILN_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/kiln',
    poolSize: 2,
  });
  await ds.initialize();
  try {
    switch (command) {
      case 'migrate': {
        const applied = await migrate(ds);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
        return 0;
      }
      case 'createadmin': {
        if (!values.username) throw new CliError('--username is required');
        const u = await createAdmin(ds, { username: values.username, password: values.password ?? '', email: values.email ?? '' });
        process.stdout.write(`created administrator ${u.username}\n`);
        return 0;
      }
      case 'apikey': {
        if (!values.username) throw new CliError('--username is required');
        for (const k of await apiKey(ds, { username: values.username, generate: !!values.generate, name: values.name })) {
          process.stdout.write(`${k}\n`);
        }
        return 0;
      }
      case 'nats-config': {
        if (!values.out) throw new CliError('--out is required');
        const opts = natsServerOptions(process.env);
        if (!opts) throw new CliError('KILN_NATS_NKEY_FILE must be set');
        await writeNatsServerConfig(values.out, await natsConfig(ds, opts));
        return 0;
      }
      case 'rack-token': {
        const t = await rackToken(ds, { ttlHours: Number(values.hours) });
        process.stdout.write(`${t.token}\n`);
        process.stderr.write(`valid until ${t.expires.toISOString()}, for one rack\n`);
        return 0;
      }
      case 'rack-revoke': {
        if (!values.rack) throw new CliError('--rack is required');
        await rackRevoke(ds, { rackId: values.rack });
        const opts = natsServerOptions(process.env);
        const configFile = process.env.KILN_NATS_SERVER_CONFIG;
        const applied = opts && configFile ? await applyNatsConfig(ds, { ...opts, configFile }) : 'written';
        process.stdout.write(
          applied === 'reloaded'
            ? `revoked rack ${values.rack}: the NATS server reloaded its config and cut the rack off\n`
            : `revoked rack ${values.rack}: the regions drop it from the NATS server config at their next sweep\n`,
        );
        return 0;
      }
      default:
        throw new CliError(`unknown command: ${command}\n\n${USAGE}`);
    }
  } finally {
    await ds.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`kiln: ${e instanceof CliError || e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? e.message : e?.stack ?? e}\n`);
    process.exit(1);
  },
);
