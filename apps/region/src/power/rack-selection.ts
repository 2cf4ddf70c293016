import { BlockList, isIP } from 'node:net';

/** A live rack as the region knows it from its registration and heartbeats. */
export interface RackCandidate {
  systemId: string;
  /** Addresses with prefix length, e.g. 10.0.0.2/24, over all the rack's interfaces. */
  addresses: string[];
  /** Power types the rack cannot drive, with why. */
  powerUnavailable: Record<string, string>;
}

export interface RackChoice {
  /** Racks to try, in order: those on the BMC's subnet first, then the others. */
  racks: string[];
  /** Racks left out, with why (they said they cannot drive this power type). */
  refused: { rackId: string; reason: string }[];
}

/**
 * The host of a BMC's address, whatever form the power type writes it in: "10.0.0.5",
 * "10.0.0.5:623", "[fd00::5]:623", "https://10.0.0.5/redfish", "qemu+ssh://user@10.0.0.5/system".
 * Null when there is no address or it is a name rather than an IP.
 */
export function bmcHost(address: string | undefined): string | null {
  if (!address) return null;
  let host = address.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:?#]+)/i.exec(host);
  if (url) host = url[1];
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']') > 0 ? host.indexOf(']') : undefined);
  else if (isIP(host) === 0 && /^[^:]+:\d+$/.test(host)) host = host.slice(0, host.lastIndexOf(':'));
  return isIP(host) ? host : null;
}

function onSubnetOf(addresses: string[], host: string): boolean {
  const family = isIP(host) === 6 ? 'ipv6' : 'ipv4';
  for (const a of addresses) {
    const [net, len] = a.split('/');
    const prefix = Number(len);
    if (!net || !Number.isInteger(prefix) || (isIP(net) === 6 ? 'ipv6' : 'ipv4') !== family) continue;
    const bl = new BlockList();
    try {
      bl.addSubnet(net, prefix, family);
    } catch {
      continue;
    }
    if (bl.check(host, family)) return true;
  }
  return false;
}

/**
 * Which live racks may drive a BMC, best first: never one that said it cannot drive the power
 * type; racks with an address on the BMC's subnet before the others (which may still route to
 * it); the caller's order (freshest heartbeat first) within each group.
 */
export function chooseRacks(candidates: RackCandidate[], powerType: string, bmcAddress: string | undefined): RackChoice {
  const host = bmcHost(bmcAddress);
  const near: string[] = [];
  const far: string[] = [];
  const refused: RackChoice['refused'] = [];
  for (const c of candidates) {
    const why = c.powerUnavailable?.[powerType];
    if (why) {
      refused.push({ rackId: c.systemId, reason: why });
      continue;
    }
    (host && onSubnetOf(c.addresses, host) ? near : far).push(c.systemId);
  }
  return { racks: [...near, ...far], refused };
}
