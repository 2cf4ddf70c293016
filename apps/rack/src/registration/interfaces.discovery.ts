import { networkInterfaces, NetworkInterfaceInfo } from 'node:os';
import type { RackInterface } from '@kiln/contracts';

/** VLAN id and parent from the usual names: eth0.100, vlan100, br-vlan100 is not one (a bridge). */
export function vlanOf(name: string): { vid: number; parent?: string } | null {
  const dotted = /^(.+)\.(\d{1,4})$/.exec(name);
  if (dotted && Number(dotted[2]) <= 4094) return { vid: Number(dotted[2]), parent: dotted[1] };
  const plain = /^vlan(\d{1,4})$/.exec(name);
  if (plain && Number(plain[1]) <= 4094) return { vid: Number(plain[1]) };
  return null;
}

/**
 * The interfaces the rack reports when it registers: name, MAC, addresses with prefix length and
 * VLAN. Loopback and MAC-less interfaces are left out; `only` restricts to the configured ones.
 */
export function discoverInterfaces(
  only: string[] | null,
  source: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): RackInterface[] {
  const out: RackInterface[] = [];
  for (const [name, infos] of Object.entries(source)) {
    if (!infos?.length) continue;
    if (only && !only.includes(name)) continue;
    if (infos.every((i) => i.internal)) continue;
    const mac = infos.find((i) => i.mac && i.mac !== '00:00:00:00:00:00')?.mac;
    if (!mac) continue;
    const vlan = vlanOf(name);
    out.push({
      name,
      mac: mac.toLowerCase(),
      addresses: infos.filter((i) => !i.internal && i.cidr).map((i) => i.cidr as string),
      vlan: vlan?.vid ?? null,
      ...(vlan?.parent ? { parent: vlan.parent } : {}),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
