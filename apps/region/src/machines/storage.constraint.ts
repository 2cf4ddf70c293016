import { invalid } from '../common/domain.error';

export interface StorageWant {
  label: string;
  minBytes: number;
  tags: string[];
}

interface DiskLike {
  id: number;
  size: string;
  tags: string[];
  type: string;
}

/** `label:sizeGB(tag,tag),label2:size` (sizes in GB of 10^9 bytes; labels optional). */
export function parseStorageConstraint(value: string): StorageWant[] {
  const parts = value.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return parts
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const m = /^(?:([\w-]+):)?(\d+(?:\.\d+)?)(?:\(([^)]*)\))?$/.exec(entry);
      if (!m) throw invalid({ storage: [`Malformed storage constraint, "${entry}".`] });
      return {
        label: m[1] ?? String(i),
        minBytes: Number(m[2]) * 1e9,
        tags: (m[3] ?? '').split(',').map((t) => t.trim()).filter(Boolean),
      };
    });
}

/** Assigns a distinct physical disk to each wanted entry; the first entry is the root disk. */
export function matchStorage(wants: StorageWant[], disks: DiskLike[]): Record<string, number[]> | null {
  const free = disks.filter((d) => d.type === 'physical').sort((a, b) => Number(a.size) - Number(b.size));
  const out: Record<string, number[]> = {};
  for (const w of wants) {
    const idx = free.findIndex((d) => Number(d.size) >= w.minBytes && w.tags.every((t) => d.tags.includes(t)));
    if (idx < 0) return null;
    out[w.label] = [free[idx].id];
    free.splice(idx, 1);
  }
  return out;
}
