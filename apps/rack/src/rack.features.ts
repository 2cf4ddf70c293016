import type { DynamicModule, Type } from '@nestjs/common';
import type { RackService } from './config/rack.config';
import { HttpBootModule, TftpModule } from './boot/boot-servers.module';
import { DhcpModule } from './dhcp/dhcp.module';
import { ImagesModule } from './images/image-sync.service';
import { NeighboursModule } from './neighbours/neighbours.watcher';
import { PowerModule } from './power/power.module';

/**
 * The rack's servers, one Nest module each, imported by RackModule. Each can inject what the rack
 * core exports: RACK_CONFIG, RACK_IDENTITY, RackNatsConnection (and its ContractBus, for the rack's
 * own `rack.<rackId>.*` handlers such as power), DhcpConfigFeed (the DHCP configuration and its
 * changes), BOOT_CONFIG_SOURCE (what a MAC boots, cached) and RackEventsPublisher (lease and boot
 * events to the region). dhcp/dhcp-server.adapter.ts maps these to the servers' ports
 * (DhcpConfig, LeaseEventSink, TransferEvents). Add DhcpModule, TftpModule, HttpBootModule and
 * PowerModule here.
 */
export const RACK_FEATURES: Record<RackService, Array<Type<unknown> | DynamicModule>> = {
  // Hosts seen by ARP are reported where the rack serves DHCP: the networks it manages.
  dhcp: [DhcpModule, NeighboursModule],
  tftp: [TftpModule, ImagesModule],
  http: [HttpBootModule, ImagesModule],
  power: [PowerModule],
};

/** The modules of the services a rack runs. */
export function featuresFor(services: readonly RackService[]): Array<Type<unknown> | DynamicModule> {
  return [...new Set(services.flatMap((s) => RACK_FEATURES[s]))];
}
