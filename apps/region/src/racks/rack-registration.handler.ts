import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'nats';
import { ContractError, PROTOCOL_VERSION, RackHeartbeat, RegisterRack, ReportRackInterfaces, RequestOf } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { log, withLogContext } from '../logging/logger';
import { CONTRACT_BUS } from '../nats/nats.module';
import { RackNetworksService } from './rack-networks.service';
import { RacksRepository } from './racks.repository';
import { senderRack } from './rack-sender';

/** Every region answers in one queue group, so each request is handled once. */
export const REGION_QUEUE = 'kiln-region';

/** Answers RegisterRack and RackHeartbeat. */
@Injectable()
export class RackRegistrationHandler implements OnApplicationBootstrap, OnModuleDestroy {
  private subs: Subscription[] = [];

  constructor(
    @Inject(CONTRACT_BUS) private readonly bus: ContractBus,
    @Inject(REGION_CONFIG) private readonly config: RegionConfig,
    private readonly racks: RacksRepository,
    private readonly networks: RackNetworksService,
  ) {}

  onApplicationBootstrap() {
    this.subs = [
      this.bus.serve(
        RegisterRack,
        ['*'],
        (req, ctx) => withLogContext({ rackId: req.rackId }, () => this.register({ ...req, rackId: senderRack(this.bus, ctx, req.rackId) })),
        { queue: REGION_QUEUE },
      ),
      this.bus.serve(
        RackHeartbeat,
        ['*'],
        (req, ctx) => withLogContext({ rackId: req.rackId }, () => this.heartbeat({ ...req, rackId: senderRack(this.bus, ctx, req.rackId) })),
        { queue: REGION_QUEUE },
      ),
      this.bus.serve(
        ReportRackInterfaces,
        ['*'],
        (req, ctx) =>
          withLogContext({ rackId: req.rackId }, () => this.interfaces({ ...req, rackId: senderRack(this.bus, ctx, req.rackId) })),
        { queue: REGION_QUEUE },
      ),
    ];
  }

  onModuleDestroy() {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }

  async register(req: RequestOf<typeof RegisterRack>) {
    // Who is registering is proven by the NATS server: only this rack's nkey may publish under its
    // id (senderRack checked the subject against the payload).
    if (req.protocol > PROTOCOL_VERSION) {
      // A newer rack talks to an older region: it must not assume what this region cannot do.
      throw new ContractError('UNSUPPORTED_PROTOCOL', `this region speaks protocol ${PROTOCOL_VERSION}, the rack ${req.protocol}`);
    }
    const r = await this.racks.upsert({
      systemId: req.rackId,
      hostname: req.hostname,
      version: req.version,
      architecture: req.architecture,
      interfaces: req.interfaces.map((i) => ({ name: i.name, mac: i.mac, addresses: i.addresses, vlan: i.vlan })),
      boxPublicKey: req.boxPublicKey,
      powerUnavailable: req.powerUnavailable,
    });
    await this.networks.sync(req.rackId, req.interfaces);
    if (req.powerUnavailable && Object.keys(req.powerUnavailable).length) {
      log().warn({ hostname: req.hostname, powerUnavailable: req.powerUnavailable }, 'rack cannot drive some power types; their commands go to other racks');
    }
    log().info(
      { hostname: req.hostname, version: req.version, interfaces: req.interfaces.length, created: r.created },
      r.created ? 'rack registered for the first time' : 'rack registered',
    );
    return { rackId: req.rackId, heartbeatIntervalMs: this.config.racks.heartbeatIntervalMs, dhcpRevision: r.dhcpRevision };
  }

  /** A registered rack's interfaces changed: link them to their networks again. */
  async interfaces(req: RequestOf<typeof ReportRackInterfaces>) {
    const r = await this.networks.sync(req.rackId, req.interfaces);
    if (!r) throw new ContractError('UNKNOWN_RACK', 'no rack with this id is registered; register first');
    return r;
  }

  async heartbeat(req: RequestOf<typeof RackHeartbeat>) {
    const r = await this.racks.heartbeat(req.rackId);
    if (!r) throw new ContractError('UNKNOWN_RACK', 'no rack with this id is registered; register first');
    if (r.was === 'dead') log().info('rack is back: heartbeat after it was marked dead');
    return { dhcpRevision: r.dhcpRevision, heartbeatIntervalMs: this.config.racks.heartbeatIntervalMs };
  }
}
