/**
 * Boot methods as MAAS names them (subnet `disabled_boot_architectures` takes these names or their
 * DHCP client-architecture codes, RFC 4578 option 93 / IANA "Processor Architecture Types").
 * `code` is null for methods recognised by something other than option 93 (iPXE's user class).
 */
export const BOOT_ARCHITECTURES = [
  { name: 'pxe', code: 0x00, description: 'x86 BIOS (PXELINUX)' },
  { name: 'uefi_amd64_tftp', code: 0x07, description: 'UEFI x86-64 over TFTP' },
  { name: 'uefi_ebc_tftp', code: 0x09, description: 'UEFI EBC / x86-64 (code 9) over TFTP' },
  { name: 'uefi_arm64_tftp', code: 0x0b, description: 'UEFI arm64 over TFTP' },
  { name: 'open-firmware_ppc64el', code: 0x0c, description: 'OpenFirmware ppc64el' },
  { name: 'powernv', code: 0x0e, description: 'PowerNV ppc64el' },
  { name: 'uefi_amd64_http', code: 0x10, description: 'UEFI x86-64 HTTP boot' },
  { name: 'uefi_arm64_http', code: 0x13, description: 'UEFI arm64 HTTP boot' },
  { name: 's390x', code: 0x1f, description: 'IBM Z' },
  { name: 'ipxe', code: null, description: 'iPXE (user class "iPXE", option 77)' },
] as const;

export type BootArchitectureName = (typeof BOOT_ARCHITECTURES)[number]['name'];

/**
 * Resolves a MAAS boot architecture name, or a client-architecture code written as a number
 * ("7"), hex ("0x07") or MAAS octets ("00:07"), to the name. Undefined when unknown.
 */
export function bootArchitectureName(value: string): BootArchitectureName | undefined {
  const v = value.trim().toLowerCase();
  const byName = BOOT_ARCHITECTURES.find((a) => a.name === v);
  if (byName) return byName.name;
  let code: number | undefined;
  if (/^\d+$/.test(v)) code = Number(v);
  else if (/^0x[0-9a-f]+$/.test(v)) code = parseInt(v.slice(2), 16);
  else if (/^[0-9a-f]{2}:[0-9a-f]{2}$/.test(v)) code = parseInt(v.replace(':', ''), 16);
  if (code === undefined) return undefined;
  return BOOT_ARCHITECTURES.find((a) => a.code === code)?.name;
}
