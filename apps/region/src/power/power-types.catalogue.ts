/**
 * The power drivers' settings, from the single definition the racks' drivers use (@kiln/power):
 * the region validates power parameters, shows them in describe_power_types and knows which
 * are secret from it.
 */
export {
  describePowerTypes,
  isSecretField,
  powerType,
  POWER_TYPES,
  validatePowerParameters,
} from '@kiln/power/catalogue';
