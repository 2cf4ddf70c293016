import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { BootEvent, BootEvents, LeaseEvent, LeaseEvents, NeighbourEvent, NeighbourEvents, rackIdOfSubject } from '@kiln/contracts';
import { Consumption, ContractBus, DurableMeta } from '@kiln/contracts/nats';
import { EventsRepository } from '../events/events.repository';
import { log, withLogContext } from '../logging/logger';
import { CONTRACT_BUS } from '../nats/nats.module';
import { bootStepRecord, CataloguedEvent, leaseEventRecord } from './rack-events.catalogue';
import { DiscoveriesService } from '../discoveries/discoveries.service';

/** Durable consumer names: shared by every region, so each event is applied by one of them. */
export const LEASE_CONSUMER = 'region-lease-events';
export const BOOT_CONSUMER = 'region-boot-events';
export const NEIGHBOUR_CONSUMER = 'region-neighbour-events';

export type Applied = 'applied' | 'duplicate' | 'unknown-mac' | 'not-served';

/**
 * Applies the lease and boot events racks publish to JetStream. At-least-once delivery, exactly-once
 * effect: each event's id goes into rack_event_receipts in the same transaction as its effect, so
 * a redelivered event (a region died before acking, an ack was lost) is recognised and skipped.
 */
@Injectable()
export class RackEventsConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumptions: Consumption[] = [];
  /** Neighbour sightings dropped since start, by reason (logged with each drop). */
  readonly neighbourDrops = { wrongSender: 0, unknownRack: 0, unknownInterface: 0 };

  constructor(
    @Inject(CONTRACT_BUS) private readonly bus: ContractBus,
    private readonly ds: DataSource,
    private readonly events: EventsRepository,
    private readonly discoveries: DiscoveriesService,
  ) {}

  async onApplicationBootstrap() {
    // Both contracts live in one stream; every region makes sure it exists (idempotent).
    await this.bus.ensureStream(LeaseEvents);
    this.consumptions = [
      await this.bus.consumeDurable(
        LeaseEvents,
        { durable: LEASE_CONSUMER, filterSubject: LeaseEvents.subject('*'), ackWaitMs: 30_000 },
        (e, meta) =>
          withLogContext({ rackId: e.rackId, mac: e.mac, eventId: e.eventId }, () =>
            this.fromSender(e, meta) ? this.applyLease(e).then(() => undefined) : Promise.resolve(),
          ),
      ),
      await this.bus.consumeDurable(
        BootEvents,
        { durable: BOOT_CONSUMER, filterSubject: BootEvents.subject('*'), ackWaitMs: 30_000 },
        (e, meta) =>
          withLogContext({ rackId: e.rackId, mac: e.mac, eventId: e.eventId }, () =>
            this.fromSender(e, meta) ? this.applyBoot(e).then(() => undefined) : Promise.resolve(),
          ),
      ),
      await this.bus.consumeDurable(
        NeighbourEvents,
        { durable: NEIGHBOUR_CONSUMER, filterSubject: NeighbourEvents.subject('*'), ackWaitMs: 30_000 },
        (e, meta) =>
          withLogContext({ rackId: e.rackId, eventId: e.eventId }, () => {
            if (this.fromSender(e, meta)) return this.applyNeighbours(e).then(() => undefined);
            this.neighbourDrops.wrongSender += e.neighbours.length;
            return Promise.resolve();
          }),
      ),
    ];
  }

  async onModuleDestroy() {
    await Promise.all(this.consumptions.map((c) => c.stop()));
    this.consumptions = [];
  }

  /**
   * The NATS server lets a rack publish events only under its own id, so the subject names the
   * sender; an event whose payload names another rack is dropped (acknowledged, not applied).
   */
  private fromSender(e: { rackId: string }, meta: DurableMeta): boolean {
    const sender = rackIdOfSubject(this.bus.prefix, meta.subject);
    if (sender === e.rackId) return true;
    log().warn({ sender, subject: meta.subject }, 'rack event dropped: its payload names another rack than its sender');
    return false;
  }

  async applyLease(e: LeaseEvent): Promise<Applied> {
    return this.once(e.eventId, e.rackId, async (em) => {
      if (!(await this.serves(em, e.rackId, e.ip))) {
        // A rack leases only from the subnets of the VLANs it serves (directly or through a relay):
        // a lease for any other address is not this rack's to report.
        log().warn({ ip: e.ip, action: e.action }, 'lease event dropped: the address is on no subnet this rack serves DHCP for');
        return 'not-served';
      }
      if (e.action === 'commit' || e.action === 'renew') {
        // A device asked this rack for a lease: a discovery (known machine or not).
        await this.discoveries.observe(em, { rackSystemId: e.rackId, interfaceName: e.iface, ip: e.ip, mac: e.mac, hostname: e.hostname, source: 'dhcp' });
      }
      const m = await this.machineByMac(em, e.mac);
      if (!m) {
        log().debug({ ip: e.ip, action: e.action }, 'lease for a MAC no machine has');
        return 'unknown-mac';
      }
      if (e.action === 'commit' || e.action === 'renew') {
        await em.query(`UPDATE interfaces SET ip_address = $2 WHERE id = $1 AND ip_address IS DISTINCT FROM $2::inet`, [m.ifaceId, e.ip]);
      } else if (e.action === 'release' || e.action === 'expire') {
        await em.query(`UPDATE interfaces SET ip_address = NULL WHERE id = $1 AND ip_address = $2::inet`, [m.ifaceId, e.ip]);
      }
      await this.record(em, m, leaseEventRecord(e));
      log().info({ systemId: m.systemId, ip: e.ip, action: e.action }, 'lease applied');
      return 'applied';
    });
  }

  async applyBoot(e: BootEvent): Promise<Applied> {
    return this.once(e.eventId, e.rackId, async (em) => {
      const m = await this.machineByMac(em, e.mac);
      if (!m) return 'unknown-mac';
      await this.record(em, m, bootStepRecord(e));
      return 'applied';
    });
  }

  /** Hosts a rack saw by ARP: discoveries with source 'arp'; sightings from unknown racks or interfaces are counted and dropped. */
  async applyNeighbours(e: NeighbourEvent): Promise<Applied> {
    return this.once(e.eventId, e.rackId, async (em) => {
      const r = await this.discoveries.observeSightings(em, e.rackId, e.neighbours);
      this.neighbourDrops.unknownRack += r.dropped.unknownRack;
      this.neighbourDrops.unknownInterface += r.dropped.unknownInterface;
      if (r.dropped.unknownRack || r.dropped.unknownInterface) {
        log().warn({ ...r.dropped, totals: this.neighbourDrops }, 'neighbour sightings dropped: unknown rack or interface');
      }
      log().debug({ stored: r.stored }, 'neighbour sightings recorded');
      return r.stored ? 'applied' : 'not-served';
    });
  }

  private async once(eventId: string, rackId: string, effect: (em: EntityManager) => Promise<Applied>): Promise<Applied> {
    return this.ds.transaction(async (em) => {
      const fresh = await em.query(
        `INSERT INTO rack_event_receipts (event_id, rack_id) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
        [eventId, rackId],
      );
      if (fresh.length === 0) {
        log().debug('rack event already applied; redelivery ignored');
        return 'duplicate';
      }
      return effect(em);
    });
  }

  /** Whether `ip` lies in a subnet of a VLAN `rackId` is primary or secondary for, or that relays to one. */
  private async serves(em: EntityManager, rackId: string, ip: string): Promise<boolean> {
    const rows = await em.query(
      `SELECT 1 FROM subnets s
         JOIN vlans v ON v.id = s.vlan_id
         LEFT JOIN vlans rv ON rv.id = v.relay_vlan_id
         JOIN rack_controllers r ON r.system_id = $1
        WHERE $2::inet << s.cidr
          AND (r.id IN (v.primary_rack_id, v.secondary_rack_id) OR r.id IN (rv.primary_rack_id, rv.secondary_rack_id))
        LIMIT 1`,
      [rackId, ip],
    );
    return rows.length > 0;
  }

  private async machineByMac(em: EntityManager, mac: string) {
    const [row] = await em.query(
      `SELECT m.id, m.system_id, m.hostname, i.id AS iface_id FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE i.mac_address = $1 AND i.type = 'physical'`,
      [mac],
    );
    return row ? { id: row.id as number, systemId: row.system_id as string, hostname: row.hostname as string, ifaceId: row.iface_id as number } : null;
  }

  private record(em: EntityManager, m: { id: number; systemId: string; hostname: string }, e: CataloguedEvent) {
    return this.events.append({ machineId: m.id, systemId: m.systemId, hostname: m.hostname, ...e }, em);
  }
}
