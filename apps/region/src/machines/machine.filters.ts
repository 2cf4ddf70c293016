import {
  ALL_STATUSES,
  NodeStatus,
  parseSimpleStatusLabel,
  parseStatusLabel,
  statusesInSimpleGroup,
} from '@kiln/lifecycle';
import { invalid } from '../common/domain.error';
import { normalizeMac } from '../common/mac';
import type { ParamBag } from '../common/param-bag';
import { interfaceOnConstraint, interfacesConstraint, parseInterfacesConstraint, subnetsConstraint, type SqlPart } from './network.constraints';

/** SQL conditions on `m` (machines) built from filters, with positional parameters. */
export class SqlWhere {
  readonly clauses: string[] = [];
  readonly values: unknown[] = [];

  add(clause: string, ...values: unknown[]): void {
    let text = clause;
    for (const v of values) {
      this.values.push(v);
      text = text.replace('?', `$${this.values.length}`);
    }
    this.clauses.push(text);
  }

  sql(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

type Apply = (w: SqlWhere, values: string[], p: ParamBag) => void;

const NO_MATCH = 'false';

function statusValues(values: string[], name: string): number[] {
  return values.map((v) => {
    const s = parseStatusLabel(v.toLowerCase());
    if (s === undefined) throw invalid({ [name]: [`'${v}' is not a valid status.`] });
    return s;
  });
}

function simpleStatusValues(values: string[], name: string): number[] {
  return values.flatMap((v) => {
    const g = parseSimpleStatusLabel(v.toLowerCase());
    if (g === undefined) throw invalid({ [name]: [`'${v}' is not a valid simple status.`] });
    return statusesInSimpleGroup(g);
  });
}

function intValue(values: string[], name: string): number {
  const v = values[values.length - 1];
  if (!/^\d+(\.\d+)?$/.test(v)) throw invalid({ [name]: [`Invalid value '${v}': a number is required.`] });
  return Number(v);
}

function archValues(values: string[]): string[] {
  // 'amd64' means 'amd64/generic', and both spellings match.
  return values.flatMap((v) => (v.includes('/') ? [v] : [`${v}/generic`, v]));
}

const addPart = (w: SqlWhere, p: SqlPart) => w.add(p.sql, ...p.values);

const tagsMatch = (w: SqlWhere, names: string[], negate: boolean) => {
  const tags = names.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  if (!tags.length) return;
  // One EXISTS per tag (for not_tags, one for all of them): Postgres can then either probe the
  // (machine_id, tag_id) key per machine while it walks the candidates cheapest first and stop at
  // the first match, or, for a rare tag, start from the tag's machines (a semi-join); a count
  // subquery per machine allows neither and costs a probe per tag for every machine of the fleet.
  const exists = (op: string) => `EXISTS (SELECT 1 FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = m.id AND t.name ${op})`;
  if (negate) w.add(`NOT ${exists('= ANY(?)')}`, tags);
  else for (const t of new Set(tags)) w.add(exists('= ?'), t);
};

/** Filters shared by machine listing (GET machines/) and allocation constraints. */
const COMMON: Record<string, Apply> = {
  arch: (w, v) => w.add('m.architecture = ANY(?)', archValues(v)),
  not_arch: (w, v) => w.add('NOT (m.architecture = ANY(?))', archValues(v)),
  cpu_count: (w, v) => w.add('m.cpu_count >= ?', intValue(v, 'cpu_count')),
  cpu_speed: (w, v) => w.add('m.cpu_speed >= ?', intValue(v, 'cpu_speed')),
  mem: (w, v) => w.add('m.memory >= ?', intValue(v, 'mem')),
  tags: (w, v) => tagsMatch(w, v, false),
  not_tags: (w, v) => tagsMatch(w, v, true),
  zone: (w, v) => w.add('z.name = ANY(?)', v),
  not_in_zone: (w, v) => w.add('NOT (z.name = ANY(?))', v),
  pool: (w, v) => w.add('p.name = ANY(?)', v),
  not_in_pool: (w, v) => w.add('NOT (p.name = ANY(?))', v),
  owner: (w, v) => w.add('u.username = ANY(?)', v),
  not_owner: (w, v) => w.add('(u.username IS NULL OR NOT (u.username = ANY(?)))', v),
  power_state: (w, v) => w.add('m.power_state = ANY(?)', v),
  not_power_state: (w, v) => w.add('NOT (m.power_state = ANY(?))', v),
  deployment_target: (w, v) => {
    const targets = v.map((x) => x.toLowerCase());
    for (const t of targets) {
      if (t !== 'memory' && t !== 'disk') {
        throw invalid({ deployment_target: [`'${t}' is not one of memory, disk.`] });
      }
    }
    w.add('m.ephemeral_deploy = ANY(?)', targets.map((t) => t === 'memory'));
  },
  link_speed: (w, v) =>
    w.add('EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.link_speed >= ?)', intValue(v, 'link_speed')),
  fabrics: (w, v) => addPart(w, interfaceOnConstraint('fabrics', 'fabric', v, false)),
  not_fabrics: (w, v) => addPart(w, interfaceOnConstraint('not_fabrics', 'fabric', v, true)),
  fabric_classes: (w, v) => addPart(w, interfaceOnConstraint('fabric_classes', 'fabric_class', v, false)),
  not_fabric_classes: (w, v) => addPart(w, interfaceOnConstraint('not_fabric_classes', 'fabric_class', v, true)),
  vlans: (w, v) => addPart(w, interfaceOnConstraint('vlans', 'vlan', v, false)),
  not_vlans: (w, v) => addPart(w, interfaceOnConstraint('not_vlans', 'vlan', v, true)),
  subnets: (w, v) => addPart(w, subnetsConstraint('subnets', v, false)),
  not_subnets: (w, v) => addPart(w, subnetsConstraint('not_subnets', v, true)),
  // Kiln does not record PCI/USB devices per machine yet: a devices constraint matches no machine.
  devices: (w) => w.add(NO_MATCH),
};

export const LIST_FILTERS: Record<string, Apply> = {
  ...COMMON,
  id: (w, v) => w.add('m.system_id = ANY(?)', v),
  system_id: (w, v) => w.add('m.system_id = ANY(?)', v),
  not_id: (w, v) => w.add('NOT (m.system_id = ANY(?))', v),
  hostname: (w, v) => w.add('m.hostname = ANY(?)', v.map((h) => h.split('.')[0])),
  not_hostname: (w, v) => w.add('NOT (m.hostname = ANY(?))', v.map((h) => h.split('.')[0])),
  mac_address: (w, v) => {
    const macs = v.map((x) => {
      const mac = normalizeMac(x);
      if (!mac) throw invalid({ mac_address: [`'${x}' is not a valid MAC address.`] });
      return mac;
    });
    w.add('EXISTS (SELECT 1 FROM interfaces i WHERE i.machine_id = m.id AND i.mac_address = ANY(?))', macs);
  },
  domain: (w, v) => w.add('d.name = ANY(?)', v),
  not_domain: (w, v) => w.add('NOT (d.name = ANY(?))', v),
  agent_name: (w, v) => w.add('m.agent_name = ANY(?)', v),
  not_agent_name: (w, v) => w.add('NOT (m.agent_name = ANY(?))', v),
  status: (w, v) => w.add('m.status = ANY(?)', statusValues(v, 'status')),
  not_status: (w, v) => w.add('NOT (m.status = ANY(?))', statusValues(v, 'not_status')),
  simple_status: (w, v) => w.add('m.status = ANY(?)', simpleStatusValues(v, 'simple_status')),
  not_simple_status: (w, v) => w.add('NOT (m.status = ANY(?))', simpleStatusValues(v, 'not_simple_status')),
  storage: () => undefined,
  interfaces: (w, v) => addPart(w, interfacesConstraint(parseInterfacesConstraint(v[v.length - 1]))),
};

/** Parameters accepted by allocate that are not constraints. */
export const ALLOCATE_OPTIONS = new Set([
  'op',
  'agent_name',
  'comment',
  'bridge_all',
  'bridge_type',
  'bridge_stp',
  'bridge_fd',
  'dry_run',
  'verbose',
  'install_kvm',
  'install_rackd',
  'register_vmhost',
  // python-libmaas sends these; MAAS rejects them, Kiln accepts and ignores them so that
  // libmaas's allocate() works.
  'not_in_zones',
  'pod',
  'not_pod',
  'pod_type',
  'not_pod_type',
]);

export const ALLOCATE_CONSTRAINTS: Record<string, Apply> = {
  ...COMMON,
  name: (w, v) => w.add('m.hostname = ?', v[0].split('.')[0]),
  system_id: (w, v) => w.add('m.system_id = ?', v[0]),
  storage: () => undefined, // checked per machine: see storage.constraint.ts
  interfaces: (w, v) => addPart(w, interfacesConstraint(parseInterfacesConstraint(v[v.length - 1]))),
};

export function buildWhere(
  params: ParamBag,
  table: Record<string, Apply>,
  ignore: ReadonlySet<string> = new Set(['op']),
): SqlWhere {
  const w = new SqlWhere();
  const unknown: Record<string, string[]> = {};
  for (const name of params.names()) {
    if (ignore.has(name)) continue;
    const apply = table[name];
    if (!apply) {
      unknown[name] = ['No such constraint.'];
      continue;
    }
    const values = params.getAll(name).filter((v) => v !== '');
    if (!values.length) continue;
    apply(w, values, params);
  }
  if (Object.keys(unknown).length) throw invalid(unknown);
  return w;
}

export const STATUS_COUNT = ALL_STATUSES.length;
export { NodeStatus };
