import type { DhcpOp, DhcpReservation, DhcpSnapshot, DhcpSubnet, DhcpSubnetConfig, DhcpUpdate } from './dhcp-config.contract';

/**
 * Pure functions over DHCP configurations: the region diffs a rack's configuration before and
 * after a change into operations; the rack applies them. apply(before, diff(before, after))
 * equals after, which the spec checks on random configurations.
 */

const SUBNET_KEYS: readonly (keyof DhcpSubnet)[] = [
  'id',
  'cidr',
  'gateway',
  'dnsServers',
  'domain',
  'mtu',
  'vlan',
  'relayed',
  'primary',
  'peerRackId',
  'disabledBootArchitectures',
  'leaseTimeS',
  'ntpServers',
  'domainSearch',
];

export function subnetHeader(s: DhcpSubnetConfig): DhcpSubnet {
  const out = {} as Record<string, unknown>;
  for (const k of SUBNET_KEYS) out[k] = s[k];
  return out as unknown as DhcpSubnet;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Operations that turn `before` into `after` (both keyed by subnet id), touching only what changed. */
export function diffDhcpSubnets(before: ReadonlyMap<number, DhcpSubnetConfig>, after: ReadonlyMap<number, DhcpSubnetConfig>): DhcpOp[] {
  const ops: DhcpOp[] = [];
  for (const [id] of before) if (!after.has(id)) ops.push({ op: 'removeSubnet', subnetId: id });
  for (const [id, next] of after) {
    const prev = before.get(id);
    const header = subnetHeader(next);
    if (!prev || !same(subnetHeader(prev), header)) ops.push({ op: 'upsertSubnet', subnet: header });
    const prevRanges = new Map((prev?.ranges ?? []).map((r) => [r.id, r]));
    const nextRanges = new Map(next.ranges.map((r) => [r.id, r]));
    for (const [rid] of prevRanges) if (!nextRanges.has(rid)) ops.push({ op: 'removeRange', subnetId: id, rangeId: rid });
    for (const [rid, r] of nextRanges) if (!same(prevRanges.get(rid), r)) ops.push({ op: 'upsertRange', subnetId: id, range: r });
    const prevRes = new Map((prev?.reservations ?? []).map((r) => [r.id, r]));
    const nextRes = new Map(next.reservations.map((r) => [r.id, r]));
    for (const [rid] of prevRes) if (!nextRes.has(rid)) ops.push({ op: 'removeReservation', subnetId: id, reservationId: rid });
    for (const [rid, r] of nextRes) if (!same(prevRes.get(rid), r)) ops.push({ op: 'upsertReservation', subnetId: id, reservation: r });
  }
  return ops;
}

export type ApplyResult =
  | { kind: 'applied'; snapshot: DhcpSnapshot }
  /** The update is at or below the current revision: already applied (or superseded). */
  | { kind: 'stale' }
  /** The update builds on a revision this side never saw: fetch a snapshot. */
  | { kind: 'gap' };

/** Applies a pushed update to a snapshot without mutating it. */
export function applyDhcpUpdate(current: DhcpSnapshot, update: DhcpUpdate): ApplyResult {
  if (update.revision <= current.revision) return { kind: 'stale' };
  if (update.baseRevision !== current.revision) return { kind: 'gap' };
  const subnets = new Map(current.subnets.map((s) => [s.id, { ...s, ranges: [...s.ranges], reservations: [...s.reservations] }]));
  for (const op of update.ops) {
    switch (op.op) {
      case 'upsertSubnet': {
        const prev = subnets.get(op.subnet.id);
        subnets.set(op.subnet.id, { ...op.subnet, ranges: prev?.ranges ?? [], reservations: prev?.reservations ?? [] });
        break;
      }
      case 'removeSubnet':
        subnets.delete(op.subnetId);
        break;
      case 'upsertRange': {
        const s = subnets.get(op.subnetId);
        if (!s) return { kind: 'gap' };
        s.ranges = upsert(s.ranges, op.range);
        break;
      }
      case 'removeRange': {
        const s = subnets.get(op.subnetId);
        if (s) s.ranges = s.ranges.filter((r) => r.id !== op.rangeId);
        break;
      }
      case 'upsertReservation': {
        const s = subnets.get(op.subnetId);
        if (!s) return { kind: 'gap' };
        s.reservations = upsert(s.reservations, op.reservation);
        break;
      }
      case 'removeReservation': {
        const s = subnets.get(op.subnetId);
        if (s) s.reservations = s.reservations.filter((r) => r.id !== op.reservationId);
        break;
      }
      default: {
        const never: never = op;
        throw new Error(`unknown DHCP op ${JSON.stringify(never)}`);
      }
    }
  }
  return { kind: 'applied', snapshot: { rackId: current.rackId, revision: update.revision, subnets: sortSubnets([...subnets.values()]) } };
}

function upsert<T extends { id: number }>(list: T[], item: T): T[] {
  const out = list.filter((x) => x.id !== item.id);
  out.push(item);
  return out.sort((a, b) => a.id - b.id);
}

/** Canonical order (subnets, ranges and reservations by id) so snapshots compare by value. */
export function sortSubnets(subnets: DhcpSubnetConfig[]): DhcpSubnetConfig[] {
  return subnets
    .map((s) => ({
      ...s,
      ranges: [...s.ranges].sort((a, b) => a.id - b.id),
      reservations: [...s.reservations].sort((a: DhcpReservation, b: DhcpReservation) => a.id - b.id),
    }))
    .sort((a, b) => a.id - b.id);
}
