// Leases that survive a rack restart.
//
// In memory, per subnet: MAC -> lease and address -> lease maps, plus one AddressPool per dynamic
// range (O(1) allocation through a cursor and free/offer lists, see address.pool.ts). Lease
// expiry sits in a timer wheel of one-second buckets, so renewing, expiring and sweeping are O(1)
// per lease. Nothing here scans the pool or the lease table on the packet path: the cost of a
// lease does not grow with the pool size or the number of leases held.
//
// On disk: lease.journal.ts (append-only, group commit before ACK, periodic fdatasync,
// compaction by snapshot + rename). Offers are not journalled: a client whose offer was lost to a
// restart simply gets the same free address again.
//
// A lease that expired or was released stays remembered (by MAC and by address) until its
// address is handed to someone else, so a returning client gets its old address back.
import { AddressPool, AddrState } from './address.pool';
import { FsyncPolicy, JournalRecord, LeaseJournal } from './lease.journal';
import { intToIp, ipToInt } from './ipv4.util';

export type LeaseState = 'offered' | 'bound' | 'released' | 'expired' | 'declined';

export interface Lease {
  readonly subnetId: string;
  readonly ip: number;
  /** "" for a declined address (nobody owns it). */
  mac: string;
  state: LeaseState;
  /** Epoch ms: end of the offer hold, lease, or decline probation; release/expiry time otherwise. */
  expiresAt: number;
  clientId?: string;
  hostname?: string;
  /** Expiry-wheel bucket (epoch seconds), or -1. */
  bucket: number;
}

export interface PoolSpec {
  subnetId: string;
  ranges: Array<{ start: number; end: number }>;
  /** Reserved addresses (inside or outside the ranges) and their MACs. */
  reservations: Array<{ mac: string; ip: number }>;
}

export interface LeaseStoreOptions {
  /** Journal path. */
  file: string;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** Compact when the journal holds more than max(compactMinRecords, compactRatio x live) records. */
  compactMinRecords?: number;
  compactRatio?: number;
  onError?: (err: Error) => void;
}

export interface LeaseStoreStats {
  subnets: number;
  leases: number;
  bound: number;
  offered: number;
  journalRecords: number;
  journalWrites: number;
  journalSyncs: number;
  compactions: number;
  loadedRecords: number;
  badJournalLines: number;
}

class SubnetLeases {
  readonly byMac = new Map<string, Lease>();
  readonly byIp = new Map<number, Lease>();
  readonly reserved = new Map<number, string>();
  readonly reservedByMac = new Map<string, number>();
  constructor(
    readonly id: string,
    readonly pools: AddressPool[],
  ) {}

  poolFor(ip: number): AddressPool | undefined {
    const pools = this.pools;
    for (let i = 0; i < pools.length; i++) if (pools[i].contains(ip)) return pools[i];
    return undefined;
  }
}

export class LeaseStore {
  private subnets = new Map<string, SubnetLeases>();
  /** Leases of subnets that are not (or no longer) configured: kept until they expire. */
  private orphans = new Map<string, Lease>();
  private readonly wheel = new Map<number, Set<Lease>>();
  private lastSweptSecond: number;
  private readonly journal: LeaseJournal;
  private readonly compactMinRecords: number;
  private readonly compactRatio: number;
  private compactions = 0;
  private loadedRecords = 0;
  private badJournalLines = 0;
  private live = 0;
  private expiredOnLoad: Lease[] = [];

  private constructor(opts: LeaseStoreOptions, now: number) {
    this.journal = new LeaseJournal(opts.file, opts.fsync ?? 'interval', opts.fsyncIntervalMs ?? 1000, opts.onError);
    this.compactMinRecords = opts.compactMinRecords ?? 50_000;
    this.compactRatio = opts.compactRatio ?? 4;
    this.lastSweptSecond = Math.floor(now / 1000);
  }

  /** Opens (creating if needed) the journal, replays it, and builds the pools for `specs`. */
  static open(opts: LeaseStoreOptions, specs: PoolSpec[], now = Date.now()): LeaseStore {
    const store = new LeaseStore(opts, now);
    const { records, badLines } = store.journal.load();
    store.loadedRecords = records.length;
    store.badJournalLines = badLines;
    const byKey = new Map<string, Lease>();
    for (const r of records) {
      const ip = ipToInt(r.ip);
      if (ip < 0) {
        store.badJournalLines++;
        continue;
      }
      const key = `${r.s}|${ip}`;
      // Re-insert so Map order follows the latest record (the order addresses were last touched).
      byKey.delete(key);
      byKey.set(key, {
        subnetId: r.s,
        ip,
        mac: r.m,
        state: r.t === 'b' ? 'bound' : r.t === 'r' ? 'released' : 'declined',
        expiresAt: r.e,
        clientId: r.c,
        hostname: r.h,
        bucket: -1,
      });
    }
    // A later record for the same MAC in the same subnet supersedes an earlier one elsewhere.
    const latestByMac = new Map<string, Lease>();
    for (const l of byKey.values()) if (l.mac !== '') latestByMac.set(`${l.subnetId}|${l.mac}`, l);
    const leases: Lease[] = [];
    for (const l of byKey.values()) {
      if (l.mac !== '' && latestByMac.get(`${l.subnetId}|${l.mac}`) !== l) continue;
      if (l.state === 'bound' && l.expiresAt <= now) {
        l.state = 'expired';
        store.expiredOnLoad.push(l);
      }
      if (l.state === 'declined' && l.expiresAt <= now) continue;
      leases.push(l);
    }
    store.rebuild(specs, leases);
    return store;
  }

  /** Applies a new set of subnets/ranges/reservations, keeping every lease. O(pool + leases). */
  configure(specs: PoolSpec[]): void {
    const leases: Lease[] = [...this.orphans.values()];
    for (const s of this.subnets.values()) for (const l of s.byIp.values()) leases.push(l);
    this.wheel.clear();
    this.rebuild(specs, leases);
  }

  private rebuild(specs: PoolSpec[], leases: Lease[]): void {
    this.subnets = new Map();
    this.orphans = new Map();
    this.live = 0;
    for (const spec of specs) {
      const s = new SubnetLeases(
        spec.subnetId,
        spec.ranges.map((r) => new AddressPool(r.start, r.end)),
      );
      for (const r of spec.reservations) {
        s.reserved.set(r.ip, r.mac);
        s.reservedByMac.set(r.mac, r.ip);
        s.poolFor(r.ip)?.set(r.ip, AddrState.RESERVED);
      }
      this.subnets.set(spec.subnetId, s);
    }
    // Remembered (free) addresses go to the free lists oldest first.
    const remembered: Lease[] = [];
    for (const l of leases) {
      l.bucket = -1;
      const s = this.subnets.get(l.subnetId);
      if (!s) {
        this.orphans.set(`${l.subnetId}|${l.ip}`, l);
        continue;
      }
      if (l.state === 'offered') continue; // offers do not survive a reconfiguration
      if (l.mac !== '') {
        const prev = s.byMac.get(l.mac);
        if (prev && prev !== l) continue;
        s.byMac.set(l.mac, l);
      }
      s.byIp.set(l.ip, l);
      this.live++;
      const pool = s.poolFor(l.ip);
      if (l.state === 'bound' || l.state === 'declined') {
        if (pool && !s.reserved.has(l.ip)) pool.set(l.ip, l.state === 'bound' ? AddrState.BOUND : AddrState.DECLINED);
        this.schedule(l);
      } else if (pool && !s.reserved.has(l.ip)) {
        remembered.push(l);
      }
    }
    remembered.sort((a, b) => a.expiresAt - b.expiresAt);
    for (const l of remembered) this.subnets.get(l.subnetId)!.poolFor(l.ip)!.set(l.ip, AddrState.FREE);
  }

  /** Bound leases that ran out while the rack was down (reported once, as 'expire' events). */
  takeExpiredOnLoad(): Lease[] {
    const out = this.expiredOnLoad;
    this.expiredOnLoad = [];
    return out;
  }

  hasSubnet(subnetId: string): boolean {
    return this.subnets.has(subnetId);
  }

  byMac(subnetId: string, mac: string): Lease | undefined {
    return this.subnets.get(subnetId)?.byMac.get(mac);
  }

  byIp(subnetId: string, ip: number): Lease | undefined {
    return this.subnets.get(subnetId)?.byIp.get(ip);
  }

  /** The reserved address of `mac` in the subnet, or -1. */
  reservationOf(subnetId: string, mac: string): number {
    return this.subnets.get(subnetId)?.reservedByMac.get(mac) ?? -1;
  }

  /** The MAC an address is reserved for, if any. */
  reservedFor(subnetId: string, ip: number): string | undefined {
    return this.subnets.get(subnetId)?.reserved.get(ip);
  }

  inDynamicRange(subnetId: string, ip: number): boolean {
    return this.subnets.get(subnetId)?.poolFor(ip) !== undefined;
  }

  /**
   * Whether `mac` may take `ip` now: it is in a range or reserved for mac, not reserved for
   * someone else, and not bound or declined by anyone else. Offers to others do not block it
   * (offers are soft).
   */
  availableFor(subnetId: string, ip: number, mac: string, now: number): boolean {
    const s = this.subnets.get(subnetId);
    if (!s) return false;
    const owner = s.reserved.get(ip);
    if (owner !== undefined) return owner === mac;
    if (!s.poolFor(ip)) return false;
    const l = s.byIp.get(ip);
    if (!l || l.mac === mac) return l?.state !== 'declined' || l.expiresAt <= now;
    return l.state === 'offered' || l.state === 'released' || l.state === 'expired';
  }

  /** A free dynamic address for a new client (or -1): never-used first, then oldest freed, then the oldest offer. */
  pickFree(subnetId: string): number {
    const s = this.subnets.get(subnetId);
    if (!s) return -1;
    for (const pool of s.pools) {
      const ip = pool.pick();
      if (ip >= 0 && pool.stateOf(ip) !== AddrState.OFFERED) return ip;
    }
    // Nothing free anywhere: take back the oldest offer of the first pool that has one.
    for (const pool of s.pools) {
      const ip = pool.pick();
      if (ip >= 0) return ip;
    }
    return -1;
  }

  /** Holds `ip` for `mac` until `until` (epoch ms). Not journalled. */
  offer(subnetId: string, mac: string, ip: number, until: number, info: { clientId?: string; hostname?: string }): Lease {
    const s = this.subnets.get(subnetId)!;
    const existing = s.byIp.get(ip);
    if (existing && existing.mac === mac && existing.state === 'bound') {
      // Already bound to this client: an OFFER does not shorten or downgrade the binding.
      return existing;
    }
    const l = this.assign(s, mac, ip, 'offered', until, info);
    this.setPoolState(s, ip, AddrState.OFFERED);
    return l;
  }

  /** Binds (or renews) `ip` for `mac` until `until`; journalled (flush before acking). */
  bind(subnetId: string, mac: string, ip: number, until: number, info: { clientId?: string; hostname?: string }): Lease {
    const s = this.subnets.get(subnetId)!;
    const l = this.assign(s, mac, ip, 'bound', until, info);
    this.setPoolState(s, ip, AddrState.BOUND);
    this.journal.append(this.record(l));
    return l;
  }

  /** The client gave `l` back. Journalled. */
  release(l: Lease, now: number): void {
    const s = this.subnets.get(l.subnetId);
    if (!s || s.byIp.get(l.ip) !== l) return;
    const wasOffer = l.state === 'offered';
    l.state = 'released';
    l.expiresAt = now;
    this.unschedule(l);
    this.setPoolState(s, l.ip, AddrState.FREE);
    if (wasOffer) this.forget(s, l);
    else this.journal.append(this.record(l));
  }

  /** Addresses of the subnet's dynamic ranges held by an OFFER not yet requested. O(ranges). */
  offeredCount(subnetId: string): number {
    const s = this.subnets.get(subnetId);
    if (!s) return 0;
    let n = 0;
    for (const pool of s.pools) n += pool.offeredCount;
    return n;
  }

  /**
   * Takes back the subnet's oldest outstanding offer (its address goes to the free list's tail, so
   * it is handed out again only after every other free address). Returns the lease, or undefined.
   */
  reclaimOldestOffer(subnetId: string): Lease | undefined {
    const s = this.subnets.get(subnetId);
    if (!s) return undefined;
    let oldest: Lease | undefined;
    for (const pool of s.pools) {
      const ip = pool.oldestOffer();
      if (ip < 0) continue;
      const l = s.byIp.get(ip);
      if (l && l.state === 'offered' && (!oldest || l.expiresAt < oldest.expiresAt)) oldest = l;
    }
    if (oldest) this.withdrawOffer(oldest);
    return oldest;
  }

  /** Takes an offer back (the client chose another server). */
  withdrawOffer(l: Lease): void {
    if (l.state !== 'offered') return;
    const s = this.subnets.get(l.subnetId);
    if (!s || s.byIp.get(l.ip) !== l) return;
    this.unschedule(l);
    this.setPoolState(s, l.ip, AddrState.FREE);
    this.forget(s, l);
  }

  /** Marks `ip` as in use by someone unknown until `until`; the client's lease ends. Journalled. */
  decline(subnetId: string, ip: number, until: number): Lease | undefined {
    const s = this.subnets.get(subnetId);
    if (!s) return undefined;
    const prev = s.byIp.get(ip);
    if (prev) this.forget(s, prev);
    const l: Lease = { subnetId, ip, mac: '', state: 'declined', expiresAt: until, bucket: -1 };
    s.byIp.set(ip, l);
    this.live++;
    this.schedule(l);
    this.setPoolState(s, ip, AddrState.DECLINED);
    this.journal.append(this.record(l));
    return l;
  }

  /**
   * Ends offers, leases and decline probations whose time is up. Returns the bound leases that
   * expired (for 'expire' events). Cost: the buckets of the elapsed seconds.
   */
  sweep(now: number): Lease[] {
    const expired: Lease[] = [];
    const nowSec = Math.floor(now / 1000);
    if (nowSec <= this.lastSweptSecond) return expired;
    const process = (sec: number) => {
      const bucket = this.wheel.get(sec);
      if (!bucket) return;
      this.wheel.delete(sec);
      for (const l of bucket) {
        l.bucket = -1;
        if (l.expiresAt > now) {
          this.schedule(l);
          continue;
        }
        const s = this.subnets.get(l.subnetId);
        if (!s || s.byIp.get(l.ip) !== l) continue;
        if (l.state === 'offered') {
          this.setPoolState(s, l.ip, AddrState.FREE);
          this.forget(s, l);
        } else if (l.state === 'bound') {
          l.state = 'expired';
          this.setPoolState(s, l.ip, AddrState.FREE);
          expired.push(l);
        } else if (l.state === 'declined') {
          this.setPoolState(s, l.ip, AddrState.FREE);
          this.forget(s, l);
        }
      }
    };
    if (nowSec - this.lastSweptSecond > 4096) {
      for (const sec of [...this.wheel.keys()].sort((a, b) => a - b)) if (sec <= nowSec) process(sec);
    } else {
      for (let sec = this.lastSweptSecond + 1; sec <= nowSec; sec++) process(sec);
    }
    this.lastSweptSecond = nowSec;
    for (const [key, l] of this.orphans) {
      if (l.state !== 'bound' || l.expiresAt <= now) this.orphans.delete(key);
    }
    return expired;
  }

  /** Journal records waiting for `flush`. */
  get hasPendingWrites(): boolean {
    return this.journal.hasPending;
  }

  /** Writes pending records (group commit); call before sending the ACKs that depend on them. */
  flush(): void {
    this.journal.flush();
  }

  /** Compacts the journal when it has grown to several times the live state. Returns true if it did. */
  compactIfNeeded(): boolean {
    const limit = Math.max(this.compactMinRecords, this.compactRatio * this.live);
    if (this.journal.records <= limit) return false;
    this.compact();
    return true;
  }

  compact(): void {
    this.journal.compact(this.liveRecords());
    this.compactions++;
  }

  private *liveRecords(): Iterable<JournalRecord> {
    for (const s of this.subnets.values()) {
      for (const l of s.byIp.values()) if (l.state !== 'offered') yield this.record(l);
    }
    for (const l of this.orphans.values()) if (l.state !== 'offered') yield this.record(l);
  }

  close(): void {
    this.journal.close();
  }

  /** Every non-offer lease (for tests and the rack's reconciliation with the region). */
  *leases(): Iterable<Lease> {
    for (const s of this.subnets.values()) yield* s.byIp.values();
  }

  stats(): LeaseStoreStats {
    let bound = 0;
    let offered = 0;
    for (const s of this.subnets.values()) {
      for (const l of s.byIp.values()) {
        if (l.state === 'bound') bound++;
        else if (l.state === 'offered') offered++;
      }
    }
    return {
      subnets: this.subnets.size,
      leases: this.live,
      bound,
      offered,
      journalRecords: this.journal.records,
      journalWrites: this.journal.writes,
      journalSyncs: this.journal.syncs,
      compactions: this.compactions,
      loadedRecords: this.loadedRecords,
      badJournalLines: this.badJournalLines,
    };
  }

  // -------------------------------------------------------------------------------------------

  /** Gives `ip` to `mac` in state `state`, evicting whoever held or remembered it. */
  private assign(
    s: SubnetLeases,
    mac: string,
    ip: number,
    state: 'offered' | 'bound',
    until: number,
    info: { clientId?: string; hostname?: string },
  ): Lease {
    let l = s.byMac.get(mac);
    if (l && l.ip !== ip) {
      // The client moves to another address: free the old one.
      this.unschedule(l);
      this.setPoolState(s, l.ip, AddrState.FREE);
      if (l.state === 'bound') {
        l.state = 'released';
        this.journal.append(this.record(l));
      }
      this.forget(s, l);
      l = undefined;
    }
    const holder = s.byIp.get(ip);
    if (holder && holder !== l) this.forget(s, holder);
    if (!l) {
      l = { subnetId: s.id, ip, mac, state, expiresAt: until, bucket: -1 };
      s.byMac.set(mac, l);
      s.byIp.set(ip, l);
      this.live++;
    }
    l.state = state;
    l.expiresAt = until;
    if (info.clientId !== undefined) l.clientId = info.clientId;
    if (info.hostname !== undefined) l.hostname = info.hostname;
    this.schedule(l);
    return l;
  }

  private forget(s: SubnetLeases, l: Lease): void {
    this.unschedule(l);
    if (s.byIp.get(l.ip) === l) {
      s.byIp.delete(l.ip);
      this.live--;
    }
    if (l.mac !== '' && s.byMac.get(l.mac) === l) s.byMac.delete(l.mac);
  }

  private setPoolState(s: SubnetLeases, ip: number, state: AddrState): void {
    if (s.reserved.has(ip)) return;
    s.poolFor(ip)?.set(ip, state);
  }

  private schedule(l: Lease): void {
    const sec = Math.ceil(l.expiresAt / 1000);
    if (l.bucket === sec) return;
    this.unschedule(l);
    let b = this.wheel.get(sec);
    if (!b) {
      b = new Set();
      this.wheel.set(sec, b);
    }
    b.add(l);
    l.bucket = sec;
  }

  private unschedule(l: Lease): void {
    if (l.bucket < 0) return;
    const b = this.wheel.get(l.bucket);
    if (b) {
      b.delete(l);
      if (b.size === 0) this.wheel.delete(l.bucket);
    }
    l.bucket = -1;
  }

  private record(l: Lease): JournalRecord {
    const r: JournalRecord = {
      t: l.state === 'bound' ? 'b' : l.state === 'declined' ? 'd' : 'r',
      s: l.subnetId,
      ip: intToIp(l.ip),
      m: l.mac,
      e: l.expiresAt,
    };
    if (l.clientId !== undefined) r.c = l.clientId;
    if (l.hostname !== undefined) r.h = l.hostname;
    return r;
  }
}
