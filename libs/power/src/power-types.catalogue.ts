import { IPMI_TYPE, parseIpmiSettings } from './drivers/ipmi/ipmi.settings';
import { MANUAL_TYPE } from './drivers/manual/manual.settings';
import { parseRedfishSettings, REDFISH_TYPE } from './drivers/redfish/redfish.settings';
import { VIRSH_TYPE } from './drivers/virsh/virsh.settings';
import { WEBHOOK_TYPE } from './drivers/webhook/webhook.settings';
import { isPowerError } from './power.errors';
import { checkParameters } from './power.settings';
import { PowerTypeDef } from './power.types';

/**
 * The power types Kiln knows, with MAAS's names: the single source for the region (validation of
 * power_parameters, describe_power_types, which fields are secret) and for the rack's drivers,
 * which declare these same definitions.
 */
export const POWER_TYPES: readonly PowerTypeDef[] = [IPMI_TYPE, REDFISH_TYPE, VIRSH_TYPE, WEBHOOK_TYPE, MANUAL_TYPE];

const BY_NAME = new Map(POWER_TYPES.map((p) => [p.name, p]));

/**
 * The drivers' own reading of their settings, so that what a driver would refuse at power time
 * (an IPMI address ipmipower would read as several hosts, a Redfish address that is no URL) is
 * refused when the parameters are saved.
 */
const DRIVER_CHECKS: Record<string, (values: Record<string, string>) => unknown> = {
  ipmi: parseIpmiSettings,
  redfish: parseRedfishSettings,
};

export function powerType(name: string): PowerTypeDef | undefined {
  return BY_NAME.get(name);
}

export function isSecretField(powerTypeName: string, field: string): boolean {
  return !!BY_NAME.get(powerTypeName)?.fields.find((x) => x.name === field && x.secret);
}

/** The names of a power type's secret fields (to encrypt at rest, to hide from non-admins, to keep out of logs). */
export function secretFields(powerTypeName: string): string[] {
  return BY_NAME.get(powerTypeName)?.fields.filter((f) => f.secret).map((f) => f.name) ?? [];
}

/** Names that look secret, for parameters of types the catalogue does not know. */
const SECRET_NAME = /pass|secret|token|key|k_g|cert/i;

/** Parameters with every secret value replaced, safe to log. */
export function redactPowerParameters(powerTypeName: string, params: Readonly<Record<string, string>>): Record<string, string> {
  const secret = new Set(secretFields(powerTypeName));
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, (secret.has(k) || SECRET_NAME.test(k)) && v ? '********' : v]));
}

/** The view describe_power_types gives clients (MAAS's shape; `secret` stays server-side). */
export function describePowerTypes() {
  return POWER_TYPES.map((p) => ({
    driver_type: 'power',
    name: p.name,
    description: p.description,
    chassis: p.chassis,
    can_probe: p.can_probe,
    queryable: p.queryable,
    fields: p.fields.map(({ secret: _s, ...rest }) => rest),
    missing_packages: [] as string[],
  }));
}

/**
 * Checks parameters against the driver's schema, for the region (the rack re-checks when it
 * parses). Returns field errors MAAS-style ({"power_parameters": [...]}) or the completed
 * parameters (defaults filled in). `skipCheck` is MAAS's skip_check: store as given.
 */
export function validatePowerParameters(
  type: string,
  params: Record<string, string>,
  skipCheck: boolean,
): { ok: true; params: Record<string, string> } | { ok: false; errors: Record<string, string[]> } {
  if (type === '') return { ok: true, params: {} };
  const def = BY_NAME.get(type);
  if (!def) {
    return {
      ok: false,
      errors: {
        power_type: [`Select a valid choice. ${type} is not one of the available choices (${POWER_TYPES.map((p) => p.name).join(', ')}).`],
      },
    };
  }
  if (skipCheck) return { ok: true, params: { ...params } };
  const { problems, values } = checkParameters(def, params);
  if (!problems.length) {
    try {
      DRIVER_CHECKS[type]?.(values);
    } catch (e) {
      if (!isPowerError(e)) throw e;
      problems.push(e.message);
    }
  }
  return problems.length ? { ok: false, errors: { power_parameters: problems } } : { ok: true, params: values };
}
