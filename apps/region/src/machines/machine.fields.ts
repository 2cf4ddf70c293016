import { invalid } from '../common/domain.error';
import { parseBool } from '../common/values';
import { MachinesRepository } from './machines.repository';

/**
 * The machine fields the services validate, as MAAS's node forms do. Inputs carry the values as
 * the caller sent them (strings); the services check them in MAAS's order, so that a request with
 * several faults is answered with the same fault MAAS would name.
 */

/** Power settings as sent: `power_type`, one `power_parameters` JSON text and/or `power_parameters_<name>` fields. */
export interface PowerSettingsInput {
  type?: string;
  /** The `power_parameters` JSON object, as text. */
  json?: string;
  /** `power_parameters_<name>` fields (name without the prefix, value), in the order sent. */
  fields: ReadonlyArray<readonly [string, string]>;
  /** `power_parameters_skip_check`. */
  skipCheck?: string;
}

/** Whether the input sets a power type or any power parameter. */
export function setsPower(p: PowerSettingsInput): boolean {
  return (p.type ?? '') !== '' || p.json !== undefined || p.fields.length > 0;
}

/** Power parameters from the `power_parameters` JSON text and the `power_parameters_<name>` fields (these win); null when none was sent. */
export function powerParamsFrom(p: PowerSettingsInput): Record<string, string> | null {
  const out: Record<string, string> = {};
  let any = false;
  if (p.json !== undefined) {
    any = true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(p.json);
    } catch {
      throw invalid({ power_parameters: ['Must be a JSON object.'] });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw invalid({ power_parameters: ['Must be a JSON object.'] });
    }
    for (const [k, v] of Object.entries(parsed)) out[k] = String(v);
  }
  for (const [name, value] of p.fields) {
    any = true;
    out[name] = value;
  }
  return any ? out : null;
}

/** A boolean field: absent or empty gives `dflt`; anything but a MAAS boolean is a field error. */
export function boolField(name: string, raw: string | undefined, dflt: boolean): boolean {
  if (raw === undefined || raw === '') return dflt;
  const b = parseBool(raw);
  if (b === undefined) throw invalid({ [name]: [`'${raw}' is not a boolean.`] });
  return b;
}

/** Architecture as MAAS stores it: 'amd64' -> 'amd64/generic'; HWE kernels are refused. Null when not given. */
export function architectureFrom(arch: string | undefined, sub: string | undefined): string | null {
  if (!arch) return null;
  for (const v of [arch, sub ?? '']) {
    if (/^(hwe|ga)-/.test(v.split('/').pop() ?? '')) {
      throw invalid({ architecture: ['Subarchitecture cannot be a HWE or GA kernel; use min_hwe_kernel.'] });
    }
  }
  const full = arch.includes('/') ? arch : `${arch}/${sub || 'generic'}`;
  if (!/^[a-z0-9_]+\/[a-z0-9_.-]+$/.test(full)) {
    throw invalid({ architecture: [`'${full}' is not a valid architecture.`] });
  }
  return full;
}

/** Options MAAS removed; asking for one is refused with MAAS's words. */
const REMOVED_OPTIONS = {
  installKvm: 'Support for install_kvm allocation parameter has been removed.',
  installRackd: 'Support for install_rackd allocation parameter has been removed.',
  registerVmhost: 'Support for register_vmhost allocation parameter has been removed.',
} as const;

export type RemovedOptionsInput = { readonly [K in keyof typeof REMOVED_OPTIONS]?: string };

export function refuseRemovedOptions(given: RemovedOptionsInput): void {
  for (const [name, msg] of Object.entries(REMOVED_OPTIONS) as [keyof typeof REMOVED_OPTIONS, string][]) {
    if (parseBool(given[name]) === true) throw invalid(msg);
  }
}

/** Domain, zone and pool named by a create or update. */
export interface PlacementInput {
  domain?: string;
  zone?: string;
  pool?: string;
}

/**
 * Ids of the named domain, zone and pool; an unknown name is a field error in `errors`. For a new
 * machine (`partial` false) an absent name means the default; for an update it means no change.
 */
export async function resolvePlacement(repo: MachinesRepository, p: PlacementInput, errors: Record<string, string[]>, partial = false) {
  const one = async (table: 'domains' | 'zones' | 'resource_pools', name: string | undefined, field: string, dflt: string) => {
    const wanted = name || (partial ? undefined : dflt);
    if (wanted === undefined) return undefined;
    const id = await repo.idByName(table, wanted);
    if (id === null) {
      errors[field] = [`Select a valid choice. ${wanted} is not one of the available choices.`];
      return undefined;
    }
    return id;
  };
  const defaultDomain = await repo.defaultDomainName();
  return {
    domainId: (await one('domains', p.domain, 'domain', defaultDomain ?? 'maas'))!,
    zoneId: (await one('zones', p.zone, 'zone', 'default'))!,
    poolId: (await one('resource_pools', p.pool, 'pool', 'default')) ?? null,
  };
}
