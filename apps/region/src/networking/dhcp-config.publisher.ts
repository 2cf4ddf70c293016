import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'nats';
import { ContractError, DhcpConfigUpdate, DhcpUpdate, GetDhcpConfig } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { log, withLogContext } from '../logging/logger';
import { CONTRACT_BUS } from '../nats/nats.module';
import { REGION_QUEUE } from '../racks/rack-registration.handler';
import { DhcpConfigBuilder } from './dhcp-config.builder';
import { DhcpConfigRepository } from './dhcp-config.repository';
import { senderRack } from '../racks/rack-sender';

/** Pushes DHCP updates to racks, and answers their snapshot requests (GetDhcpConfig). */
@Injectable()
export class DhcpConfigPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private sub: Subscription | null = null;

  constructor(
    @Inject(CONTRACT_BUS) private readonly bus: ContractBus,
    private readonly repo: DhcpConfigRepository,
    private readonly builder: DhcpConfigBuilder,
  ) {}

  onApplicationBootstrap() {
    this.sub = this.bus.serve(
      GetDhcpConfig,
      ['*'],
      (req, ctx) =>
        withLogContext({ rackId: req.rackId }, async () => {
          const rackId = senderRack(this.bus, ctx, req.rackId);
          // The revision and the configuration come from one consistent view.
          const snap = await this.repo.consistentRead((em) => this.builder.snapshot(em, rackId));
          if (!snap) throw new ContractError('UNKNOWN_RACK', 'no rack with this id is registered');
          log().info({ revision: snap.revision, subnets: snap.subnets.length }, 'dhcp snapshot sent');
          return snap;
        }),
      { queue: REGION_QUEUE },
    );
  }

  onModuleDestroy() {
    this.sub?.unsubscribe();
  }

  /** Sends committed updates. A rack that misses one fetches a snapshot (gap or heartbeat). */
  push(updates: DhcpUpdate[]): void {
    for (const u of updates) {
      try {
        this.bus.push(DhcpConfigUpdate, [u.rackId], u);
        log().info({ rackId: u.rackId, revision: u.revision, ops: u.ops.length }, 'dhcp update pushed');
      } catch (err) {
        log().warn({ err, rackId: u.rackId, revision: u.revision }, 'dhcp update not pushed; the rack will resync');
      }
    }
  }
}
