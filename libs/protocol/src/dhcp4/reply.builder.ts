// Pure helpers that turn a client request plus a server decision into a reply packet and the
// address to send it to. The rack's DHCP handler decides *what* to offer; these make sure every
// reply carries what RFC 2131 Table 3, RFC 3046 and RFC 6842 require, and goes where RFC 2131 4.1
// says it must.
import { DhcpMessageType, Dhcp4Options } from './options';
import { BootOp, DHCP4_CLIENT_PORT, DHCP4_SERVER_PORT, Dhcp4Packet } from './packet.codec';

export const ZERO_IP = '0.0.0.0';
export const BROADCAST_IP = '255.255.255.255';

export interface Dhcp4Destination {
  address: string;
  port: number;
  /** The socket needs SO_BROADCAST and the reply leaves on the interface the request came in. */
  broadcast: boolean;
}

export interface Dhcp4Reply {
  packet: Dhcp4Packet;
  destination: Dhcp4Destination;
}

interface CommonParams {
  /** Option 54: the address clients use to reach this server. */
  serverId: string;
  /** More options (routers, DNS, bootfile, 175 ...). The builder sets 53, 54, 61 and 82 itself. */
  options?: Dhcp4Options;
}

export interface OfferParams extends CommonParams {
  yiaddr: string;
  /** Option 51, seconds. RFC 2131 Table 3: MUST in an OFFER. */
  leaseTime: number;
  /** Next server for TFTP (siaddr). */
  siaddr?: string;
  sname?: string;
  /** Boot file name in the BOOTP 'file' field (PXE ROMs read this; iPXE also reads option 67). */
  file?: string;
}

export interface AckParams extends CommonParams {
  /** The address bound to the client; ignored (0.0.0.0) when answering DHCPINFORM. */
  yiaddr: string;
  /** Option 51, seconds. Required for a REQUEST, dropped for an INFORM (RFC 2131 Table 3). */
  leaseTime?: number;
  siaddr?: string;
  sname?: string;
  file?: string;
}

export interface NakParams {
  serverId: string;
  /** Option 56, a human readable reason. */
  message?: string;
}

export function isRelayed(request: Dhcp4Packet): boolean {
  return request.giaddr !== ZERO_IP;
}

/**
 * Where a reply to `request` goes (RFC 2131 4.1 and 4.3.2):
 * - relayed (giaddr set): to the relay, giaddr:67;
 * - a NAK that is not relayed: broadcast;
 * - ciaddr set (RENEWING, REBINDING, INFORM): unicast to ciaddr:68, whatever the broadcast flag
 *   (4.1 checks ciaddr before the flag: such a client has a configured address);
 * - otherwise broadcast to 255.255.255.255:68. This covers the broadcast flag, and also the
 *   flag-clear case, where RFC 2131 allows unicast to yiaddr + chaddr only if the server can
 *   bypass ARP; a UDP socket cannot, so it broadcasts like most servers do.
 */
export function replyDestination(request: Dhcp4Packet, replyType: DhcpMessageType): Dhcp4Destination {
  if (isRelayed(request)) return { address: request.giaddr, port: DHCP4_SERVER_PORT, broadcast: false };
  if (replyType === DhcpMessageType.NAK) return { address: BROADCAST_IP, port: DHCP4_CLIENT_PORT, broadcast: true };
  if (request.ciaddr !== ZERO_IP) {
    return { address: request.ciaddr, port: DHCP4_CLIENT_PORT, broadcast: false };
  }
  return { address: BROADCAST_IP, port: DHCP4_CLIENT_PORT, broadcast: true };
}

/**
 * The reply's options: the caller's extra options, then what the builder owns, then what every
 * reply echoes from the request: 61 (RFC 6842) and 82 (RFC 3046 2.2).
 *
 * Object.assign rather than `{ ...extra, messageType }`: on Node 20 a spread followed by more
 * properties takes a slow path (~2 us here), which was most of the cost of building a reply.
 */
function replyOptions(request: Dhcp4Packet, extra: Dhcp4Options | undefined, own: Dhcp4Options): Dhcp4Options {
  const o: Dhcp4Options = Object.assign({}, extra, own);
  if (request.options.clientId) o.clientId = request.options.clientId;
  if (request.options.relayAgentInfo) o.relayAgentInfo = request.options.relayAgentInfo;
  return o;
}

function skeleton(request: Dhcp4Packet): Dhcp4Packet {
  return {
    op: BootOp.REPLY,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: { broadcast: request.flags.broadcast },
    ciaddr: ZERO_IP,
    yiaddr: ZERO_IP,
    siaddr: ZERO_IP,
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: '',
    file: '',
    options: {},
  };
}

export function buildOffer(request: Dhcp4Packet, params: OfferParams): Dhcp4Reply {
  const packet = skeleton(request);
  packet.yiaddr = params.yiaddr;
  packet.siaddr = params.siaddr ?? ZERO_IP;
  packet.sname = params.sname ?? '';
  packet.file = params.file ?? '';
  packet.options = replyOptions(request, params.options, {
    messageType: DhcpMessageType.OFFER,
    serverId: params.serverId,
    leaseTime: params.leaseTime,
  });
  return { packet, destination: replyDestination(request, DhcpMessageType.OFFER) };
}

export function buildAck(request: Dhcp4Packet, params: AckParams): Dhcp4Reply {
  const inform = request.options.messageType === DhcpMessageType.INFORM;
  if (!inform && params.leaseTime === undefined) {
    throw new TypeError('buildAck: a DHCPACK to a DHCPREQUEST must carry a lease time');
  }
  const packet = skeleton(request);
  packet.ciaddr = request.ciaddr;
  packet.yiaddr = inform ? ZERO_IP : params.yiaddr;
  packet.siaddr = params.siaddr ?? ZERO_IP;
  packet.sname = params.sname ?? '';
  packet.file = params.file ?? '';
  const options = replyOptions(request, params.options, { messageType: DhcpMessageType.ACK, serverId: params.serverId });
  if (inform) delete options.leaseTime;
  else options.leaseTime = params.leaseTime;
  packet.options = options;
  return { packet, destination: replyDestination(request, DhcpMessageType.ACK) };
}

export function buildNak(request: Dhcp4Packet, params: NakParams): Dhcp4Reply {
  const packet = skeleton(request);
  // RFC 2131 4.3.2: through a relay the NAK carries the broadcast bit, so the relay broadcasts
  // it to a client whose address may be wrong.
  packet.flags = { broadcast: isRelayed(request) ? true : request.flags.broadcast };
  const own: Dhcp4Options = { messageType: DhcpMessageType.NAK, serverId: params.serverId };
  if (params.message !== undefined) own.message = params.message;
  const options = replyOptions(request, undefined, own);
  packet.options = options;
  return { packet, destination: replyDestination(request, DhcpMessageType.NAK) };
}
