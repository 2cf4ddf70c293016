/** MAAS names a discovery by its IP and MAC; Kiln encodes "ip,mac" as base64url, so the id is one path segment. */
export function discoveryId(ip: string, mac: string): string {
  return Buffer.from(`${ip},${mac}`, 'utf8').toString('base64url');
}

/** The IP and MAC a discovery id names; null when it names none. */
export function parseDiscoveryId(id: string): { ip: string; mac: string } | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(id)) return null;
  const [ip, mac, ...rest] = Buffer.from(id, 'base64url').toString('utf8').split(',');
  if (rest.length || !ip || !mac || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) || !/^[0-9a-fA-F:.]{2,45}$/.test(ip)) return null;
  return { ip, mac };
}
