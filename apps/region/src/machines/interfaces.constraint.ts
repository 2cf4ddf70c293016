import { invalid } from '../common/domain.error';

/** What one labelled entry of an `interfaces` constraint asks of a machine's interface. */
export interface InterfaceWant {
  label: string;
  /** Every key must hold; a key given several times holds when any of its values does. */
  checks: { key: InterfaceKey; values: string[]; negate: boolean }[];
}

const KEYS = ['space', 'fabric', 'vid', 'subnet', 'subnet_cidr'] as const;
type InterfaceKey = (typeof KEYS)[number];

/** What an interface offers the constraint: its VLAN, and the subnets of its links. */
export interface InterfaceFacts {
  id: number;
  fabric: string | null;
  vid: number | null;
  /** The spaces of its VLAN and of its links' subnets' VLANs. */
  spaces: string[];
  subnets: { id: number; name: string; cidr: string }[];
}

/**
 * MAAS's allocate `interfaces` constraint: `label:key=value[,key=value...][;label:...]`, keys
 * space, fabric, vid, subnet (id, name or CIDR) and subnet_cidr, each also as not_<key>.
 */
export function parseInterfacesConstraint(value: string): InterfaceWant[] {
  const wants: InterfaceWant[] = [];
  for (const [i, entry] of value.split(';').map((s) => s.trim()).filter(Boolean).entries()) {
    const m = /^(?:([\w-]+):)?(.+)$/.exec(entry)!;
    const label = m[1] ?? String(i);
    if (wants.some((w) => w.label === label)) throw invalid({ interfaces: [`Duplicate interface label, "${label}".`] });
    const byKey = new Map<string, InterfaceWant['checks'][number]>();
    for (const pair of m[2].split(',').map((s) => s.trim()).filter(Boolean)) {
      const kv = /^(not_)?(\w+)=(.+)$/.exec(pair);
      if (!kv || !(KEYS as readonly string[]).includes(kv[2])) throw invalid({ interfaces: [`Malformed interfaces constraint, "${entry}".`] });
      const id = `${kv[1] ?? ''}${kv[2]}`;
      const check = byKey.get(id) ?? { key: kv[2] as InterfaceKey, values: [], negate: Boolean(kv[1]) };
      check.values.push(kv[3].trim());
      byKey.set(id, check);
    }
    if (!byKey.size) throw invalid({ interfaces: [`Malformed interfaces constraint, "${entry}".`] });
    wants.push({ label, checks: [...byKey.values()] });
  }
  return wants;
}

function holds(key: InterfaceKey, value: string, f: InterfaceFacts): boolean {
  switch (key) {
    case 'space':
      return f.spaces.includes(value);
    case 'fabric':
      return f.fabric === value;
    case 'vid':
      return f.vid !== null && String(f.vid) === value;
    case 'subnet':
      return f.subnets.some((s) => String(s.id) === value || s.name === value || s.cidr === value);
    case 'subnet_cidr':
      return f.subnets.some((s) => s.cidr === value);
  }
}

/** Assigns a distinct interface to each labelled entry, or null when one cannot be met. */
export function matchInterfaces(wants: InterfaceWant[], interfaces: InterfaceFacts[]): Record<string, number[]> | null {
  const free = [...interfaces];
  const out: Record<string, number[]> = {};
  for (const w of wants) {
    const idx = free.findIndex((f) => w.checks.every((c) => c.values.some((v) => holds(c.key, v, f)) !== c.negate));
    if (idx < 0) return null;
    out[w.label] = [free[idx].id];
    free.splice(idx, 1);
  }
  return out;
}
