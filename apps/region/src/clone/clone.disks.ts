/** A physical disk as the clone's disk mapping sees it. */
export interface CloneDisk {
  id: number;
  name: string;
  /** bytes */
  size: number;
  isBoot: boolean;
}

export type DiskMapping = { ok: true; pairs: { source: CloneDisk; destination: CloneDisk }[] } | { ok: false; problems: string[] };

const byId = (a: CloneDisk, b: CloneDisk) => a.id - b.id;

/** The boot disk (the one marked, else the first by id) first, then the others by id. */
function ordered(disks: readonly CloneDisk[]): CloneDisk[] {
  const sorted = [...disks].sort(byId);
  const boot = sorted.find((d) => d.isBoot) ?? sorted[0];
  return boot ? [boot, ...sorted.filter((d) => d !== boot)] : [];
}

export function humanSize(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Which destination disk takes each source disk's storage: the source's boot disk goes to the
 * destination's boot disk (so the boot disk stays the boot disk), the other disks pair up in id
 * order. Every destination disk must be at least as large as the source disk it takes; every
 * disk too small is named with both sizes.
 */
export function mapDisks(source: readonly CloneDisk[], destination: readonly CloneDisk[]): DiskMapping {
  const src = ordered(source);
  const dst = ordered(destination);
  if (dst.length < src.length) {
    return { ok: false, problems: [`The destination has ${dst.length} physical disk(s) but the source has ${src.length}.`] };
  }
  const pairs = src.map((s, i) => ({ source: s, destination: dst[i] }));
  const problems = pairs
    .filter((p) => p.destination.size < p.source.size)
    .map(
      (p) =>
        `Destination disk ${p.destination.name} (${p.destination.size} bytes, ${humanSize(p.destination.size)}) is smaller than ` +
        `source disk ${p.source.name} (${p.source.size} bytes, ${humanSize(p.source.size)}).`,
    );
  return problems.length ? { ok: false, problems } : { ok: true, pairs };
}
