import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { conflict, invalid, notFound } from '../common/domain.error';
import { log } from '../logging/logger';
import { DiscoveriesRepository, DiscoveryFilter, DiscoveryRow } from './discoveries.repository';
import { parseDiscoveryId } from './discovery.id';

/**
 * Devices the racks saw on their networks (MAAS's discoveries). Kiln's racks observe DHCP: every
 * lease a rack grants or renews (client MAC, address, hostname option) is recorded against the
 * rack and interface that saw it. They do not sniff ARP and do not scan.
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

  /** MAAS asks the racks to scan with nmap or ping; Kiln's racks do not scan. */
  scan(): never {
    throw conflict(
      'Kiln rack controllers do not scan networks (no nmap or ping sweep). Discoveries come from the DHCP requests the racks answer: ' +
        'a device shows up once it asks a rack for a lease.',
    );
  }
}
