import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { conflict, invalid, notFound } from '../common/domain.error';
import { log } from '../logging/logger';
import { DiscoveriesRepository, DiscoveryFilter, DiscoveryRow } from './discoveries.repository';
import { parseDiscoveryId } from './discovery.id';

/** One host a rack saw by ARP (the NeighbourEvents contract's sighting). */
export interface NeighbourSightingInput {
  iface: string;
  ip: string;
  mac: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

/**
 * Devices the racks saw on their networks (MAAS's discoveries). Kiln's racks observe DHCP (every
 * lease a rack grants or renews: client MAC, address, hostname option) and ARP (the hosts in the
 * kernel neighbour table of the interfaces they serve, reported in batches); each observation is
 * recorded against the rack and interface that saw it, with its source. They do not scan.
 */
@Injectable()
export class DiscoveriesService {
  constructor(private readonly repo: DiscoveriesRepository) {}

  list(filter: DiscoveryFilter): Promise<DiscoveryRow[]> {
    return this.repo.list(filter);
  }

  async get(id: string): Promise<DiscoveryRow> {
    const key = parseDiscoveryId(id);
    const [row] = key ? await this.repo.list('all', key) : [];
    if (!row) throw notFound('No Discovery matches the given query.');
    return row;
  }

  /** A rack saw `mac` use `ip` on `interfaceName` (in the caller's transaction when given). */
  async observe(em: EntityManager | undefined, o: { rackSystemId: string; interfaceName?: string; ip: string; mac: string; hostname?: string; source: 'dhcp' }) {
    await this.repo.observe(em, { ...o, interfaceName: o.interfaceName ?? '', hostname: o.hostname ?? '' });
  }

  /**
   * Hosts a rack saw by ARP, aggregated over its report period. A sighting on an interface the
   * rack never reported is dropped and counted; so is a whole batch from an unknown rack.
   */
  async observeSightings(
    em: EntityManager | undefined,
    rackSystemId: string,
    sightings: readonly NeighbourSightingInput[],
  ): Promise<{ stored: number; dropped: { unknownRack: number; unknownInterface: number } }> {
    const names = await this.repo.rackInterfaceNames(em, rackSystemId);
    if (names === null) return { stored: 0, dropped: { unknownRack: sightings.length, unknownInterface: 0 } };
    const known = sightings.filter((x) => names.has(x.iface));
    await this.repo.observeMany(
      em,
      rackSystemId,
      'arp',
      known.map((x) => ({ interfaceName: x.iface, ip: x.ip, mac: x.mac, count: x.count, firstSeen: x.firstSeen, lastSeen: x.lastSeen })),
    );
    return { stored: known.length, dropped: { unknownRack: 0, unknownInterface: sightings.length - known.length } };
  }

  /** MAAS's clear: one of neighbours, mdns or all must be true (Kiln keeps no mDNS entries). */
  async clear(what: { all: boolean; mdns: boolean; neighbours: boolean }, by: string): Promise<void> {
    if (!what.all && !what.mdns && !what.neighbours) {
      throw invalid('Bad request: could not determine what data to clear.\nMust specify mdns=True, neighbours=True, or all=True.');
    }
    if (what.all || what.neighbours) {
      const n = await this.repo.clear();
      log().info({ by, cleared: n }, 'discoveries cleared');
    }
  }

  /** MAAS asks the racks to scan with nmap or ping; Kiln's racks do not scan (they listen: DHCP and ARP). */
  scan(): never {
    throw conflict(
      'Kiln rack controllers do not scan networks (no nmap or ping sweep). Discoveries come from the DHCP requests the racks answer ' +
        'and the ARP traffic they see: a device shows up once it asks a rack for a lease or talks to it.',
    );
  }
}
