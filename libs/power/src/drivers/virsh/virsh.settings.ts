import { field } from '../../power.settings';
import { PowerTypeDef } from '../../power.types';

/** MAAS's virsh power type (src/provisioningserver/drivers/power/virsh.py). */
export const VIRSH_TYPE: PowerTypeDef = {
  name: 'virsh',
  description: 'Virsh (virtual systems)',
  chassis: true,
  can_probe: true,
  queryable: true,
  fields: [
    field('power_address', 'Address', { required: true }),
    field('power_pass', 'Password (optional)', { field_type: 'password', secret: true }),
    field('power_id', 'Virsh VM ID', { scope: 'node', required: true }),
  ],
};

export interface VirshSettings {
  uri: string;
  domain: string;
  password: string;
}
