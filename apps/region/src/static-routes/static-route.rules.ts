import { Cidr, cidrContains, Ip, parseCidr, parseIp } from '../networking/ip.address';

export interface RouteCheck {
  sourceId: number;
  sourceCidr: string;
  destinationId: number;
  destinationCidr: string;
  gatewayIp: string;
  metric: string | undefined;
}

/**
 * MAAS's StaticRoute.clean and StaticRouteForm: distinct subnets of one IP version, a gateway
 * inside the source subnet, a metric of 0 or more. Field errors, or null when the route is valid.
 */
export function staticRouteErrors(c: RouteCheck): Record<string, string[]> | null {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  let gw: Ip | null = null;
  if (c.gatewayIp.trim() === '') add('gateway_ip', 'This field is required.');
  else if (!(gw = parseIp(c.gatewayIp.trim()))) add('gateway_ip', 'Enter a valid IPv4 or IPv6 address.');
  if (c.metric !== undefined && c.metric !== '' && !/^\d{1,9}$/.test(c.metric.trim())) add('metric', 'Ensure this value is greater than or equal to 0.');
  if (Object.keys(errors).length) return errors;
  const src = parseCidr(c.sourceCidr) as Cidr;
  const dst = parseCidr(c.destinationCidr) as Cidr;
  if (c.sourceId === c.destinationId) add('__all__', 'source and destination cannot be the same subnet.');
  else if (src.family !== dst.family) add('__all__', 'source and destination must be the same IP version.');
  else if (gw && !cidrContains(src, gw)) add('gateway_ip', 'gateway_ip must be with in the source subnet.');
  return Object.keys(errors).length ? errors : null;
}
