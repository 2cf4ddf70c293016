import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { firstFreeAddress } from './free-address';
import { formatIp, parseCidr, parseIp, usableRange } from './ip.address';
import { NetworkingRepository, type SubnetRow } from './networking.repository';

/**
 * Picks addresses for interfaces (sticky STATIC links, clones, AUTO links at deployment): the
 * lowest usable address of the subnet outside its dynamic and reserved ranges, its gateway and
 * DNS servers, and every address already held (static addresses and those interfaces reported).
 * Every caller works inside a transaction and locks the subnet first, so two allocations on one
 * subnet queue instead of picking the same address.
 */
@Injectable()
export class AddressAllocator {
  constructor(private readonly networks: NetworkingRepository) {}

  /** Locks the subnet's row for the rest of the transaction. */
  lock(em: EntityManager, subnetId: number): Promise<void> {
    return this.networks.lockSubnet(em, subnetId);
  }

  /** The addresses of the subnet already held. */
  taken(em: EntityManager, subnet: SubnetRow): Promise<string[]> {
    return this.networks.heldAddresses(em, subnet.id, subnet.cidr);
  }

  /** The first free address (call lock() first); null when the subnet is full. */
  async firstFree(em: EntityManager, subnet: SubnetRow): Promise<string | null> {
    const cidr = parseCidr(subnet.cidr);
    if (!cidr) return null;
    const taken: [bigint, bigint][] = [];
    for (const r of await this.networks.ranges(em, { subnetId: subnet.id })) {
      const [start, end] = [parseIp(r.start_ip), parseIp(r.end_ip)];
      if (start && end && start.family === cidr.family) taken.push([start.value, end.value]);
    }
    for (const ip of [...(await this.taken(em, subnet)), subnet.gateway_ip, ...(subnet.dns_servers ?? [])]) {
      const p = ip ? parseIp(ip) : null;
      if (p && p.family === cidr.family) taken.push([p.value, p.value]);
    }
    const free = firstFreeAddress(usableRange(cidr), taken);
    return free === null ? null : formatIp({ family: cidr.family, value: free });
  }
}
