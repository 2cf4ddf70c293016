import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { conflict } from '../common/domain.error';
import { log } from '../logging/logger';
import { AddressAllocator } from '../networking/address.allocator';
import { NetworkingRepository } from '../networking/networking.repository';
import { MachinesRepository } from './machines.repository';

/**
 * AUTO links (MAAS): an interface linked AUTO to a subnet gets its address when the machine
 * deploys, picked like a STATIC one, and gives it back when the machine is released. Both run
 * inside the lifecycle transaction, so a deploy either has every address or none, and a subnet
 * with nothing left refuses the deploy naming the subnet and the interface.
 */
@Injectable()
export class AutoAddressesService {
  constructor(
    private readonly machines: MachinesRepository,
    private readonly networks: NetworkingRepository,
    private readonly addresses: AddressAllocator,
  ) {}

  /** Addresses for every AUTO link that has none; what was assigned (interface name and address). */
  async claim(em: EntityManager, machine: { id: number; systemId: string; hostname: string }): Promise<{ interface: string; ip: string }[]> {
    const out: { interface: string; ip: string }[] = [];
    for (const l of await this.machines.autoLinksWithoutAddress(em, machine.id)) {
      const [subnet] = await this.networks.subnets(em, { id: l.subnet_id });
      if (!subnet) continue;
      await this.addresses.lock(em, subnet.id);
      const ip = await this.addresses.firstFree(em, subnet);
      if (!ip) throw conflict(`Cannot deploy ${machine.hostname}: no free address is left on subnet ${subnet.cidr} for the AUTO link of ${l.interface_name}.`);
      await this.machines.assignAutoAddress(em, l.link_id, { ip, subnetId: subnet.id, interfaceId: l.interface_id });
      out.push({ interface: l.interface_name, ip });
    }
    if (out.length) log().info({ systemId: machine.systemId, hostname: machine.hostname, addresses: out }, 'AUTO links given their addresses for the deployment');
    return out;
  }

  /** Frees what claim() assigned. */
  async release(em: EntityManager, machine: { id: number; systemId: string }): Promise<void> {
    const n = await this.machines.releaseAutoAddresses(em, machine.id);
    if (n) log().info({ systemId: machine.systemId, released: n }, 'AUTO link addresses released');
  }
}
