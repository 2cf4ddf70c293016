import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { renderNatsServerConfig } from '@kiln/contracts';
import { enrolledRackNkeys, regionNkeyPublicKey, reloadNatsServer, writeNatsServerConfig } from '@kiln/db';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { log } from '../logging/logger';

/**
 * Keeps the NATS server's config in step with the database: one nkey user per enrolled rack
 * (least privilege under its own id) and the region's. Written atomically when it changed, then
 * the server is told to reload (SIGHUP to the pid in its pid file): a revoked rack is cut off at
 * once, a new one may connect. Every region does this on enrollment and revocation and in its
 * periodic upkeep, so a change made by another region reaches this one's server within a sweep.
 */
@Injectable()
export class NatsServerConfigWriter implements OnApplicationBootstrap, OnModuleDestroy {
  private regionNkey: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ds: DataSource,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
  ) {}

  async onApplicationBootstrap() {
    if (!this.enabled) return;
    await this.sync();
    // This region's own NATS server follows changes other regions made, within a sweep.
    this.timer = setInterval(() => {
      this.sync().catch((err) => log().error({ err }, 'could not bring the NATS server config up to date'));
    }, this.config.lifecycle.sweepIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy() {
    if (this.timer) clearInterval(this.timer);
  }

  get enabled(): boolean {
    return this.config.nats.server !== null;
  }

  /** The config as it should be now. */
  async render(): Promise<string | null> {
    const server = this.config.nats.server;
    if (!server || !this.config.nats.nkeyFile) return null;
    return renderNatsServerConfig({
      listen: server.listen,
      jetstreamDir: server.jetstreamDir,
      pidFile: server.pidFile,
      prefix: this.config.nats.prefix,
      regionNkeys: [(this.regionNkey ??= regionNkeyPublicKey(this.config.nats.nkeyFile))],
      racks: await enrolledRackNkeys(this.ds),
      ...(server.tls ? { tls: server.tls } : {}),
    });
  }

  /** Writes the config if it changed and makes the server reload it; true when it changed. */
  async sync(): Promise<boolean> {
    const server = this.config.nats.server;
    const text = await this.render();
    if (!server || text === null || !(await writeNatsServerConfig(server.configFile, text))) return false;
    const pid = await reloadNatsServer(server.pidFile);
    if (pid === null) log().warn({ pidFile: server.pidFile }, 'NATS server config written but no server to signal; it applies when the server starts');
    else log().info({ pid }, 'NATS server config changed; server reloading');
    return true;
  }
}
