import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createDataSource, writeNatsServerConfig } from '@kiln/db';
import { apiKey, applyNatsConfig, CliError, createAdmin, migrate, natsConfig, natsNkey, rackRevoke, rackToken } from './commands';
import { CliConfigError, loadCliConfig } from './config/cli.config';
import { importBootResource, ImportError } from './boot-resources/boot-resource-import.command';
import { formatReport, simulate, SIMULATE_OPTIONS, SIMULATE_USAGE, SimulateUsageError } from './simulate/simulate.command';

const USAGE = `kiln <command> [options]

Commands (run on a region host; they use KILN_DATABASE_URL):
  migrate                                         apply database migrations
  createadmin --username U --password P [--email E]   create an administrator
  apikey --username U [--generate] [--name N]     print (or create) the user's API keys
  rack-token [--hours H]                          print a one-time rack enrollment token (default: valid 24 h)
  rack-revoke --rack ID                           revoke a rack: it is cut off the bus at once where KILN_NATS_SERVER_CONFIG
                                                  is set (the server reloads), otherwise within a region's sweep
  nats-nkey --out FILE                            create the region's NATS nkey seed if missing; print its public key
  boot-resource-import DIR [--url URL] --apikey KEY
                                                  register an image tools/images/build-ephemeral.sh or
                                                  build-deployable.sh made (DIR: its
                                                  manifest.json and files) as a boot resource, through the region's
                                                  API at URL (default http://127.0.0.1:5240/MAAS)
  nats-config --out FILE                          write the NATS server config (region settings from the environment:
                                                  KILN_NATS_NKEY_FILE, KILN_NATS_SERVER_LISTEN, ...)

Commands over the network (no database):
${SIMULATE_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'simulate') {
    const { values } = parseArgs({ args: rest, options: SIMULATE_OPTIONS, strict: true });
    const report = await simulate(values, (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`));
    process.stderr.write(formatReport(report));
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    const complete = report.phases.every((p) => p.reached === report.machines) && report.agentErrors.length === 0;
    return complete ? 0 : 1;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: command === 'boot-resource-import',
    options: {
      username: { type: 'string' },
      password: { type: 'string' },
      email: { type: 'string', default: '' },
      generate: { type: 'boolean', default: false },
      name: { type: 'string' },
      hours: { type: 'string', default: '24' },
      rack: { type: 'string' },
      out: { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:5240/MAAS' },
      apikey: { type: 'string' },
    },
    strict: true,
  });
  if (command === 'boot-resource-import') {
    // Through the region's API: no database needed here.
    if (positionals.length !== 1) throw new CliError('boot-resource-import takes one image directory');
    if (!values.apikey) throw new CliError('--apikey is required (kiln apikey --username admin)');
    const r = await importBootResource({ dir: positionals[0], url: values.url!, apiKey: values.apikey, say: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(`boot resource ${r.resourceId}: ${r.name} ${r.architecture} version ${r.version} (uploaded: ${r.uploaded.join(', ') || 'nothing'}; already stored: ${r.alreadyStored.join(', ') || 'nothing'})\n`);
    return 0;
  }
  const config = loadCliConfig(process.env);
  if (command === 'nats-nkey') {
    if (!values.out) throw new CliError('--out is required');
    process.stdout.write(`${natsNkey(values.out)}\n`);
    return 0;
  }
  const ds = createDataSource({
    url: config.databaseUrl,
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
        const opts = config.natsServer;
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
        const opts = config.natsServer;
        const configFile = config.natsServerConfigFile;
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
    if (e instanceof CliConfigError) {
      process.stderr.write(`kiln: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`kiln: ${e instanceof CliError || e instanceof ImportError || e instanceof SimulateUsageError || e?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? e.message : e?.stack ?? e}\n`);
    process.exit(1);
  },
);
