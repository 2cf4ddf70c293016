import { loadRackConfig, RackConfigError } from './config/rack.config';
import { configureRootLogger, log } from './logging/logger';
import { createRackApp } from './bootstrap';

async function main() {
  let config;
  try {
    config = loadRackConfig(process.env);
  } catch (e) {
    if (e instanceof RackConfigError) {
      process.stderr.write(`kiln-rack: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  configureRootLogger(config.logLevel);
  await createRackApp(config);
  log().info({ stateDir: config.stateDir, nats: config.nats.url, interfaces: config.interfaces ?? 'all' }, 'kiln rack started');
}

main().catch((err) => {
  log().fatal({ err }, 'kiln rack failed to start');
  process.exit(1);
});
