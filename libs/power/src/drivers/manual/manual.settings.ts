import { PowerTypeDef } from '../../power.types';

/** MAAS's manual power type: no power control at all. */
export const MANUAL_TYPE: PowerTypeDef = {
  name: 'manual',
  description: 'Manual',
  chassis: false,
  can_probe: false,
  queryable: false,
  fields: [],
};
