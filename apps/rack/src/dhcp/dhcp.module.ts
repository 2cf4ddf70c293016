import { join } from 'node:path';
import { Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BOOT_CONFIG_SOURCE, BootConfigSource } from '../boot/boot-config.source';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { RackEventsPublisher } from '../events/rack-events.publisher';
import { log } from '../logging/logger';
import { DhcpConfigFeed } from './dhcp-config.feed';
import { leaseEventSink, toDhcpServerConfig } from './dhcp-server.adapter';
import { discoverInterfaces } from '../registration/interfaces.discovery';
import { RackBootDecisions } from '../boot/boot-decision.adapter';
import type { DhcpConfig, DhcpConfigSource } from './dhcp-config.port';
import { RunningDhcp, startDhcp } from './dhcp.runtime';

/** The region's DHCP configuration for this rack (snapshot + incremental updates), as the server's port. */
class FeedConfigSource implements DhcpConfigSource {
  constructor(
    private readonly feed: DhcpConfigFeed,
    private readonly config: RackConfig,
  ) {}

  current(): DhcpConfig {
    return {
      ...toDhcpServerConfig(this.feed.current(), discoverInterfaces(this.config.interfaces)),
      maxOffersPerSubnet: this.config.dhcp.maxOffersPerSubnet,
      offerHoldSeconds: this.config.dhcp.offerHoldSeconds,
    };
  }

  subscribe(listener: (config: DhcpConfig) => void): () => void {
    return this.feed.onChange(() => listener(this.current()));
  }
}

@Injectable()
export class RackDhcpService implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: RunningDhcp | null = null;

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(DhcpConfigFeed) private readonly feed: DhcpConfigFeed,
    @Inject(BOOT_CONFIG_SOURCE) private readonly source: BootConfigSource,
    @Inject(RackEventsPublisher) private readonly publisher: RackEventsPublisher,
  ) {}

  async onApplicationBootstrap() {
    try {
      this.running = await startDhcp({
        config: new FeedConfigSource(this.feed, this.config),
        boot: new RackBootDecisions(this.source, this.config.ports.http),
        events: leaseEventSink(this.publisher),
        log: log(),
        leaseFile: join(this.config.stateDir, 'dhcp-leases.journal'),
        listener: { port: this.config.ports.dhcp },
      });
      log().info({ port: this.config.ports.dhcp }, 'dhcp serving');
    } catch (err) {
      log().error({ err, port: this.config.ports.dhcp }, 'dhcp could not start; other services go on');
    }
  }

  async onApplicationShutdown() {
    await this.running?.stop();
  }
}

@Module({ providers: [RackDhcpService] })
export class DhcpModule {}
