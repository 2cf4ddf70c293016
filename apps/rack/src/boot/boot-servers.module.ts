import { mkdirSync } from 'node:fs';
import { Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { RackEventsPublisher } from '../events/rack-events.publisher';
import { HttpBootServer } from '../http/http-boot.server';
import { log } from '../logging/logger';
import { transferEvents } from '../dhcp/dhcp-server.adapter';
import { discoverInterfaces } from '../registration/interfaces.discovery';
import { TftpServer } from '../tftp/tftp.server';
import { BOOT_CONFIG_SOURCE, BootConfigSource } from './boot-config.source';
import { addressFacing, BootFilesRenderer } from './boot-files.renderer';

function rackCidrs(config: RackConfig): string[] {
  return discoverInterfaces(config.interfaces).flatMap((i) => i.addresses);
}

function renderer(config: RackConfig, source: BootConfigSource): BootFilesRenderer {
  return new BootFilesRenderer(source, (client) => addressFacing(rackCidrs(config), client), config.ports.http, log());
}

/**
 * TFTP on every IPv4 address of the rack's interfaces (one server per address, so replies leave
 * from the address the client asked: Node cannot read a datagram's destination address).
 */
@Injectable()
export class RackTftpService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly servers: TftpServer[] = [];

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(BOOT_CONFIG_SOURCE) private readonly source: BootConfigSource,
    @Inject(RackEventsPublisher) private readonly publisher: RackEventsPublisher,
  ) {}

  async onApplicationBootstrap() {
    mkdirSync(this.config.bootRoot, { recursive: true });
    const addresses =
      this.config.tftpAddresses ??
      rackCidrs(this.config)
        .filter((c) => /^\d+\.\d+\.\d+\.\d+\//.test(c))
        .map((c) => c.split('/')[0]);
    const files = renderer(this.config, this.source);
    for (const address of addresses) {
      const server = new TftpServer(
        { address, port: this.config.ports.tftp, root: this.config.bootRoot },
        { bootFiles: files, events: transferEvents(this.publisher), log: log() },
      );
      try {
        const bound = await server.listen();
        this.servers.push(server);
        log().info({ address: bound.address, port: bound.port, root: this.config.bootRoot }, 'tftp serving');
      } catch (err) {
        log().error({ err, address, port: this.config.ports.tftp }, 'tftp could not listen on this address; other services go on');
      }
    }
  }

  async onApplicationShutdown() {
    await Promise.all(this.servers.map((s) => s.close()));
  }
}

/** HTTP boot (images, per-machine iPXE scripts) and the region proxy for booting machines. */
@Injectable()
export class RackHttpBootService implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: HttpBootServer | null = null;

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(BOOT_CONFIG_SOURCE) private readonly source: BootConfigSource,
    @Inject(RackEventsPublisher) private readonly publisher: RackEventsPublisher,
  ) {}

  async onApplicationBootstrap() {
    mkdirSync(this.config.bootRoot, { recursive: true });
    const server = new HttpBootServer(
      { address: '0.0.0.0', port: this.config.ports.http, root: this.config.bootRoot, regionUrl: this.config.regionUrl ?? undefined },
      { bootFiles: renderer(this.config, this.source), events: transferEvents(this.publisher), log: log() },
    );
    try {
      const bound = await server.listen();
      this.server = server;
      log().info({ port: bound.port, root: this.config.bootRoot, region: this.config.regionUrl }, 'http boot serving');
    } catch (err) {
      log().error({ err, port: this.config.ports.http }, 'http boot could not listen; other services go on');
    }
  }

  async onApplicationShutdown() {
    await this.server?.close();
  }
}

@Module({ providers: [RackTftpService] })
export class TftpModule {}

@Module({ providers: [RackHttpBootService] })
export class HttpBootModule {}
