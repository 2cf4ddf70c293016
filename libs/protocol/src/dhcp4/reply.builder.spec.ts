import { expectCodecLaws } from '../testing/codec-laws';
import { DHCLIENT_DISCOVER, IPXE_DISCOVER, RELAYED_DISCOVER, UDHCPC_DISCOVER } from './fixtures/discover.goldens';
import { DhcpMessageType, encodeIpxeOptions } from './options';
import { BootOp, decodeDhcp4, Dhcp4Packet, dhcp4Codec, encodeDhcp4 } from './packet.codec';
import { buildAck, buildNak, buildOffer, replyDestination } from './reply.builder';

const SERVER = '10.77.0.1';

function asRequest(p: Dhcp4Packet, over: Partial<Dhcp4Packet>, options: Dhcp4Packet['options'] = {}): Dhcp4Packet {
  return { ...p, ...over, options: { ...p.options, ...options } };
}

/** Option codes of an encoded packet, in wire order. */
function wireCodes(b: Uint8Array): number[] {
  const codes: number[] = [];
  for (let i = 240; b[i] !== 255; i += 2 + b[i + 1]) codes.push(b[i]);
  return codes;
}

describe('buildOffer', () => {
  it('answers the iPXE DISCOVER: copies xid/chaddr/flags, echoes 61, broadcasts (flag set)', () => {
    const req = decodeDhcp4(IPXE_DISCOVER);
    const { packet, destination } = buildOffer(req, {
      serverId: SERVER,
      yiaddr: '10.77.0.129',
      leaseTime: 600,
      siaddr: SERVER,
      file: 'boot.ipxe',
      options: {
        subnetMask: '255.255.255.0',
        routers: [SERVER],
        bootfileName: 'boot.ipxe',
        ipxe: encodeIpxeOptions({ noPxeDhcp: true }),
      },
    });
    expect(packet).toStrictEqual<Dhcp4Packet>({
      op: BootOp.REPLY,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: req.xid,
      secs: 0,
      flags: { broadcast: true },
      ciaddr: '0.0.0.0',
      yiaddr: '10.77.0.129',
      siaddr: SERVER,
      giaddr: '0.0.0.0',
      chaddr: '52:54:00:77:00:00',
      sname: '',
      file: 'boot.ipxe',
      options: {
        subnetMask: '255.255.255.0',
        routers: [SERVER],
        bootfileName: 'boot.ipxe',
        ipxe: Uint8Array.from([176, 1, 1]),
        messageType: DhcpMessageType.OFFER,
        serverId: SERVER,
        leaseTime: 600,
        clientId: req.options.clientId,
      },
    });
    expect(destination).toEqual({ address: '255.255.255.255', port: 68, broadcast: true });
    expectCodecLaws(dhcp4Codec, packet);
    expect(wireCodes(encodeDhcp4(packet))).toEqual([53, 1, 3, 51, 54, 61, 67, 175]);
  });

  it('broadcasts to a client that set no flag and has no address yet (dhclient)', () => {
    const { destination } = buildOffer(decodeDhcp4(DHCLIENT_DISCOVER), { serverId: SERVER, yiaddr: '10.77.0.130', leaseTime: 600 });
    expect(destination).toEqual({ address: '255.255.255.255', port: 68, broadcast: true });
  });

  it('through a relay: to giaddr:67, giaddr kept, option 82 echoed as the last option', () => {
    const req = decodeDhcp4(RELAYED_DISCOVER);
    const { packet, destination } = buildOffer(req, {
      serverId: SERVER,
      yiaddr: '10.77.5.20',
      leaseTime: 600,
      options: { routers: ['10.77.5.1'], ipxe: encodeIpxeOptions({ noPxeDhcp: true }) },
    });
    expect(destination).toEqual({ address: '10.77.5.1', port: 67, broadcast: false });
    expect(packet.giaddr).toBe('10.77.5.1');
    expect(packet.hops).toBe(0);
    expect(packet.options.relayAgentInfo).toEqual(req.options.relayAgentInfo);
    const codes = wireCodes(encodeDhcp4(packet));
    expect(codes[0]).toBe(53);
    expect(codes[codes.length - 1]).toBe(82); // after 175
  });
});

describe('buildAck', () => {
  it('answers a REQUEST with a lease; keeps ciaddr; unicasts to a renewing client', () => {
    const discover = decodeDhcp4(UDHCPC_DISCOVER);
    const renew = asRequest(discover, { ciaddr: '10.77.0.131' }, { messageType: DhcpMessageType.REQUEST });
    const { packet, destination } = buildAck(renew, { serverId: SERVER, yiaddr: '10.77.0.131', leaseTime: 600 });
    expect(packet.ciaddr).toBe('10.77.0.131');
    expect(packet.yiaddr).toBe('10.77.0.131');
    expect(packet.options).toMatchObject({ messageType: DhcpMessageType.ACK, leaseTime: 600, serverId: SERVER });
    expect(packet.options.clientId).toEqual(discover.options.clientId);
    expect(destination).toEqual({ address: '10.77.0.131', port: 68, broadcast: false });
  });

  it('ciaddr wins over the broadcast flag (RFC 2131 4.1 checks ciaddr first)', () => {
    const req = asRequest(decodeDhcp4(UDHCPC_DISCOVER), { ciaddr: '10.77.0.131', flags: { broadcast: true } });
    expect(replyDestination(req, DhcpMessageType.ACK)).toEqual({ address: '10.77.0.131', port: 68, broadcast: false });
  });

  it('answers an INFORM without lease time and with yiaddr 0', () => {
    const inform = asRequest(decodeDhcp4(DHCLIENT_DISCOVER), { ciaddr: '10.77.0.140' }, { messageType: DhcpMessageType.INFORM });
    const { packet, destination } = buildAck(inform, {
      serverId: SERVER,
      yiaddr: '10.77.0.140',
      leaseTime: 600,
      options: { dnsServers: [SERVER] },
    });
    expect(packet.yiaddr).toBe('0.0.0.0');
    expect(packet.options.leaseTime).toBeUndefined();
    expect('leaseTime' in packet.options).toBe(false);
    expect(destination).toEqual({ address: '10.77.0.140', port: 68, broadcast: false });
    expectCodecLaws(dhcp4Codec, packet);
  });

  it('refuses an ACK to a REQUEST without lease time', () => {
    const req = asRequest(decodeDhcp4(DHCLIENT_DISCOVER), {}, { messageType: DhcpMessageType.REQUEST });
    expect(() => buildAck(req, { serverId: SERVER, yiaddr: '10.77.0.2' })).toThrow(TypeError);
  });
});

describe('buildNak', () => {
  it('broadcasts when not relayed, with message and nothing else but 53/54/61', () => {
    const req = asRequest(decodeDhcp4(UDHCPC_DISCOVER), { ciaddr: '10.9.9.9' }, { messageType: DhcpMessageType.REQUEST, requestedIp: '10.9.9.9' });
    const { packet, destination } = buildNak(req, { serverId: SERVER, message: 'wrong network' });
    expect(destination).toEqual({ address: '255.255.255.255', port: 68, broadcast: true });
    expect(packet.ciaddr).toBe('0.0.0.0');
    expect(packet.yiaddr).toBe('0.0.0.0');
    expect(packet.options).toStrictEqual({
      messageType: DhcpMessageType.NAK,
      serverId: SERVER,
      message: 'wrong network',
      clientId: req.options.clientId,
    });
    expectCodecLaws(dhcp4Codec, packet);
  });

  it('through a relay: to giaddr:67 with the broadcast bit set (RFC 2131 4.3.2)', () => {
    const req = asRequest(decodeDhcp4(RELAYED_DISCOVER), {}, { messageType: DhcpMessageType.REQUEST });
    const { packet, destination } = buildNak(req, { serverId: SERVER });
    expect(destination).toEqual({ address: '10.77.5.1', port: 67, broadcast: false });
    expect(packet.flags.broadcast).toBe(true);
    expect(packet.options.relayAgentInfo).toEqual(req.options.relayAgentInfo);
    expect(packet.options.message).toBeUndefined();
  });
});
