import { ConfigError, loadRegionConfig } from './config/region.config';
import { configureRootLogger, log } from './logging/logger';
import { createRegionApp } from './bootstrap';

async function main() {
  let config;
  try {
    config = loadRegionConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`kiln-region: configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  configureRootLogger(config.logLevel);
  const app = await createRegionApp(config);
  await app.listen(config.http.port, config.http.host);
  log().info({ port: config.http.port, host: config.http.host }, 'kiln region listening');
}

main().catch((err) => {
  log().fatal({ err }, 'kiln region failed to start');
  process.exit(1);
});
