import { IPV4_PATTERN, NeighbourSighting } from '@kiln/contracts';

/** Why an entry of the kernel's neighbour table was not taken as a sighting. */
export type SkipReason = 'malformed' | 'not-served' | 'not-ipv4' | 'no-lladdr' | 'not-live';

/** One live entry of the kernel's neighbour table: a host that answered or spoke ARP on `iface`. */
export interface NeighbourEntry {
  iface: string;
  ip: string;
  mac: string;
  /** When the kernel last heard from the host (now minus the entry's confirmed/updated age). */
  seenAt: number;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** States in which the kernel has heard from the host; FAILED/INCOMPLETE/NOARP/PERMANENT prove nothing. */
const LIVE = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE']);

/**
 * Parses `ip -j -s neigh show` output (iproute2's JSON) taken at `now` (ms). Entries on interfaces
 * the rack does not serve, without a link-layer address, not IPv4, or in a state that proves no
 * traffic are skipped with a reason; anything not shaped like an entry is 'malformed'.
 */
export function parseNeighbourTable(json: string, served: ReadonlySet<string>, now: number): { entries: NeighbourEntry[]; skipped: Record<SkipReason, number> } {
  const skipped: Record<SkipReason, number> = { malformed: 0, 'not-served': 0, 'not-ipv4': 0, 'no-lladdr': 0, 'not-live': 0 };
  const entries: NeighbourEntry[] = [];
  let rows: unknown;
  try {
    rows = JSON.parse(json || '[]');
  } catch {
    skipped.malformed++;
    return { entries, skipped };
  }
  if (!Array.isArray(rows)) {
    skipped.malformed++;
    return { entries, skipped };
  }
  for (const row of rows) {
    const r = row as { dst?: unknown; dev?: unknown; lladdr?: unknown; state?: unknown; confirmed?: unknown; updated?: unknown };
    if (typeof row !== 'object' || row === null || typeof r.dst !== 'string' || typeof r.dev !== 'string') {
      skipped.malformed++;
      continue;
    }
    if (!served.has(r.dev)) {
      skipped['not-served']++;
      continue;
    }
    if (!IPV4_PATTERN.test(r.dst)) {
      skipped[r.dst.includes(':') ? 'not-ipv4' : 'malformed']++;
      continue;
    }
    const states = Array.isArray(r.state) ? r.state.filter((s): s is string => typeof s === 'string') : [];
    if (!states.some((s) => LIVE.has(s))) {
      skipped['not-live']++;
      continue;
    }
    if (r.lladdr === undefined) {
      skipped['no-lladdr']++;
      continue;
    }
    const mac = typeof r.lladdr === 'string' ? r.lladdr.toLowerCase() : '';
    if (!MAC.test(mac) || mac === '00:00:00:00:00:00' || mac === 'ff:ff:ff:ff:ff:ff') {
      skipped.malformed++;
      continue;
    }
    const ages = [r.confirmed, r.updated].filter((a): a is number => typeof a === 'number' && Number.isFinite(a) && a >= 0);
    // iproute2 prints the ages in seconds (USER_HZ ticks already divided).
    const age = ages.length ? Math.min(...ages) : 0;
    entries.push({ iface: r.dev, ip: r.dst, mac, seenAt: now - age * 1000 });
  }
  return { entries, skipped };
}

/**
 * Sightings of one report period, one per (interface, IP, MAC). A table entry counts as a new
 * sighting only when the kernel heard from the host again since the last time this rack looked
 * (a stale entry read ten times is one sighting, not ten).
 */
export class NeighbourBatch {
  private readonly current = new Map<string, { iface: string; ip: string; mac: string; count: number; first: number; last: number }>();
  /** Last time heard from, per key, across periods (bounded: forgotten when the kernel drops the entry). */
  private readonly heard = new Map<string, number>();

  /** Adds one reading of the table; returns how many entries were new sightings. */
  add(entries: readonly NeighbourEntry[]): number {
    let fresh = 0;
    const present = new Set<string>();
    for (const e of entries) {
      const key = `${e.iface}|${e.ip}|${e.mac}`;
      present.add(key);
      const before = this.heard.get(key);
      // Ages have a one-second resolution: only a clearly later time is a new sighting.
      if (before !== undefined && e.seenAt <= before + 1000) continue;
      this.heard.set(key, e.seenAt);
      fresh++;
      const cur = this.current.get(key);
      if (cur) {
        cur.count++;
        cur.first = Math.min(cur.first, e.seenAt);
        cur.last = Math.max(cur.last, e.seenAt);
      } else {
        this.current.set(key, { iface: e.iface, ip: e.ip, mac: e.mac, count: 1, first: e.seenAt, last: e.seenAt });
      }
    }
    for (const key of this.heard.keys()) if (!present.has(key)) this.heard.delete(key);
    return fresh;
  }

  get size(): number {
    return this.current.size;
  }

  /** The period's sightings, oldest last-seen first; starts a new period. */
  take(): NeighbourSighting[] {
    const out = [...this.current.values()]
      .sort((a, b) => a.last - b.last)
      .map((s) => ({ iface: s.iface, ip: s.ip, mac: s.mac, count: s.count, firstSeen: new Date(s.first).toISOString(), lastSeen: new Date(s.last).toISOString() }));
    this.current.clear();
    return out;
  }
}
