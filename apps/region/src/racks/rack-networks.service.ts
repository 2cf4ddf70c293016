import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RackInterface } from '@kiln/contracts';
import type { RackInterfaceRecord } from '@kiln/db';
import { log } from '../logging/logger';
import { canonicalJson, linkOrder, observedLinks } from './rack-networks.plan';
import { RackNetworksRepository } from './rack-networks.repository';

/**
 * What MAAS's Controller.update_interfaces does for a rack's interfaces, in Kiln's model: an
 * interface with an address on a known subnet joins that subnet's VLAN (and fabric); one on a new
 * network gets a new fabric with its untagged VLAN and the subnet; a VLAN interface (eth0.100) is
 * put on VLAN 100 of its parent's fabric. Fabrics, VLANs and subnets are never removed here, nor is
 * DHCP turned on: the rack is now on those VLANs, so an operator may make it their primary rack.
 * The rack's interfaces are stored with their VLAN and links; a report equal to the stored one
 * changes nothing.
 */
@Injectable()
export class RackNetworksService {
  constructor(private readonly repo: RackNetworksRepository) {}

  /** Links and stores the rack's interfaces; null when the rack is unknown, else whether anything changed. */
  sync(systemId: string, interfaces: readonly RackInterface[]): Promise<{ changed: boolean } | null> {
    return this.repo.transaction(async (em) => {
      const rack = await this.repo.rackForUpdate(em, systemId);
      if (!rack) return null;
      const before = new Map(rack.interfaces.map((i) => [i.name, i]));
      const done = new Map<string, RackInterfaceRecord>();
      const created: string[] = [];
      for (const iface of linkOrder(interfaces)) {
        const links = observedLinks(iface.addresses);
        let vlanId: number | null = null;
        const known: Map<string, number> = new Map();
        for (const l of links) {
          const s = await this.repo.subnetByCidr(em, l.cidr);
          if (s) {
            known.set(l.cidr, s.id);
            vlanId ??= s.vlanId;
          }
        }
        if (vlanId === null) vlanId = await this.previousVlan(em, before.get(iface.name), iface);
        if (vlanId === null && iface.vlan !== null) {
          // A VLAN interface: VLAN <vid> of its parent's fabric (a new fabric when the parent is on none).
          const parentVlan = iface.parent ? done.get(iface.parent)?.vlanId : null;
          const parent = parentVlan ? await this.repo.vlan(em, parentVlan) : null;
          const fabricId = parent?.fabricId ?? (links.length ? (await this.repo.newFabric(em)).fabricId : null);
          if (fabricId !== null) vlanId = await this.repo.ensureVlan(em, fabricId, iface.vlan);
        } else if (vlanId === null && links.length) {
          vlanId = (await this.repo.newFabric(em)).untaggedVlanId;
        }
        const recorded: { ip: string; cidr: string; subnetId: number }[] = [];
        for (const l of links) {
          let subnetId = known.get(l.cidr) ?? null;
          if (subnetId === null && vlanId !== null) {
            subnetId = await this.repo.insertSubnet(em, l.cidr, vlanId);
            if (subnetId !== null) created.push(l.cidr);
          }
          if (subnetId !== null) recorded.push({ ...l, subnetId });
        }
        done.set(iface.name, {
          name: iface.name,
          mac: iface.mac,
          addresses: iface.addresses,
          vlan: iface.vlan,
          ...(iface.parent ? { parent: iface.parent } : {}),
          vlanId,
          links: recorded,
        });
      }
      const next = [...done.values()].sort((a, b) => a.name.localeCompare(b.name));
      const changed = canonicalJson(next) !== canonicalJson(rack.interfaces);
      if (changed) {
        await this.repo.saveInterfaces(em, rack.id, next);
        log().info({ rackId: systemId, interfaces: next.length, newSubnets: created }, 'rack interfaces linked to their networks');
      }
      return { changed };
    });
  }

  /** The VLAN the interface was on, if it still exists and (for a VLAN interface) still has its vid. */
  private async previousVlan(em: EntityManager, prev: RackInterfaceRecord | undefined, iface: RackInterface): Promise<number | null> {
    if (!prev?.vlanId || prev.mac !== iface.mac || prev.vlan !== iface.vlan) return null;
    const v = await this.repo.vlan(em, prev.vlanId);
    if (!v) return null;
    if (iface.vlan !== null && v.vid !== iface.vlan) return null;
    return v.id;
  }
}
