import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { bootArchitectureName } from '@kiln/contracts';
import type { AuthUser } from '../api/api.types';
import { BadRequestError, ForbiddenError, NotFoundError } from '../api/http/http.errors';
import { parseBool } from '../api/http/params';
import { DhcpConfigBuilder } from './dhcp-config.builder';
import { DhcpConfigPublisher } from './dhcp-config.publisher';
import { Cidr, cidrContains, formatIp, Ip, parseCidr, parseIp, usableRange } from './ip.address';
import { NetworkingRepository, RangeRow, SubnetRow, VlanRow } from './networking.repository';

/** The request parameters a networking operation reads (MAAS form semantics: absent = unchanged). */
export interface Fields {
  get(name: string): string | undefined;
  has(name: string): boolean;
}

const NAME = /^[\w-]{1,256}$/;

function fieldError(field: string, message: string): BadRequestError {
  return new BadRequestError({ [field]: [message] });
}

function uniqueViolationField(e: unknown): string | null {
  const err = e as { code?: string; detail?: string };
  if (err?.code !== '23505') return null;
  const m = /Key \(([^)]+)\)/.exec(err.detail ?? '');
  return m ? m[1].replace(/"/g, '').split(',').pop()!.trim() : '__all__';
}

function intField(p: Fields, name: string, min: number, max: number): number | undefined {
  if (!p.has(name)) return undefined;
  const raw = (p.get(name) ?? '').trim();
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw fieldError(name, `Ensure this value is an integer between ${min} and ${max}.`);
  }
  return Number(raw);
}

function boolField(p: Fields, name: string): boolean | undefined {
  if (!p.has(name)) return undefined;
  const b = parseBool(p.get(name));
  if (b === undefined) throw fieldError(name, `"${p.get(name)}" is not a valid boolean.`);
  return b;
}

function listField(p: Fields, name: string): string[] | undefined {
  if (!p.has(name)) return undefined;
  return (p.get(name) ?? '').split(/[\s,]+/).filter(Boolean);
}

function ipField(p: Fields, name: string, required: boolean): Ip | undefined {
  const raw = p.get(name);
  if (raw === undefined || raw.trim() === '') {
    if (required) throw fieldError(name, 'This field is required.');
    return undefined;
  }
  const ip = parseIp(raw);
  if (!ip) throw fieldError(name, 'Enter a valid IPv4 or IPv6 address.');
  return ip;
}

const text = (ip: Ip) => formatIp(ip);

/**
 * Fabrics, VLANs, subnets, IP ranges and reserved addresses, with MAAS's validation rules. Every
 * change that can alter what a rack serves runs through DhcpConfigBuilder.track in its
 * transaction; the resulting incremental updates are pushed after commit.
 */
@Injectable()
export class NetworkingService {
  constructor(
    private readonly ds: DataSource,
    private readonly repo: NetworkingRepository,
    private readonly dhcp: DhcpConfigBuilder,
    private readonly publisher: DhcpConfigPublisher,
  ) {}

  /** A change to the networking model, tracked for DHCP: scope = the VLANs it may touch. */
  private async change<T>(scope: (em: EntityManager) => Promise<number[]>, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    let out: { result: T; updates: Parameters<DhcpConfigPublisher['push']>[0] };
    try {
      out = await this.ds.transaction(async (em) => this.dhcp.track(em, await scope(em), () => fn(em)));
    } catch (e) {
      const field = uniqueViolationField(e);
      if (field) throw fieldError(field, `An object with this ${field.replace('_', ' ')} already exists.`);
      throw e;
    }
    this.publisher.push(out.updates);
    return out.result;
  }

  // ---- fabrics ---------------------------------------------------------------------------------

  async createFabric(p: Fields): Promise<number> {
    const name = p.get('name')?.trim() || null;
    if (name !== null && !NAME.test(name)) throw fieldError('name', 'Name must contain only letters, digits, "-" and "_".');
    return this.change(
      async () => [],
      async (em) => {
        const [f] = await em.query(`INSERT INTO fabrics (name, description, class_type) VALUES ($1, $2, $3) RETURNING id`, [
          name ?? `fabric-new-${process.hrtime.bigint()}`,
          p.get('description') ?? '',
          p.get('class_type') || null,
        ]);
        if (name === null) await em.query(`UPDATE fabrics SET name = 'fabric-' || id WHERE id = $1`, [f.id]);
        // Every fabric has its untagged VLAN (MAAS creates it with the fabric).
        await em.query(`INSERT INTO vlans (fabric_id, vid) VALUES ($1, 0)`, [f.id]);
        return f.id as number;
      },
    );
  }

  async updateFabric(id: number, p: Fields): Promise<void> {
    await this.fabricOr404(id);
    const name = p.has('name') ? (p.get('name') ?? '').trim() : undefined;
    if (name !== undefined && !NAME.test(name)) throw fieldError('name', 'Name must contain only letters, digits, "-" and "_".');
    await this.change(
      async () => [],
      async (em) => {
        await em.query(
          `UPDATE fabrics SET name = COALESCE($2, name), description = COALESCE($3, description),
                  class_type = CASE WHEN $4 THEN $5 ELSE class_type END, updated = now() WHERE id = $1`,
          [id, name ?? null, p.has('description') ? (p.get('description') ?? '') : null, p.has('class_type'), p.get('class_type') || null],
        );
      },
    );
  }

  async deleteFabric(id: number): Promise<void> {
    const f = await this.fabricOr404(id);
    await this.change(
      async (em) => ((await em.query(`SELECT id FROM vlans WHERE fabric_id = $1`, [id])) as { id: number }[]).map((v) => v.id),
      async (em) => {
        const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM subnets s JOIN vlans v ON v.id = s.vlan_id WHERE v.fabric_id = $1`, [id]);
        if (n > 0) throw new BadRequestError(`Cannot delete fabric ${f.name}: ${n} subnet(s) are still on its VLANs.`);
        await em.query(`DELETE FROM fabrics WHERE id = $1`, [id]);
      },
    );
  }

  async fabricOr404(id: number) {
    const [f] = await this.repo.fabrics(undefined, id);
    if (!f) throw new NotFoundError('No Fabric matches the given query.');
    return f;
  }

  // ---- VLANs -----------------------------------------------------------------------------------

  async createVlan(fabricId: number, p: Fields): Promise<number> {
    await this.fabricOr404(fabricId);
    if (!p.has('vid')) throw fieldError('vid', 'This field is required.');
    const vid = intField(p, 'vid', 1, 4094)!;
    const mtu = intField(p, 'mtu', 552, 65535) ?? 1500;
    return this.change(
      async () => [],
      async (em) => {
        const [v] = await em.query(
          `INSERT INTO vlans (fabric_id, vid, name, description, mtu, space) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
          [fabricId, vid, p.get('name') || null, p.get('description') ?? '', mtu, p.get('space') || null],
        );
        return v.id as number;
      },
    ).catch((e) => {
      if (e instanceof BadRequestError) throw new BadRequestError({ __all__: ['VLAN with this Fabric and Vid already exists.'] });
      throw e;
    });
  }

  async vlanOr404(id: number): Promise<VlanRow> {
    const v = await this.repo.vlan(undefined, id);
    if (!v) throw new NotFoundError('No VLAN matches the given query.');
    return v;
  }

  /** MAAS VLANForm rules: DHCP needs a primary rack and a dynamic range; rack promotion; relays. */
  async updateVlan(id: number, p: Fields): Promise<void> {
    await this.vlanOr404(id);
    await this.change(
      async () => [id],
      async (em) => {
        const cur = (await this.repo.vlan(em, id))!;
        const next = { ...cur };
        if (p.has('name')) next.name = p.get('name') || null;
        if (p.has('description')) next.description = p.get('description') ?? '';
        if (p.has('space')) next.space = p.get('space') || null;
        const mtu = intField(p, 'mtu', 552, 65535);
        if (mtu !== undefined) next.mtu = mtu;
        const vid = intField(p, 'vid', 0, 4094);
        if (vid !== undefined && vid !== cur.vid) {
          if (cur.vid === 0 || vid === 0) throw fieldError('vid', 'The untagged VLAN (vid 0) of a fabric cannot be renumbered.');
          next.vid = vid;
        }
        const rack = async (field: 'primary_rack' | 'secondary_rack') => {
          const key = p.get(field)?.trim();
          if (!key) return null;
          const r = await this.repo.rackByKey(em, key);
          if (!r) throw fieldError(field, `Select a valid choice. ${key} is not one of the available choices.`);
          return r;
        };
        const primary = p.has('primary_rack') ? await rack('primary_rack') : undefined;
        const secondary = p.has('secondary_rack') ? await rack('secondary_rack') : undefined;
        if (primary !== undefined) next.primary_rack_id = primary?.id ?? null;
        if (secondary !== undefined) next.secondary_rack_id = secondary?.id ?? null;
        // Removing the primary promotes the secondary; making the secondary primary drops it as secondary.
        if (primary === null && cur.secondary_rack_id !== null) {
          next.primary_rack_id = cur.secondary_rack_id;
          next.secondary_rack_id = null;
        }
        if (next.primary_rack_id !== null && next.primary_rack_id === cur.secondary_rack_id && secondary === undefined) {
          next.secondary_rack_id = null;
        }
        if (secondary && cur.primary_rack_id !== null && secondary.id === cur.primary_rack_id && primary === undefined) {
          throw new BadRequestError({ __all__: [`${secondary.system_id} is already set as the primary rack controller`] });
        }
        if (next.primary_rack_id !== null && next.primary_rack_id === next.secondary_rack_id) {
          throw new BadRequestError({ __all__: ['The primary and secondary rack must be different'] });
        }
        if (secondary && next.primary_rack_id !== null && next.primary_rack_id === cur.primary_rack_id && secondary.id !== cur.secondary_rack_id) {
          const [p0] = await em.query(`SELECT status FROM rack_controllers WHERE id = $1`, [next.primary_rack_id]);
          if (p0?.status === 'dead') {
            throw new BadRequestError({
              __all__: [
                'The primary rack controller must be up and running to set a secondary rack controller. Without the primary ' +
                  'the secondary DHCP service will not be able to synchronize, preventing it from responding to DHCP requests.',
              ],
            });
          }
        }
        const dhcpOn = boolField(p, 'dhcp_on');
        if (dhcpOn !== undefined) next.dhcp_on = dhcpOn;
        if (next.dhcp_on && next.primary_rack_id === null) {
          throw new BadRequestError({ __all__: ['dhcp can only be turned on when a primary rack controller is set.'] });
        }
        if (next.dhcp_on) {
          const [{ n }] = await em.query(
            `SELECT count(*)::int AS n FROM ip_ranges r JOIN subnets s ON s.id = r.subnet_id WHERE s.vlan_id = $1 AND r.type = 'dynamic'`,
            [id],
          );
          if (n === 0) throw fieldError('dhcp_on', 'dhcp can only be turned on when a dynamic IP range is defined.');
        }
        if (p.has('relay_vlan')) {
          const key = p.get('relay_vlan')?.trim();
          if (!key) next.relay_vlan_id = null;
          else {
            const target = /^\d+$/.test(key) ? await this.repo.vlan(em, Number(key)) : null;
            const allowed =
              target !== null &&
              target.id !== id &&
              target.relay_vlan_id === null &&
              (!cur.dhcp_on || target.id === cur.relay_vlan_id);
            if (!allowed) throw fieldError('relay_vlan', 'Select a valid choice. That choice is not one of the available choices.');
            next.relay_vlan_id = target.id;
          }
        }
        // A VLAN whose own racks serve DHCP is not relayed.
        if (next.dhcp_on) next.relay_vlan_id = null;
        await em.query(
          `UPDATE vlans SET name = $2, description = $3, vid = $4, mtu = $5, dhcp_on = $6, primary_rack_id = $7, secondary_rack_id = $8,
                  relay_vlan_id = $9, space = $10, updated = now() WHERE id = $1`,
          [id, next.name, next.description, next.vid, next.mtu, next.dhcp_on, next.primary_rack_id, next.secondary_rack_id, next.relay_vlan_id, next.space],
        );
      },
    );
  }

  async deleteVlan(id: number): Promise<void> {
    const v = await this.vlanOr404(id);
    if (v.vid === 0) throw new BadRequestError(`The untagged VLAN of fabric ${v.fabric_name} cannot be deleted.`);
    await this.change(
      async () => [id],
      async (em) => {
        const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM subnets WHERE vlan_id = $1`, [id]);
        if (n > 0) throw new BadRequestError(`Cannot delete VLAN ${v.vid}: ${n} subnet(s) are still on it.`);
        await em.query(`DELETE FROM vlans WHERE id = $1`, [id]);
      },
    );
  }

  // ---- subnets ---------------------------------------------------------------------------------

  async subnetOr404(key: string, em?: EntityManager): Promise<SubnetRow> {
    const s = await this.repo.subnetByKey(em, key);
    if (!s) throw new NotFoundError('No Subnet matches the given query.');
    return s;
  }

  /** The VLAN a subnet form names: vlan (id), or fabric (+ vid), or the default fabric's untagged VLAN. */
  private async targetVlan(em: EntityManager, p: Fields, fallback: number | null): Promise<number> {
    if (p.get('vlan')) {
      const key = p.get('vlan')!.trim();
      const v = /^\d+$/.test(key) ? await this.repo.vlan(em, Number(key)) : null;
      if (!v) throw fieldError('vlan', 'Select a valid choice. That choice is not one of the available choices.');
      return v.id;
    }
    if (p.get('fabric')) {
      const key = p.get('fabric')!.trim();
      const [f] = await em.query(`SELECT id FROM fabrics WHERE id::text = $1 OR name = $1 ORDER BY (id::text = $1) DESC LIMIT 1`, [key]);
      if (!f) throw fieldError('fabric', 'Select a valid choice. That choice is not one of the available choices.');
      const vid = intField(p, 'vid', 0, 4094) ?? 0;
      const v = await this.repo.vlanByFabricVid(em, f.id, vid);
      if (!v) throw fieldError('vid', `No VLAN with vid ${vid} in fabric ${key}.`);
      return v.id;
    }
    if (fallback !== null) return fallback;
    return this.defaultVlan(em);
  }

  /** MAAS's default fabric: the first one, created as fabric-0 (with its untagged VLAN) when none exists. */
  async defaultVlan(em: EntityManager): Promise<number> {
    await em.query(`INSERT INTO fabrics (name) SELECT 'fabric-0' WHERE NOT EXISTS (SELECT 1 FROM fabrics) ON CONFLICT (name) DO NOTHING`);
    const [f] = await em.query(`SELECT id FROM fabrics ORDER BY id LIMIT 1`);
    await em.query(`INSERT INTO vlans (fabric_id, vid) VALUES ($1, 0) ON CONFLICT (fabric_id, vid) DO NOTHING`, [f.id]);
    const [v] = await em.query(`SELECT id FROM vlans WHERE fabric_id = $1 AND vid = 0`, [f.id]);
    return v.id;
  }

  private subnetSettings(p: Fields, cidr: Cidr, current: SubnetRow | null) {
    let gateway: string | null | undefined;
    if (p.has('gateway_ip')) {
      const ip = ipField(p, 'gateway_ip', false);
      if (ip && !cidrContains(cidr, ip)) throw fieldError('gateway_ip', 'Gateway IP must be within CIDR range.');
      gateway = ip ? text(ip) : null;
    } else if (current?.gateway_ip) {
      const ip = parseIp(current.gateway_ip)!;
      if (!cidrContains(cidr, ip)) throw fieldError('gateway_ip', 'Gateway IP must be within CIDR range.');
    }
    const dns = listField(p, 'dns_servers')?.map((d) => {
      const ip = parseIp(d);
      if (!ip) throw fieldError('dns_servers', `${d} is not a valid IP address.`);
      return text(ip);
    });
    const arches = listField(p, 'disabled_boot_architectures')?.map((a) => {
      const name = bootArchitectureName(a);
      if (!name) throw fieldError('disabled_boot_architectures', `Unknown boot architecture ${a}`);
      return name;
    });
    return {
      gateway,
      dns,
      arches: arches ? [...new Set(arches)] : undefined,
      rdnsMode: intField(p, 'rdns_mode', 0, 2),
      allowDns: boolField(p, 'allow_dns'),
      allowProxy: boolField(p, 'allow_proxy'),
      managed: boolField(p, 'managed'),
      activeDiscovery: boolField(p, 'active_discovery'),
    };
  }

  private cidrField(p: Fields): Cidr {
    const raw = p.get('cidr');
    if (!raw) throw fieldError('cidr', 'This field is required.');
    const c = parseCidr(raw);
    if (!c) throw fieldError('cidr', 'Required format: <network>/<prefixlen>.');
    return c;
  }

  async createSubnet(p: Fields): Promise<number> {
    const cidr = this.cidrField(p);
    const name = p.get('name')?.trim() || cidr.text;
    const s = this.subnetSettings(p, cidr, null);
    let vlanId = 0;
    return this.change(
      async (em) => [(vlanId = await this.targetVlan(em, p, null))],
      async (em) => {
        const [row] = await em.query(
          `INSERT INTO subnets (name, description, vlan_id, cidr, gateway_ip, dns_servers, rdns_mode, allow_dns, allow_proxy, managed,
                                active_discovery, disabled_boot_architectures)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
          [
            name,
            p.get('description') ?? '',
            vlanId,
            cidr.text,
            s.gateway ?? null,
            s.dns ?? [],
            s.rdnsMode ?? 2,
            s.allowDns ?? true,
            s.allowProxy ?? true,
            s.managed ?? true,
            s.activeDiscovery ?? false,
            s.arches ?? [],
          ],
        );
        return row.id as number;
      },
    );
  }

  async updateSubnet(key: string, p: Fields): Promise<number> {
    const cur = await this.subnetOr404(key);
    let vlanId = cur.vlan_id;
    return this.change(
      async (em) => [cur.vlan_id, (vlanId = await this.targetVlan(em, p, cur.vlan_id))],
      async (em) => {
        const cidr = p.has('cidr') ? this.cidrField(p) : parseCidr(cur.cidr)!;
        const s = this.subnetSettings(p, cidr, cur);
        if (cidr.text !== cur.cidr) {
          const outside = [
            ...(await this.repo.ranges(em, { subnetId: cur.id })).flatMap((r) => [r.start_ip, r.end_ip]),
            ...(await this.repo.staticIps(em, { subnetId: cur.id })).map((x) => x.ip),
          ].filter((ip) => !cidrContains(cidr, parseIp(ip)!));
          if (outside.length) throw fieldError('cidr', `Addresses in use fall outside the new CIDR: ${outside.slice(0, 5).join(', ')}`);
        }
        await em.query(
          `UPDATE subnets SET name = $2, description = $3, vlan_id = $4, cidr = $5, gateway_ip = $6, dns_servers = $7, rdns_mode = $8,
                  allow_dns = $9, allow_proxy = $10, managed = $11, active_discovery = $12, disabled_boot_architectures = $13, updated = now()
            WHERE id = $1`,
          [
            cur.id,
            p.has('name') ? p.get('name')?.trim() || cidr.text : cur.name,
            p.has('description') ? (p.get('description') ?? '') : cur.description,
            vlanId,
            cidr.text,
            s.gateway !== undefined ? s.gateway : cur.gateway_ip,
            s.dns ?? cur.dns_servers,
            s.rdnsMode ?? cur.rdns_mode,
            s.allowDns ?? cur.allow_dns,
            s.allowProxy ?? cur.allow_proxy,
            s.managed ?? cur.managed,
            s.activeDiscovery ?? cur.active_discovery,
            s.arches ?? cur.disabled_boot_architectures,
          ],
        );
        if (vlanId !== cur.vlan_id) await this.refuseDhcpWithoutDynamicRange(em, cur.vlan_id, `move subnet ${cur.name}`);
        return cur.id;
      },
    );
  }

  async deleteSubnet(key: string): Promise<void> {
    const cur = await this.subnetOr404(key);
    await this.change(
      async () => [cur.vlan_id],
      async (em) => {
        await em.query(`DELETE FROM subnets WHERE id = $1`, [cur.id]);
        await this.refuseDhcpWithoutDynamicRange(em, cur.vlan_id, `delete subnet ${cur.name}`);
      },
    );
  }

  /** After a change: a VLAN with DHCP on must keep a dynamic range (the rule that lets DHCP be turned on). */
  private async refuseDhcpWithoutDynamicRange(em: EntityManager, vlanId: number, what: string): Promise<void> {
    const [row] = await em.query(
      `SELECT v.vid, (SELECT count(*)::int FROM ip_ranges r JOIN subnets s ON s.id = r.subnet_id WHERE s.vlan_id = v.id AND r.type = 'dynamic') AS n
         FROM vlans v WHERE v.id = $1 AND v.dhcp_on`,
      [vlanId],
    );
    if (row && row.n === 0) {
      throw new BadRequestError(`Cannot ${what}: VLAN ${row.vid} has DHCP on and would be left without a dynamic IP range. Turn DHCP off first.`);
    }
  }

  // ---- IP ranges -------------------------------------------------------------------------------

  async rangeOr404(id: number): Promise<RangeRow> {
    const [r] = await this.repo.ranges(undefined, { id });
    if (!r) throw new NotFoundError('No IPRange matches the given query.');
    return r;
  }

  private async rangeSubnet(em: EntityManager, p: Fields, start: Ip, fallback: number | null): Promise<SubnetRow> {
    const key = p.get('subnet')?.trim();
    if (key) {
      const s = await this.repo.subnetByKey(em, key);
      if (!s) throw fieldError('subnet', 'Select a valid choice. That choice is not one of the available choices.');
      return s;
    }
    if (fallback !== null) return (await this.repo.subnets(em, { id: fallback }))[0];
    const s = await this.repo.subnetContaining(em, text(start));
    if (!s) throw fieldError('subnet', `No subnet contains ${text(start)}; create the subnet first.`);
    return s;
  }

  /** Validates a range against its subnet and the other ranges and addresses of the subnet. */
  private async checkRange(em: EntityManager, subnet: SubnetRow, type: string, start: Ip, end: Ip, selfId: number | null) {
    const cidr = parseCidr(subnet.cidr)!;
    if (!cidrContains(cidr, start)) throw fieldError('start_ip', `Start IP address must be within subnet: ${subnet.cidr}.`);
    if (!cidrContains(cidr, end)) throw fieldError('end_ip', `End IP address must be within subnet: ${subnet.cidr}.`);
    if (end.value < start.value) throw fieldError('end_ip', 'End IP address must not be less than Start IP address.');
    const usable = usableRange(cidr);
    if (start.value < usable.first || end.value > usable.last) {
      throw new BadRequestError({ __all__: [`The range may not include the network or broadcast address of ${subnet.cidr}.`] });
    }
    for (const r of await this.repo.ranges(em, { subnetId: subnet.id })) {
      if (r.id === selfId) continue;
      const rs = parseIp(r.start_ip)!.value;
      const re = parseIp(r.end_ip)!.value;
      if (start.value <= re && rs <= end.value) {
        throw new BadRequestError({ __all__: [`Requested ${type} range conflicts with an existing ${r.type} range ${r.start_ip}-${r.end_ip}.`] });
      }
    }
    if (type === 'dynamic') {
      const inside = (ip: string) => {
        const v = parseIp(ip)!.value;
        return v >= start.value && v <= end.value;
      };
      if (subnet.gateway_ip && inside(subnet.gateway_ip)) {
        throw new BadRequestError({ __all__: [`A dynamic range cannot contain the subnet's gateway IP ${subnet.gateway_ip}.`] });
      }
      const taken = (await this.repo.staticIps(em, { subnetId: subnet.id })).filter((x) => inside(x.ip));
      if (taken.length) {
        throw new BadRequestError({ __all__: [`A dynamic range cannot contain reserved or static addresses: ${taken.map((x) => x.ip).join(', ')}.`] });
      }
    }
  }

  private rangeType(p: Fields, required: boolean): 'dynamic' | 'reserved' | undefined {
    const t = p.get('type')?.trim();
    if (!t) {
      if (required) throw fieldError('type', 'This field is required.');
      return undefined;
    }
    if (t !== 'dynamic' && t !== 'reserved') throw fieldError('type', `Select a valid choice. ${t} is not one of the available choices.`);
    return t;
  }

  async createRange(p: Fields, user: AuthUser): Promise<number> {
    const type = this.rangeType(p, true)!;
    if (type === 'dynamic' && !user.isAdmin) throw new ForbiddenError('Only administrators can create dynamic IP ranges.');
    const start = ipField(p, 'start_ip', true)!;
    const end = ipField(p, 'end_ip', true)!;
    let subnet: SubnetRow;
    return this.change(
      async (em) => [(subnet = await this.rangeSubnet(em, p, start, null)).vlan_id],
      async (em) => {
        await this.checkRange(em, subnet, type, start, end, null);
        const [row] = await em.query(
          `INSERT INTO ip_ranges (subnet_id, type, start_ip, end_ip, comment, user_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
          [subnet.id, type, text(start), text(end), p.get('comment') ?? '', user.id],
        );
        return row.id as number;
      },
    );
  }

  private mayEditRange(r: RangeRow, user: AuthUser) {
    if (!user.isAdmin && (r.type === 'dynamic' || r.user_id !== user.id)) {
      throw new ForbiddenError('Only administrators and the owner of a reserved range can change it.');
    }
  }

  async updateRange(id: number, p: Fields, user: AuthUser): Promise<number> {
    const cur = await this.rangeOr404(id);
    this.mayEditRange(cur, user);
    const type = this.rangeType(p, false) ?? cur.type;
    if (type === 'dynamic' && !user.isAdmin) throw new ForbiddenError('Only administrators can create dynamic IP ranges.');
    const start = ipField(p, 'start_ip', false) ?? parseIp(cur.start_ip)!;
    const end = ipField(p, 'end_ip', false) ?? parseIp(cur.end_ip)!;
    let subnet: SubnetRow;
    const [old] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    return this.change(
      async (em) => [old.vlan_id, (subnet = await this.rangeSubnet(em, p, start, cur.subnet_id)).vlan_id],
      async (em) => {
        await this.checkRange(em, subnet, type, start, end, id);
        await em.query(
          `UPDATE ip_ranges SET subnet_id = $2, type = $3, start_ip = $4, end_ip = $5, comment = $6, updated = now() WHERE id = $1`,
          [id, subnet.id, type, text(start), text(end), p.has('comment') ? (p.get('comment') ?? '') : cur.comment],
        );
        await this.refuseDhcpWithoutDynamicRange(em, old.vlan_id, `change range ${cur.start_ip}-${cur.end_ip}`);
        return id;
      },
    );
  }

  async deleteRange(id: number, user: AuthUser): Promise<void> {
    const cur = await this.rangeOr404(id);
    this.mayEditRange(cur, user);
    const [subnet] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    await this.change(
      async () => [subnet.vlan_id],
      async (em) => {
        await em.query(`DELETE FROM ip_ranges WHERE id = $1`, [id]);
        await this.refuseDhcpWithoutDynamicRange(em, subnet.vlan_id, `delete the dynamic range ${cur.start_ip}-${cur.end_ip}`);
      },
    );
  }

  // ---- reserved IPs (DHCP reservations) --------------------------------------------------------

  async staticIpOr404(id: number) {
    const [s] = await this.repo.staticIps(undefined, { id });
    if (!s) throw new NotFoundError('No ReservedIP matches the given query.');
    return s;
  }

  private macField(p: Fields): string | null | undefined {
    if (!p.has('mac_address')) return undefined;
    const raw = (p.get('mac_address') ?? '').trim();
    if (!raw) return null;
    if (!/^[0-9a-fA-F]{2}([:-]?)[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(raw)) throw fieldError('mac_address', `'${raw}' is not a valid MAC address.`);
    const hex = raw.replace(/[:-]/g, '').toLowerCase();
    return hex.match(/../g)!.join(':');
  }

  private async checkStaticIp(em: EntityManager, subnet: SubnetRow, ip: Ip) {
    const cidr = parseCidr(subnet.cidr)!;
    const usable = usableRange(cidr);
    if (!cidrContains(cidr, ip) || ip.value < usable.first || ip.value > usable.last) {
      throw fieldError('ip', `The ip ${text(ip)} must be a usable address of subnet ${subnet.cidr}.`);
    }
    for (const r of await this.repo.ranges(em, { subnetId: subnet.id })) {
      if (r.type === 'dynamic' && ip.value >= parseIp(r.start_ip)!.value && ip.value <= parseIp(r.end_ip)!.value) {
        throw fieldError('ip', `The ip ${text(ip)} is inside the dynamic range ${r.start_ip}-${r.end_ip}.`);
      }
    }
  }

  async createReservedIp(p: Fields): Promise<number> {
    const ip = ipField(p, 'ip', true)!;
    const mac = this.macField(p) ?? null;
    let subnet: SubnetRow;
    return this.change(
      async (em) => [(subnet = await this.rangeSubnet(em, p, ip, null)).vlan_id],
      async (em) => {
        await this.checkStaticIp(em, subnet, ip);
        const [row] = await em.query(
          `INSERT INTO static_ip_addresses (ip, subnet_id, mac_address, interface_id, alloc_type, comment)
           VALUES ($1, $2, $3::varchar, (SELECT id FROM interfaces WHERE mac_address = $3::varchar), 'reserved', $4) RETURNING id`,
          [text(ip), subnet.id, mac, p.get('comment') ?? ''],
        );
        return row.id as number;
      },
    );
  }

  async updateReservedIp(id: number, p: Fields): Promise<number> {
    const cur = await this.staticIpOr404(id);
    const ip = ipField(p, 'ip', false) ?? parseIp(cur.ip)!;
    const mac = this.macField(p);
    const [subnet] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    return this.change(
      async () => [subnet.vlan_id],
      async (em) => {
        await this.checkStaticIp(em, subnet, ip);
        const nextMac = mac === undefined ? cur.mac_address : mac;
        await em.query(
          `UPDATE static_ip_addresses SET ip = $2, mac_address = $3::varchar, interface_id = (SELECT id FROM interfaces WHERE mac_address = $3::varchar),
                  comment = $4, updated = now() WHERE id = $1`,
          [id, text(ip), nextMac, p.has('comment') ? (p.get('comment') ?? '') : cur.comment],
        );
        return id;
      },
    );
  }

  async deleteReservedIp(id: number): Promise<void> {
    const cur = await this.staticIpOr404(id);
    const [subnet] = await this.repo.subnets(undefined, { id: cur.subnet_id });
    await this.change(
      async () => [subnet.vlan_id],
      async (em) => {
        await em.query(`DELETE FROM static_ip_addresses WHERE id = $1`, [id]);
      },
    );
  }
}
