import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { diffDhcpSubnets, DhcpSnapshot, DhcpSubnetConfig, DhcpUpdate, IPV4_PATTERN, sortSubnets } from '@kiln/contracts';

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
  /** The VLANs plus those relaying DHCP to them (their serving racks depend on these). */
  async expandScope(em: EntityManager, vlanIds: number[]): Promise<number[]> {
    if (!vlanIds.length) return [];
    const rows: { id: number }[] = await em.query(`SELECT id FROM vlans WHERE relay_vlan_id = ANY($1)`, [vlanIds]);
    return [...new Set([...vlanIds, ...rows.map((r) => r.id)])].sort((a, b) => a - b);
  }

  /** Locks the VLAN rows so that changes to the same VLANs are tracked one after the other. */
  async lockVlans(em: EntityManager, vlanIds: number[]): Promise<void> {
    if (vlanIds.length) await em.query(`SELECT id FROM vlans WHERE id = ANY($1) ORDER BY id FOR UPDATE`, [vlanIds]);
  }

  async build(em: EntityManager, vlanIds: number[]): Promise<RackDhcpConfigs> {
    const out: RackDhcpConfigs = { racks: new Map() };
    if (!vlanIds.length) return out;
    const vlans: {
      id: number;
      vid: number;
      fabric_id: number;
      mtu: number;
      primary_id: number | null;
      secondary_id: number | null;
      relayed: boolean;
    }[] = await em.query(
      `SELECT v.id, v.vid, v.fabric_id, v.mtu,
              CASE WHEN v.dhcp_on THEN v.primary_rack_id WHEN rv.dhcp_on THEN rv.primary_rack_id END AS primary_id,
              CASE WHEN v.dhcp_on THEN v.secondary_rack_id WHEN rv.dhcp_on THEN rv.secondary_rack_id END AS secondary_id,
              (NOT v.dhcp_on AND COALESCE(rv.dhcp_on, false)) AS relayed
         FROM vlans v LEFT JOIN vlans rv ON rv.id = v.relay_vlan_id
        WHERE v.id = ANY($1)`,
      [vlanIds],
    );
    const served = vlans.filter((v) => v.primary_id !== null);
    if (!served.length) return out;
    const rackIds = [...new Set(served.flatMap((v) => [v.primary_id, v.secondary_id]).filter((x): x is number => x !== null))];
    const racks: { id: number; system_id: string }[] = await em.query(`SELECT id, system_id FROM rack_controllers WHERE id = ANY($1)`, [rackIds]);
    const rackSid = new Map(racks.map((r) => [r.id, r.system_id]));
    const subnets: {
      id: number;
      vlan_id: number;
      cidr: string;
      gateway: string | null;
      dns_servers: string[];
      disabled_boot_architectures: string[];
    }[] = await em.query(
      `SELECT id, vlan_id, cidr::text AS cidr, host(gateway_ip) AS gateway, dns_servers, disabled_boot_architectures
         FROM subnets WHERE vlan_id = ANY($1) AND family(cidr) = 4 ORDER BY id`,
      [served.map((v) => v.id)],
    );
    const subnetIds = subnets.map((s) => s.id);
    const ranges: { id: number; subnet_id: number; start: string; end: string }[] = subnetIds.length
      ? await em.query(
          `SELECT id, subnet_id, host(start_ip) AS start, host(end_ip) AS "end" FROM ip_ranges
            WHERE subnet_id = ANY($1) AND type = 'dynamic' ORDER BY id`,
          [subnetIds],
        )
      : [];
    const reservations: { id: number; subnet_id: number; ip: string; mac: string; hostname: string | null; system_id: string | null }[] =
      subnetIds.length
        ? await em.query(
            `SELECT s.id, s.subnet_id, host(s.ip) AS ip, s.mac_address AS mac, m.hostname, m.system_id
               FROM static_ip_addresses s
               LEFT JOIN interfaces i ON i.id = s.interface_id LEFT JOIN machines m ON m.id = i.machine_id
              WHERE s.subnet_id = ANY($1) AND s.mac_address IS NOT NULL ORDER BY s.id`,
            [subnetIds],
          )
        : [];
    const [domain] = await em.query(`SELECT name FROM domains WHERE is_default ORDER BY id LIMIT 1`);
    const vlanById = new Map(served.map((v) => [v.id, v]));
    for (const s of subnets) {
      const v = vlanById.get(s.vlan_id)!;
      const servers = [v.primary_id, v.secondary_id].filter((x): x is number => x !== null);
      for (const rackDbId of servers) {
        const systemId = rackSid.get(rackDbId);
        if (!systemId) continue;
        const isPrimary = rackDbId === v.primary_id;
        const peer = isPrimary ? v.secondary_id : v.primary_id;
        const config: DhcpSubnetConfig = {
          id: s.id,
          cidr: s.cidr,
          gateway: s.gateway,
          dnsServers: s.dns_servers.filter((d) => IPV4_PATTERN.test(d)),
          domain: domain?.name ?? null,
          mtu: v.mtu,
          vlan: { id: v.id, vid: v.vid, fabricId: v.fabric_id },
          relayed: v.relayed,
          primary: isPrimary,
          peerRackId: peer !== null ? (rackSid.get(peer) ?? null) : null,
          disabledBootArchitectures: s.disabled_boot_architectures,
          leaseTimeS: 600,
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
    const [rack] = await em.query(`SELECT id, dhcp_revision FROM rack_controllers WHERE system_id = $1`, [rackSystemId]);
    if (!rack) return null;
    const vlans: { id: number }[] = await em.query(
      `SELECT id FROM vlans WHERE dhcp_on AND (primary_rack_id = $1 OR secondary_rack_id = $1)
       UNION
       SELECT v.id FROM vlans v JOIN vlans rv ON rv.id = v.relay_vlan_id
        WHERE NOT v.dhcp_on AND rv.dhcp_on AND (rv.primary_rack_id = $1 OR rv.secondary_rack_id = $1)`,
      [rack.id],
    );
    const built = await this.build(
      em,
      vlans.map((v) => v.id),
    );
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
      const [[row]] = await em.query(
        `UPDATE rack_controllers SET dhcp_revision = dhcp_revision + 1 WHERE id = $1 RETURNING dhcp_revision`,
        [id],
      );
      const systemId = (a ?? b)!.systemId;
      updates.push({ rackId: systemId, baseRevision: row.dhcp_revision - 1, revision: row.dhcp_revision, ops });
    }
    return { result, updates };
  }
}
