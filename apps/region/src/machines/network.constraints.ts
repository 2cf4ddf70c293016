import { invalid } from '../common/domain.error';

/**
 * MAAS's networking constraints (reference 2.7: subnets/not_subnets, fabrics/not_fabrics,
 * fabric_classes, vlans/not_vlans, and the labelled `interfaces` constraint) as SQL on the
 * machine's interfaces, their VLANs and their subnet links. Each function returns a condition with
 * `?` placeholders and its values, in order, for SqlWhere.add.
 */
export interface SqlPart {
  sql: string;
  values: unknown[];
}

const part = (sql: string, ...values: unknown[]): SqlPart => ({ sql, values });

function anyOf(parts: SqlPart[]): SqlPart {
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, values: parts.flatMap((p) => p.values) };
}

function allOf(parts: SqlPart[]): SqlPart {
  return { sql: parts.length ? `(${parts.map((p) => p.sql).join(' AND ')})` : 'true', values: parts.flatMap((p) => p.values) };
}

const isInt = (v: string) => /^\d+$/.test(v);
const isCidr = (v: string) => /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(v);
const isIp = (v: string) => /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/.test(v);

function int(field: string, v: string, max = 2 ** 31 - 1): number {
  if (!isInt(v) || Number(v) > max) throw invalid({ [field]: [`'${v}' is not a valid number.`] });
  return Number(v);
}

/** A fabric specifier on `f`: an id, `id:`, `name:`, `class_type:`, or a bare name. */
function fabricSpec(field: string, spec: string): SqlPart {
  const [k, rest] = split(spec);
  if (k === 'id' || (k === null && isInt(spec))) return part('f.id = ?', int(field, rest));
  if (k === 'name' || k === null) return part('f.name = ?', rest);
  if (k === 'class_type') return part('f.class_type = ?', rest);
  throw invalid({ [field]: [`Unknown fabric specifier '${k}' in '${spec}'.`] });
}

/** A space specifier on `sp`: an id, `id:`, `name:` or a bare name. */
function spaceSpec(field: string, spec: string): SqlPart {
  const [k, rest] = split(spec);
  if (k === 'id' || (k === null && isInt(spec))) return part('sp.id = ?', int(field, rest));
  if (k === 'name' || k === null) return part('sp.name = ?', rest);
  throw invalid({ [field]: [`Unknown space specifier '${k}' in '${spec}'.`] });
}

/** A VLAN specifier on `v` (and its fabric `f`): an id, `id:`, `vid:`, `name:`, `fabric:`, `space:`, or a bare name. */
function vlanSpec(field: string, spec: string): SqlPart {
  const [k, rest] = split(spec);
  if (k === 'id' || (k === null && isInt(spec))) return part('v.id = ?', int(field, rest));
  if (k === 'vid') return part('v.vid = ?', int(field, rest, 4094));
  if (k === 'name' || k === null) return part('v.name = ?', rest);
  if (k === 'fabric') return fabricSpec(field, rest);
  if (k === 'space') return spaceSpec(field, rest);
  throw invalid({ [field]: [`Unknown VLAN specifier '${k}' in '${spec}'.`] });
}

/** A subnet specifier on `s` (its VLAN `v`, fabric `f`, space `sp`), as MAAS takes them. */
function subnetSpec(field: string, spec: string): SqlPart {
  const [k, rest] = split(spec);
  if (k === 'id' || (k === null && isInt(spec))) return part('s.id = ?', int(field, rest));
  if (k === 'cidr' || (k === null && isCidr(spec))) {
    if (!isCidr(rest)) throw invalid({ [field]: [`'${rest}' is not a valid CIDR.`] });
    return part('s.cidr = ?::cidr', rest);
  }
  if (k === 'ip') {
    if (!isIp(rest)) throw invalid({ [field]: [`'${rest}' is not a valid IP address.`] });
    return part('?::inet <<= s.cidr', rest);
  }
  if (k === 'name' || k === null) return part('s.name = ?', rest);
  if (k === 'vid') return part('v.vid = ?', int(field, rest, 4094));
  if (k === 'vlan') return vlanSpec(field, rest);
  if (k === 'fabric') return fabricSpec(field, rest);
  if (k === 'space') return spaceSpec(field, rest);
  throw invalid({ [field]: [`Unknown subnet specifier '${k}' in '${spec}'.`] });
}

function split(spec: string): [string | null, string] {
  const i = spec.indexOf(':');
  // An IPv6 CIDR or address is not a "key:value" specifier.
  if (i < 0 || isCidr(spec) || /^[0-9a-fA-F]*::/.test(spec)) return [null, spec];
  return [spec.slice(0, i).toLowerCase(), spec.slice(i + 1)];
}

const SUBNET_LINKS = (where: SqlPart): SqlPart => ({
  sql: `EXISTS (SELECT 1 FROM interface_links l JOIN subnets s ON s.id = l.subnet_id JOIN vlans v ON v.id = s.vlan_id
     JOIN fabrics f ON f.id = v.fabric_id LEFT JOIN spaces sp ON sp.id = v.space_id
    WHERE l.interface_id = i.id AND ${where.sql})`,
  values: where.values,
});

/** An interface of machine `m` that meets `where` (on `i`, its VLAN `v`, fabric `f`, space `sp`). */
function machineHasInterface(where: SqlPart): SqlPart {
  return {
    sql: `EXISTS (SELECT 1 FROM ${INTERFACE_FROM} WHERE i.machine_id = m.id AND ${where.sql})`,
    values: where.values,
  };
}

/** subnets / not_subnets: a machine with (without) an interface linked to one of the subnets. */
export function subnetsConstraint(field: string, specs: string[], negate: boolean): SqlPart {
  const p = machineHasInterface(SUBNET_LINKS(anyOf(specs.map((s) => subnetSpec(field, s)))));
  return negate ? { sql: `NOT ${p.sql}`, values: p.values } : p;
}

/** fabrics / fabric_classes / vlans (and their not_ forms): an interface on one of them. */
export function interfaceOnConstraint(field: string, kind: 'fabric' | 'fabric_class' | 'vlan', specs: string[], negate: boolean): SqlPart {
  const one = (s: string) => (kind === 'fabric' ? fabricSpec(field, s) : kind === 'vlan' ? vlanSpec(field, s) : part('f.class_type = ?', s));
  const p = machineHasInterface(anyOf(specs.map(one)));
  return negate ? { sql: `NOT ${p.sql}`, values: p.values } : p;
}

/** One label of the `interfaces` constraint: its name and what its interface must meet. */
export interface InterfaceLabel {
  label: string;
  where: SqlPart;
}

const INTERFACE_KEYS = ['id', 'name', 'type', 'tag', 'link_speed', 'fabric', 'fabric_class', 'vlan', 'vid', 'space', 'subnet', 'subnet_cidr', 'ip', 'mode', 'hostname'];

/**
 * Parses `label:key=value[,key=value];label2:...` (reference 2.7). Within a label the keys are
 * AND-combined, a key given twice matches either value, and `not_<key>` excludes its values.
 */
export function parseInterfacesConstraint(text: string): InterfaceLabel[] {
  const field = 'interfaces';
  const labels: InterfaceLabel[] = [];
  for (const [index, chunk] of text.split(';').map((c) => c.trim()).filter(Boolean).entries()) {
    // "label:key=value,..."; an entry without a label is named by its position, as MAAS does.
    const m = /^(?:([\w-]+):)?([^:]*=.*)$/.exec(chunk);
    if (!m) throw invalid({ [field]: [`'${chunk}' is not label:key=value[,key=value...].`] });
    const label = m[1] ?? String(index);
    if (labels.some((l) => l.label === label)) throw invalid({ [field]: [`Label '${label}' is given twice.`] });
    const byKey = new Map<string, string[]>();
    for (const pair of m[2].split(',').map((p) => p.trim()).filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw invalid({ [field]: [`'${pair}' in label '${label}' is not key=value.`] });
      const key = pair.slice(0, eq).trim().toLowerCase();
      const bare = key.startsWith('not_') ? key.slice(4) : key;
      if (!INTERFACE_KEYS.includes(bare)) throw invalid({ [field]: [`Unknown key '${key}' in label '${label}'; keys: ${INTERFACE_KEYS.join(', ')} (each also as not_<key>).`] });
      byKey.set(key, [...(byKey.get(key) ?? []), pair.slice(eq + 1).trim()]);
    }
    if (!byKey.size) throw invalid({ [field]: [`Label '${label}' has no key=value.`] });
    const parts = [...byKey].map(([key, values]) => {
      const negate = key.startsWith('not_');
      const any = anyOf(values.map((v) => interfaceKey(field, negate ? key.slice(4) : key, v)));
      // An interface with no VLAN (or no link) has NULLs: "not" must hold for it, not be unknown.
      return negate ? { sql: `(${any.sql}) IS NOT TRUE`, values: any.values } : any;
    });
    labels.push({ label, where: allOf(parts) });
  }
  if (!labels.length) throw invalid({ [field]: ['No interface label given.'] });
  return labels;
}

function interfaceKey(field: string, key: string, v: string): SqlPart {
  switch (key) {
    case 'id':
      return part('i.id = ?', int(field, v));
    case 'name':
      return part('i.name = ?', v);
    case 'type':
      return part('i.type = ?', v);
    case 'tag':
      return part('? = ANY(i.tags)', v);
    case 'link_speed':
      return part('i.link_speed >= ?', int(field, v));
    case 'fabric':
      return fabricSpec(field, v);
    case 'fabric_class':
      return part('f.class_type = ?', v);
    case 'vlan':
      return vlanSpec(field, v);
    case 'vid':
      return part('v.vid = ?', int(field, v, 4094));
    case 'space': {
      // The space of the interface's VLAN, or of a subnet it is linked to.
      const own = spaceSpec(field, v);
      return anyOf([own, SUBNET_LINKS(spaceSpec(field, v))]);
    }
    case 'subnet':
      return SUBNET_LINKS(subnetSpec(field, v));
    case 'subnet_cidr':
      return SUBNET_LINKS(subnetSpec(field, `cidr:${v}`));
    case 'ip':
      if (!isIp(v)) throw invalid({ [field]: [`'${v}' is not a valid IP address.`] });
      return part(
        'EXISTS (SELECT 1 FROM interface_links l JOIN static_ip_addresses a ON a.id = l.static_ip_id WHERE l.interface_id = i.id AND a.ip = ?::inet)',
        v,
      );
    case 'mode':
      if (v.toLowerCase() !== 'unconfigured') throw invalid({ [field]: [`mode '${v}': only 'unconfigured' can be asked for.`] });
      return part(`NOT EXISTS (SELECT 1 FROM interface_links l WHERE l.interface_id = i.id AND l.mode <> 'link_up')`);
    case 'hostname':
      return part('(SELECT hostname FROM machines mm WHERE mm.id = i.machine_id) = ?', v);
    default:
      throw invalid({ [field]: [`Unknown key '${key}'.`] });
  }
}

/** Every label met by some interface of machine `m` (distinct interfaces are assigned afterwards). */
export function interfacesConstraint(labels: InterfaceLabel[]): SqlPart {
  return allOf(labels.map((l) => machineHasInterface(l.where)));
}

/** The tables an interface label's condition reads: the interface `i`, its VLAN `v`, fabric `f`, space `sp`. */
export const INTERFACE_FROM = `interfaces i LEFT JOIN vlans v ON v.id = i.vlan_id LEFT JOIN fabrics f ON f.id = v.fabric_id
     LEFT JOIN spaces sp ON sp.id = v.space_id`;

/**
 * Gives each label one interface of its own where the machine has enough (first fit over labels
 * in order, as MAAS's label matching reports one interface per label); null when it cannot.
 */
export function assignInterfaces(candidates: ReadonlyMap<string, readonly number[]>): Record<string, number[]> | null {
  const used = new Set<number>();
  const out: Record<string, number[]> = {};
  const labels = [...candidates.keys()].sort((a, b) => candidates.get(a)!.length - candidates.get(b)!.length);
  for (const label of labels) {
    const pick = candidates.get(label)!.find((id) => !used.has(id));
    if (pick === undefined) return null;
    used.add(pick);
    out[label] = [pick];
  }
  return out;
}
