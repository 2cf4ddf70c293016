import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { diffDhcpSubnets, DhcpSnapshot, DhcpSubnetConfig, DhcpUpdate, IPV4_PATTERN, sortSubnets } from '@kiln/contracts';
import { mergeSnippetOptions } from '../dhcp-snippets/dhcp-snippet.parser';
import { DhcpConfigRepository } from './dhcp-config.repository';

/** DHCP configuration of the racks serving some VLANs: rack db id -> (subnet id -> subnet config). */
export interface RackDhcpConfigs {
  racks: Map<number, { systemId: string; subnets: Map<number, DhcpSubnetConfig> }>;
}

/**
 * Computes what each rack serves from the networking model. Always for a set of VLANs (the ones a
 * change touches), never for everything: a change is tracked by building the configuration of its
 * VLANs before and after, and pushing the difference to the racks concerned.
 */
@Injectable()
export class DhcpConfigBuilder {
  constructor(private readonly repo: DhcpConfigRepository) {}

  /** The VLANs plus those relaying DHCP to them (their serving racks depend on these). */
  async expandScope(em: EntityManager, vlanIds: number[]): Promise<number[]> {
    if (!vlanIds.length) return [];
    const relaying = await this.repo.relayingVlans(em, vlanIds);
    return [...new Set([...vlanIds, ...relaying])].sort((a, b) => a - b);
  }

  /** Every VLAN a rack serves DHCP on: the scope of a change that applies everywhere (a global DHCP snippet). */
  servedVlans(em: EntityManager): Promise<number[]> {
    return this.repo.servedVlanIds(em);
  }

  /** Locks the VLAN rows so that changes to the same VLANs are tracked one after the other. */
  async lockVlans(em: EntityManager, vlanIds: number[]): Promise<void> {
    if (vlanIds.length) await this.repo.lockVlans(em, vlanIds);
  }

  async build(em: EntityManager, vlanIds: number[]): Promise<RackDhcpConfigs> {
    const out: RackDhcpConfigs = { racks: new Map() };
    if (!vlanIds.length) return out;
    const vlans = await this.repo.servedVlans(em, vlanIds);
    const served = vlans.filter((v) => v.primary_id !== null);
    if (!served.length) return out;
    const rackIds = [...new Set(served.flatMap((v) => [v.primary_id, v.secondary_id]).filter((x): x is number => x !== null))];
    const racks = await this.repo.rackSystemIds(em, rackIds);
    const rackSid = new Map(racks.map((r) => [r.id, r.system_id]));
    const subnets = await this.repo.subnets(em, served.map((v) => v.id));
    const subnetIds = subnets.map((s) => s.id);
    const ranges = subnetIds.length ? await this.repo.dynamicRanges(em, subnetIds) : [];
    const reservations = subnetIds.length ? await this.repo.reservations(em, subnetIds) : [];
    const domain = await this.repo.defaultDomainName(em);
    const snippets = subnetIds.length ? await this.repo.snippets(em, subnetIds) : [];
    const globalSnippets = snippets.filter((x) => x.subnet_id === null).map((x) => x.value);
    const vlanById = new Map(served.map((v) => [v.id, v]));
    for (const s of subnets) {
      const v = vlanById.get(s.vlan_id)!;
      // DHCP snippets (global, then the subnet's own) override what the model gives.
      const o = mergeSnippetOptions([...globalSnippets, ...snippets.filter((x) => x.subnet_id === s.id).map((x) => x.value)]);
      const servers = [v.primary_id, v.secondary_id].filter((x): x is number => x !== null);
      for (const rackDbId of servers) {
        const systemId = rackSid.get(rackDbId);
        if (!systemId) continue;
        const isPrimary = rackDbId === v.primary_id;
        const peer = isPrimary ? v.secondary_id : v.primary_id;
        const config: DhcpSubnetConfig = {
          id: s.id,
          cidr: s.cidr,
          gateway: o.routers?.[0] ?? s.gateway,
          dnsServers: o.dnsServers ?? s.dns_servers.filter((d) => IPV4_PATTERN.test(d)),
          domain: o.domainName ?? domain,
          mtu: o.interfaceMtu ?? v.mtu,
          vlan: { id: v.id, vid: v.vid, fabricId: v.fabric_id },
          relayed: v.relayed,
          primary: isPrimary,
          peerRackId: peer !== null ? (rackSid.get(peer) ?? null) : null,
          disabledBootArchitectures: s.disabled_boot_architectures,
          leaseTimeS: 600,
          ...(o.ntpServers ? { ntpServers: o.ntpServers } : {}),
          ...(o.domainSearch ? { domainSearch: o.domainSearch } : {}),
          ranges: ranges.filter((r) => r.subnet_id === s.id).map((r) => ({ id: r.id, start: r.start, end: r.end })),
          reservations: reservations
            .filter((r) => r.subnet_id === s.id)
            .map((r) => ({ id: r.id, mac: r.mac, ip: r.ip, hostname: r.hostname, systemId: r.system_id })),
        };
        let rack = out.racks.get(rackDbId);
        if (!rack) out.racks.set(rackDbId, (rack = { systemId, subnets: new Map() }));
        rack.subnets.set(s.id, config);
      }
    }
    return out;
  }

  /** The full configuration of one rack, at the revision it is consistent with (call in a REPEATABLE READ transaction). */
  async snapshot(em: EntityManager, rackSystemId: string): Promise<DhcpSnapshot | null> {
    const rack = await this.repo.rackRevision(em, rackSystemId);
    if (!rack) return null;
    const built = await this.build(em, await this.repo.vlansServedByRack(em, rack.id));
    const mine = built.racks.get(rack.id);
    return { rackId: rackSystemId, revision: rack.dhcp_revision, subnets: sortSubnets([...(mine?.subnets.values() ?? [])]) };
  }

  /**
   * Runs `mutate` inside the caller's transaction and returns the DHCP updates it causes: the
   * configuration of the VLANs in scope before and after, diffed per rack, each rack's revision
   * bumped. Push the updates after the transaction commits.
   */
  async track<T>(em: EntityManager, vlanIds: number[], mutate: () => Promise<T>): Promise<{ result: T; updates: DhcpUpdate[] }> {
    await this.lockVlans(em, vlanIds);
    const scope = await this.expandScope(em, vlanIds);
    const before = await this.build(em, scope);
    const result = await mutate();
    const after = await this.build(em, scope);
    const updates: DhcpUpdate[] = [];
    const rackIds = [...new Set([...before.racks.keys(), ...after.racks.keys()])].sort((a, b) => a - b);
    for (const id of rackIds) {
      const b = before.racks.get(id);
      const a = after.racks.get(id);
      const ops = diffDhcpSubnets(b?.subnets ?? new Map(), a?.subnets ?? new Map());
      if (!ops.length) continue;
      const revision = await this.repo.bumpRevision(em, id);
      const systemId = (a ?? b)!.systemId;
      updates.push({ rackId: systemId, baseRevision: revision - 1, revision, ops });
    }
    return { result, updates };
  }
}
