import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError, forbidden, invalid, notFound, unavailable } from '../common/domain.error';
import { parseBool } from '../common/values';
import { DhcpConfigBuilder } from '../networking/dhcp-config.builder';
import { DhcpConfigPublisher } from '../networking/dhcp-config.publisher';
import { cidrContains, formatIp, Ip, parseCidr, parseIp, usableRange } from '../networking/ip.address';
import { NetworkingRepository, SubnetRow } from '../networking/networking.repository';
import { firstFreeAddress } from '../networking/free-address';
import { IpAddressesRepository, IpAddressRow, TakenRow } from './ipaddresses.repository';

/** Who calls ipaddresses/. */
export interface IpActor {
  id: number;
  username: string;
  isAdmin: boolean;
}

/** op=reserve as the request sent it. `ip_address` is MAAS's older name of `ip`. */
export interface ReserveInput {
  subnet?: string;
  ip?: string;
  ip_address?: string;
  hostname?: string;
  mac?: string;
  comment?: string;
}

/** op=release as the request sent it. `discovered` (MAAS) and `discovery` are the same flag. */
export interface ReleaseInput {
  ip?: string;
  force?: string;
  discovered?: string;
}

const field = (name: string, message: string): DomainError => invalid({ [name]: [message] });

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function hostnameField(raw: string | undefined): string {
  const h = (raw ?? '').trim().replace(/\.$/, '');
  if (!h) return '';
  if (h.length > 253 || !h.split('.').every((l) => LABEL.test(l))) {
    throw field('hostname', `'${h}' is not a valid host name: labels of letters, digits and hyphens, separated by dots.`);
  }
  return h.toLowerCase();
}

function macField(raw: string | undefined): string | null {
  const m = (raw ?? '').trim();
  if (!m) return null;
  if (!/^[0-9a-fA-F]{2}([:-]?)[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(m)) throw field('mac', `'${m}' is not a valid MAC address.`);
  return m.replace(/[:-]/g, '').toLowerCase().match(/../g)!.join(':');
}

function boolField(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw.trim() === '') return false;
  const b = parseBool(raw);
  if (b === undefined) throw field(name, `"${raw}" is not a valid boolean.`);
  return b;
}

/**
 * Addresses users reserve for themselves (MAAS's USER_RESERVED static addresses). An address is
 * chosen, or checked, with the subnet locked, so that reservations made at the same time never get
 * the same one. A reservation lives in static_ip_addresses like every fixed address, so the rack's
 * dynamic pool never covers it (a dynamic range may not contain one; one may not be reserved
 * inside a dynamic range) and the other allocators see it as taken; with a MAC it is also a DHCP
 * host entry the serving racks hand out to that MAC only.
 */
@Injectable()
export class IpAddressesService {
  constructor(
    private readonly repo: IpAddressesRepository,
    private readonly net: NetworkingRepository,
    private readonly dhcp: DhcpConfigBuilder,
    private readonly publisher: DhcpConfigPublisher,
  ) {}

  async list(actor: IpActor, p: { all?: string; owner?: string }): Promise<IpAddressRow[]> {
    const all = boolField(p.all, 'all');
    const owner = p.owner?.trim();
    if ((all || owner) && !actor.isAdmin) throw forbidden('Only administrators can list the addresses of other users.');
    if (owner) {
      const id = await this.repo.userId(owner);
      if (id === null) throw field('owner', `No user named '${owner}'.`);
      return this.repo.list({ ownerId: id });
    }
    return all ? this.repo.list({ all: true }) : this.repo.list({ ownerId: actor.id });
  }

  async one(id: number): Promise<IpAddressRow> {
    const row = await this.repo.byId(id);
    if (!row) throw notFound('No StaticIPAddress matches the given query.');
    return row;
  }

  private async subnetFor(em: EntityManager | undefined, key: string | undefined, ip: Ip | null): Promise<SubnetRow> {
    if (key) {
      const s = await this.net.subnetByKey(em, key);
      if (!s) throw field('subnet', `No subnet matches '${key}'.`);
      return s;
    }
    if (!ip) throw field('subnet', 'This field is required when no ip is given.');
    const s = await this.net.subnetContaining(em, formatIp(ip));
    if (!s) throw field('ip', `No subnet contains ${formatIp(ip)}.`);
    return s;
  }

  /** Reserves `ip`, or the lowest free address of the subnet outside every range and used address; returns the row id. */
  async reserve(actor: IpActor, p: ReserveInput): Promise<number> {
    const rawIp = (p.ip ?? p.ip_address ?? '').trim();
    const ip = rawIp ? parseIp(rawIp) : null;
    if (rawIp && !ip) throw field('ip', 'Enter a valid IPv4 or IPv6 address.');
    const mac = macField(p.mac);
    const hostname = hostnameField(p.hostname);
    const subnet = await this.subnetFor(undefined, p.subnet?.trim(), ip);
    const cidr = parseCidr(subnet.cidr)!;
    const usable = usableRange(cidr);
    if (ip && (!cidrContains(cidr, ip) || ip.value < usable.first || ip.value > usable.last)) {
      throw field('ip', `${formatIp(ip)} is not a usable address of subnet ${subnet.cidr}.`);
    }
    let out: { result: number; updates: Parameters<DhcpConfigPublisher['push']>[0] };
    try {
      out = await this.net.transaction((em) =>
        this.dhcp.track(em, [subnet.vlan_id], async () => {
          await this.repo.lockSubnet(em, subnet.id);
          const taken = await this.repo.takenInSubnet(em, subnet.id);
          const chosen = ip ? this.checkFree(ip, taken) : this.pickFree(subnet, usable, taken);
          return this.repo.insertUserReserved(em, { ip: chosen, subnetId: subnet.id, mac, hostname, comment: p.comment ?? '', ownerId: actor.id });
        }),
      );
    } catch (e) {
      const err = e as { code?: string; detail?: string };
      if (err?.code === '23505') {
        if (/mac_address/.test(err.detail ?? '')) throw field('mac', `${mac} already has a reserved address on subnet ${subnet.cidr}.`);
        throw field('ip', `The IP address ${ip ? formatIp(ip) : ''} is already in use.`.replace('  ', ' '));
      }
      throw e;
    }
    this.publisher.push(out.updates);
    return out.result;
  }

  private checkFree(ip: Ip, taken: TakenRow[]): string {
    for (const t of taken) {
      const start = parseIp(t.start_ip);
      const end = parseIp(t.end_ip);
      if (!start || !end || start.family !== ip.family || ip.value < start.value || ip.value > end.value) continue;
      if (t.kind === 'dynamic') throw field('ip', `${formatIp(ip)} is inside the dynamic range ${t.start_ip}-${t.end_ip}; DHCP hands it out.`);
      if (t.kind === 'reserved') continue; // Reserved ranges are where fixed addresses are chosen by hand.
      throw field('ip', `The IP address ${formatIp(ip)} is already in use.`);
    }
    return formatIp(ip);
  }

  private pickFree(subnet: SubnetRow, usable: { first: bigint; last: bigint }, taken: TakenRow[]): string {
    const family = parseCidr(subnet.cidr)!.family;
    const intervals: [bigint, bigint][] = [];
    for (const t of taken) {
      const start = parseIp(t.start_ip);
      const end = parseIp(t.end_ip);
      if (start && end && start.family === family) intervals.push([start.value, end.value]);
    }
    const free = firstFreeAddress(usable, intervals);
    if (free === null) throw unavailable(`No more IP addresses available in subnet ${subnet.cidr}.`);
    return formatIp({ family, value: free });
  }

  /**
   * Releases the caller's reservation of `ip`; with force (administrators only) anyone's. With
   * discovered, also forgets what racks observed at that address.
   */
  async release(actor: IpActor, p: ReleaseInput): Promise<void> {
    const raw = (p.ip ?? '').trim();
    if (!raw) throw field('ip', 'This field is required.');
    const ip = parseIp(raw);
    if (!ip) throw field('ip', 'Enter a valid IPv4 or IPv6 address.');
    const force = boolField(p.force, 'force');
    const discovered = boolField(p.discovered, 'discovered');
    if (force && !actor.isAdmin) throw forbidden('Force-releasing an IP address requires admin privileges.');
    const text = formatIp(ip);
    const row = await this.repo.byIp(text);
    if (row) {
      if (row.alloc_type !== 'user_reserved') {
        throw field('ip', `${text} is not a user reservation (it is a ${row.alloc_type} address); change it where it was made.`);
      }
      if (row.owner_id !== actor.id && !force) {
        throw forbidden(`${text} is reserved by another user; only an administrator with force=true can release it.`);
      }
    } else if (!discovered) {
      throw notFound(`No reserved IP address ${text}.`);
    }
    const subnetVlan = row ? (await this.net.subnets(undefined, { id: row.subnet_id }))[0]?.vlan_id : undefined;
    const out = await this.net.transaction((em) =>
      this.dhcp.track(em, subnetVlan !== undefined ? [subnetVlan] : [], async () => {
        if (row) await this.repo.delete(em, row.id);
        if (discovered) await this.repo.deleteObservations(em, text);
      }),
    );
    this.publisher.push(out.updates);
  }
}
