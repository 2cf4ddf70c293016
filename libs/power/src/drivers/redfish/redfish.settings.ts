import { PowerError } from '../../power.errors';
import { field, requireParameters } from '../../power.settings';
import { PowerTypeDef } from '../../power.types';

/** MAAS's redfish power type (src/provisioningserver/drivers/power/redfish.py). */
export const REDFISH_TYPE: PowerTypeDef = {
  name: 'redfish',
  description: 'Redfish',
  chassis: true,
  can_probe: false,
  queryable: true,
  fields: [
    field('power_address', 'Redfish address', { required: true }),
    field('power_user', 'Redfish user', { required: true }),
    field('power_pass', 'Redfish password', { field_type: 'password', required: true, secret: true }),
    field('node_id', 'Node ID', { scope: 'node' }),
  ],
};

export interface RedfishSettings {
  /** scheme://host[:port], no trailing slash. */
  baseUrl: string;
  user: string;
  password: string;
  /** The ComputerSystem id; '' = the first member of Systems. */
  nodeId: string;
}

export function parseRedfishSettings(params: Readonly<Record<string, string>>): RedfishSettings {
  const v = requireParameters(REDFISH_TYPE, params);
  // MAAS prepends https:// to an address without a scheme.
  const raw = /^https?:\/\//i.test(v.power_address) ? v.power_address : `https://${v.power_address}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PowerError('BAD_SETTINGS', `invalid redfish power parameters: power_address "${v.power_address}" is not an address.`);
  }
  return { baseUrl: `${url.protocol}//${url.host}`, user: v.power_user, password: v.power_pass, nodeId: v.node_id.trim() };
}
