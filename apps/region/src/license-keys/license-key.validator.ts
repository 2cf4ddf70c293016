/**
 * License keys as MAAS validates them: only operating systems whose driver takes a license key
 * accept one (Windows), in that OS's key format. Pure.
 */
const FORMATS: Record<string, RegExp> = {
  // MAAS's WindowsOS.validate_license_key: five groups of five letters and digits.
  windows: /^([A-Za-z0-9]{5}-){4}[A-Za-z0-9]{5}$/,
};

export const LICENSED_OSYSTEMS = Object.keys(FORMATS);

/** Field errors for a key, empty when it is valid. */
export function licenseKeyErrors(osystem: string, series: string, key: string): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  if (!osystem) errors.osystem = ['This field is required.'];
  else if (!FORMATS[osystem]) errors.osystem = [`Select a valid choice. ${osystem} is not one of the available choices.`];
  if (!series) errors.distro_series = ['This field is required.'];
  else if (!/^[A-Za-z0-9._-]+$/.test(series)) errors.distro_series = [`Select a valid choice. ${series} is not one of the available choices.`];
  if (!key) errors.license_key = ['This field is required.'];
  else if (FORMATS[osystem] && !FORMATS[osystem].test(key)) errors.license_key = ['Invalid license key.'];
  return errors;
}
