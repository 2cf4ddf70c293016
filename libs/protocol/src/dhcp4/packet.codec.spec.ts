import { MalformedPacketError } from '../errors';
import { expectCodecLaws } from '../testing/codec-laws';
import {
  ascii,
  DHCLIENT_DISCOVER,
  IPXE_175,
  IPXE_DISCOVER,
  IPXE_UUID,
  padTo300,
  RELAYED_DISCOVER,
  UDHCPC_DISCOVER,
  zeros,
} from './fixtures/discover.goldens';
import {
  ClientArch,
  clientArchName,
  decodeEncapsulated,
  DhcpMessageType,
  encodeIpxeOptions,
  formatClientId,
  IpxeFeature,
  IpxeOption,
  isHttpBootArch,
  isIpxeClient,
  userClassStrings,
} from './options';
import { BootOp, decodeDhcp4, Dhcp4Packet, dhcp4Codec, dhcp4EncodingLength, encodeDhcp4 } from './packet.codec';

const u8 = (...b: number[]) => Uint8Array.from(b);
const mac = (last: number) => [0x52, 0x54, 0x00, 0x77, 0x00, last];

/** A request skeleton for values built in tests. */
function request(options: Dhcp4Packet['options'], over: Partial<Dhcp4Packet> = {}): Dhcp4Packet {
  return {
    op: BootOp.REQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0x01020304,
    secs: 0,
    flags: { broadcast: false },
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: '52:54:00:77:00:09',
    sname: '',
    file: '',
    options,
    ...over,
  };
}

/** A raw packet: the 236-byte header, the cookie, then `options` verbatim (no end added). */
function rawPacket(options: number[], header: { sname?: number[]; file?: number[]; op?: number; hlen?: number } = {}) {
  const sname = [...(header.sname ?? []), ...zeros(64 - (header.sname ?? []).length)];
  const file = [...(header.file ?? []), ...zeros(128 - (header.file ?? []).length)];
  return Uint8Array.from([
    header.op ?? 1, 1, header.hlen ?? 6, 0, 0, 0, 0, 1, 0, 0, 0, 0,
    ...zeros(16),
    ...mac(9), ...zeros(10),
    ...sname,
    ...file,
    99, 130, 83, 99,
    ...options,
  ]);
}

function malformedKind(buf: Uint8Array): string {
  try {
    decodeDhcp4(buf);
  } catch (e) {
    if (e instanceof MalformedPacketError) return e.kind;
    throw e;
  }
  return 'decoded';
}

describe('golden DISCOVERs', () => {
  it('ISC dhclient: decodes, and re-encodes byte for byte', () => {
    const expected: Dhcp4Packet = {
      op: BootOp.REQUEST,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: 0x5a1f3c07,
      secs: 0,
      flags: { broadcast: false },
      ciaddr: '0.0.0.0',
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      giaddr: '0.0.0.0',
      chaddr: '52:54:00:77:00:01',
      sname: '',
      file: '',
      options: {
        messageType: DhcpMessageType.DISCOVER,
        hostname: 'node01',
        parameterRequestList: [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42],
      },
    };
    expectCodecLaws(dhcp4Codec, expected, DHCLIENT_DISCOVER);
  });

  it('busybox udhcpc: decodes; re-encoding reorders 55 before 57 but keeps length', () => {
    const expected = request(
      {
        messageType: DhcpMessageType.DISCOVER,
        maxMessageSize: 576,
        parameterRequestList: [1, 3, 6, 12, 15, 28, 42],
        vendorClassId: 'udhcp 1.35.0',
        clientId: u8(1, ...mac(2)),
      },
      { xid: 0xc0ffee42, chaddr: '52:54:00:77:00:02' },
    );
    expectCodecLaws(dhcp4Codec, expected, UDHCPC_DISCOVER, { byteExact: false });
    expect(encodeDhcp4(expected).length).toBe(UDHCPC_DISCOVER.length);
    expect(formatClientId(expected.options.clientId!)).toBe('01:52:54:00:77:00:02');
  });

  it('iPXE: PXE options, bare user class, option 175 kept raw, GUID in canonical order', () => {
    const expected = request(
      {
        messageType: DhcpMessageType.DISCOVER,
        maxMessageSize: 1472,
        clientArch: [ClientArch.EFI_X86_64_BC],
        clientNdi: { type: 1, major: 3, minor: 16 },
        vendorClassId: 'PXEClient:Arch:00007:UNDI:003016',
        userClass: { format: 'plain', value: 'iPXE' },
        parameterRequestList: [1, 3, 6, 7, 12, 15, 17, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203],
        ipxe: Uint8Array.from(IPXE_175),
        clientId: u8(1, ...mac(0)),
        clientMachineId: { type: 0, uuid: IPXE_UUID },
      },
      { xid: 0x8e2d4b11, chaddr: '52:54:00:77:00:00', flags: { broadcast: true } },
    );
    expectCodecLaws(dhcp4Codec, expected, IPXE_DISCOVER, { byteExact: false });
    expect(encodeDhcp4(expected).length).toBe(IPXE_DISCOVER.length); // 375: no padding either way
    expect(userClassStrings(expected.options.userClass)).toEqual(['iPXE']);
    expect(isIpxeClient(expected.options)).toBe(true);
    expect(isIpxeClient(decodeDhcp4(DHCLIENT_DISCOVER).options)).toBe(false);
    expect(clientArchName(expected.options.clientArch![0])).toBe('EFI_X86_64_BC');

    const features = decodeEncapsulated(expected.options.ipxe!)!;
    expect(features.map((f) => f.code)).toEqual([
      IpxeFeature.HTTP,
      IpxeFeature.TFTP,
      IpxeFeature.DNS,
      IpxeFeature.EFI,
      IpxeOption.VERSION,
      IpxeOption.BUS_ID,
    ]);
    expect(features[4].data).toEqual(u8(1, 21, 1));
  });

  it('relayed: giaddr, hops and option 82 sub-options; 82 stays last when re-encoded', () => {
    const expected = request(
      {
        messageType: DhcpMessageType.DISCOVER,
        hostname: 'node59',
        parameterRequestList: [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42],
        relayAgentInfo: {
          circuitId: Uint8Array.from(ascii('eth1:105')),
          remoteId: u8(0x02, 0x00, 0x0a, 0x4d, 0x05, 0x01),
        },
      },
      { xid: 0x5a1f3c08, hops: 1, secs: 3, giaddr: '10.77.5.1', chaddr: '52:54:00:77:05:09' },
    );
    expectCodecLaws(dhcp4Codec, expected, RELAYED_DISCOVER);
  });
});

describe('options area', () => {
  it('skips pad, stops at end, ignores what follows end', () => {
    const p = decodeDhcp4(rawPacket([0, 0, 53, 1, 3, 0, 12, 2, ...ascii('ab'), 255, 12, 99, 1, 2, 3]));
    expect(p.options).toEqual({ messageType: DhcpMessageType.REQUEST, hostname: 'ab' });
  });

  it('tolerates a missing end option', () => {
    expect(decodeDhcp4(rawPacket([53, 1, 1, 51, 4, 0, 0, 14, 16])).options).toEqual({
      messageType: DhcpMessageType.DISCOVER,
      leaseTime: 3600,
    });
  });

  it('concatenates repeated options (RFC 3396) and splits long ones when encoding', () => {
    const long = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    const p = request({ messageType: DhcpMessageType.ACK, vendorSpecific: long });
    const bytes = encodeDhcp4(p);
    // 43 appears three times: 255 + 255 + 90 bytes.
    expect(bytes[243]).toBe(43);
    expect(bytes[244]).toBe(255);
    expect(bytes[243 + 257]).toBe(43);
    expect(bytes[243 + 514]).toBe(43);
    expect(bytes[243 + 515]).toBe(90);
    expectCodecLaws(dhcp4Codec, p);

    const split = decodeDhcp4(rawPacket([53, 1, 1, 12, 3, ...ascii('kil'), 60, 2, ...ascii('PX'), 12, 1, ...ascii('n'), 255]));
    expect(split.options.hostname).toBe('kiln');
  });

  it('reads options from file then sname when option 52 overloads them', () => {
    const buf = rawPacket([53, 1, 5, 52, 1, 3, 255], {
      file: [67, 9, ...ascii('boot.ipxe'), 12, 2, ...ascii('ab'), 255],
      sname: [66, 9, ...ascii('10.77.0.1'), 12, 2, ...ascii('cd'), 255],
    });
    const p = decodeDhcp4(buf);
    expect(p.sname).toBe('');
    expect(p.file).toBe('');
    expect(p.options).toEqual({
      messageType: DhcpMessageType.ACK,
      bootfileName: 'boot.ipxe',
      tftpServerName: '10.77.0.1',
      hostname: 'abcd', // file before sname (RFC 3396 order)
    });
    // Encoding never overloads: the options move into the options field.
    const again = decodeDhcp4(encodeDhcp4(p));
    expect(again).toStrictEqual(p);
  });

  it('reads only the field option 52 names, and keeps a nonsensical 52 raw', () => {
    const fileOnly = decodeDhcp4(rawPacket([52, 1, 1, 255], { file: [12, 1, 0x78, 255], sname: ascii('server1') }));
    expect(fileOnly.sname).toBe('server1');
    expect(fileOnly.options).toEqual({ hostname: 'x' });

    const bogus = decodeDhcp4(rawPacket([52, 1, 7, 255], { file: ascii('pxelinux.0') }));
    expect(bogus.file).toBe('pxelinux.0');
    expect(bogus.options.raw).toEqual([{ code: 52, data: u8(7) }]);
    expectCodecLaws(dhcp4Codec, bogus);
  });

  it('reads sname/file as C strings', () => {
    const p = decodeDhcp4(rawPacket([255], { sname: [...ascii('tftp1'), 0, 0x41], file: ascii('x'.repeat(128)) }));
    expect(p.sname).toBe('tftp1');
    expect(p.file).toBe('x'.repeat(128)); // a full field needs no terminator
    expectCodecLaws(dhcp4Codec, p);
  });
});

describe('typed options', () => {
  it('round-trips every typed option', () => {
    const p = request(
      {
        messageType: DhcpMessageType.ACK,
        subnetMask: '255.255.255.0',
        routers: ['10.77.0.1', '10.77.0.2'],
        dnsServers: ['10.77.0.53'],
        hostname: 'node01',
        domainName: 'maas.internal',
        broadcastAddress: '10.77.0.255',
        vendorSpecific: u8(1, 4, 0, 0, 0, 0, 255),
        requestedIp: '10.77.0.150',
        leaseTime: 0xffffffff,
        serverId: '10.77.0.1',
        parameterRequestList: [1, 3, 6],
        message: 'address in use',
        maxMessageSize: 1500,
        renewalTime: 300,
        rebindingTime: 525,
        vendorClassId: 'HTTPClient:Arch:00016:UNDI:003001',
        clientId: u8(0xff, 1, 2, 3, 4, 0, 2, 0, 0, 0xab, 0x11),
        tftpServerName: '10.77.0.1',
        bootfileName: 'http://10.77.0.1:5248/ipxe.efi',
        userClass: { format: 'rfc3004', classes: ['kiln', 'rack-a'] },
        relayAgentInfo: { circuitId: u8(0, 4, 0, 105), other: [{ code: 9, data: u8(0, 0, 13, 233) }] },
        clientArch: [ClientArch.EFI_X86_64_HTTP, ClientArch.EFI_ARM64],
        clientNdi: { type: 1, major: 3, minor: 16 },
        clientMachineId: { type: 0, uuid: '00000000-0000-0000-0000-000000000001' },
        ipxe: encodeIpxeOptions({ noPxeDhcp: true }),
        raw: [
          { code: 119, data: u8(4, 109, 97, 97, 115, 0) },
          { code: 150, data: u8(10, 77, 0, 1) },
        ],
      },
      { op: BootOp.REPLY, yiaddr: '10.77.0.150', siaddr: '10.77.0.1', sname: 'rack1', file: 'ipxe.efi' },
    );
    expectCodecLaws(dhcp4Codec, p);
  });

  it('encodes 53 first, then by code, 82 last, then end and padding', () => {
    const p = request({
      relayAgentInfo: { circuitId: u8(1) },
      ipxe: u8(176, 1, 1),
      leaseTime: 60,
      messageType: DhcpMessageType.OFFER,
      subnetMask: '255.0.0.0',
      raw: [{ code: 250, data: u8() }],
    });
    const b = encodeDhcp4(p);
    const codes: number[] = [];
    for (let i = 240; b[i] !== 255; i += 2 + b[i + 1]) codes.push(b[i]);
    expect(codes).toEqual([53, 1, 51, 175, 250, 82]);
    expect(b.length).toBe(300);
    expect(dhcp4EncodingLength(p)).toBe(300);
  });

  it('keeps options whose bytes do not fit their type as raw, unchanged', () => {
    const buf = rawPacket([
      53, 1, 9, // message type 9 (FORCERENEW): outside DISCOVER..INFORM
      51, 3, 0, 0, 1, // lease time must be 4 bytes
      3, 5, 10, 0, 0, 1, 9, // routers: not a multiple of 4
      97, 16, ...zeros(16), // machine id without its type byte
      82, 3, 1, 5, 0, // circuit id overruns the option
      93, 3, 0, 7, 0, // odd arch list
      255,
    ]);
    const p = decodeDhcp4(buf);
    expect(p.options).toEqual({
      raw: [
        { code: 3, data: u8(10, 0, 0, 1, 9) },
        { code: 51, data: u8(0, 0, 1) },
        { code: 53, data: u8(9) },
        { code: 82, data: u8(1, 5, 0) },
        { code: 93, data: u8(0, 7, 0) },
        { code: 97, data: u8(...zeros(16)) },
      ],
    });
    expectCodecLaws(dhcp4Codec, p);
  });

  it('user class: RFC 3004 list vs a bare string', () => {
    const list = decodeDhcp4(rawPacket([77, 10, 4, ...ascii('iPXE'), 4, ...ascii('kiln'), 255]));
    expect(list.options.userClass).toEqual({ format: 'rfc3004', classes: ['iPXE', 'kiln'] });
    const bare = decodeDhcp4(rawPacket([77, 4, ...ascii('iPXE'), 255]));
    expect(bare.options.userClass).toEqual({ format: 'plain', value: 'iPXE' });
    expect(userClassStrings(list.options.userClass)).toEqual(['iPXE', 'kiln']);
  });

  it('relay agent info: sub-options in any order decode the same, and re-encode 1, 2, others', () => {
    const p = decodeDhcp4(rawPacket([82, 11, 5, 1, 9, 2, 2, 0xaa, 0xbb, 1, 2, 0x31, 0x32, 255]));
    expect(p.options.relayAgentInfo).toEqual({
      circuitId: u8(0x31, 0x32),
      remoteId: u8(0xaa, 0xbb),
      other: [{ code: 5, data: u8(9) }],
    });
    const b = encodeDhcp4(p);
    expect(Array.from(b.subarray(240, 253))).toEqual([82, 11, 1, 2, 0x31, 0x32, 2, 2, 0xaa, 0xbb, 5, 1, 9]);
  });

  it('GUID bytes: first three fields little-endian on the wire', () => {
    const p = request({ clientMachineId: { type: 0, uuid: '00112233-4455-6677-8899-aabbccddeeff' } });
    const b = encodeDhcp4(p);
    expect(b.subarray(240, 259).toString('hex')).toBe('611100' + '33221100' + '5544' + '7766' + '8899' + 'aabbccddeeff');
  });

  it('option 175 helper: no-pxedhcp', () => {
    expect(encodeIpxeOptions({ noPxeDhcp: true })).toEqual(u8(176, 1, 1));
    expect(encodeIpxeOptions({ noPxeDhcp: true, extra: [{ code: 190, data: u8(0x6b) }] })).toEqual(
      u8(176, 1, 1, 190, 1, 0x6b),
    );
    expect(decodeEncapsulated(u8(0, 176, 1, 1, 255, 9))).toEqual([{ code: 176, data: u8(1) }]);
    expect(decodeEncapsulated(u8(176, 5, 1))).toBeUndefined();
  });

  it('names architectures', () => {
    expect(clientArchName(0)).toBe('X86_BIOS');
    expect(clientArchName(11)).toBe('EFI_ARM64');
    expect(clientArchName(19)).toBe('EFI_ARM64_HTTP');
    expect(clientArchName(4242)).toBe('arch-4242');
    expect(isHttpBootArch(ClientArch.EFI_X86_64_HTTP)).toBe(true);
    expect(isHttpBootArch(ClientArch.EFI_X86_64_BC)).toBe(false);
  });
});

describe('header', () => {
  it('chaddr: colon MAC for Ethernet, compact hex otherwise', () => {
    const ib = request({}, { htype: 32, hlen: 0, chaddr: '' }); // InfiniBand (RFC 4390)
    expectCodecLaws(dhcp4Codec, ib);
    const tokenRing = request({}, { htype: 6, hlen: 6, chaddr: '0a0b0c0d0e0f' });
    expectCodecLaws(dhcp4Codec, tokenRing);
    const long = request({}, { htype: 20, hlen: 16, chaddr: '00112233445566778899aabbccddeeff' });
    expectCodecLaws(dhcp4Codec, long);
    // Garbage after hlen bytes is not part of the address.
    const buf = Uint8Array.from(DHCLIENT_DISCOVER);
    buf[40] = 0xee;
    expect(decodeDhcp4(buf).chaddr).toBe('52:54:00:77:00:01');
  });

  it('accepts upper-case and dashed MACs when encoding', () => {
    const a = encodeDhcp4(request({}, { chaddr: '52-54-00-AA-BB-CC' }));
    expect(decodeDhcp4(a).chaddr).toBe('52:54:00:aa:bb:cc');
  });

  it('ignores the reserved flag bits', () => {
    const buf = Uint8Array.from(DHCLIENT_DISCOVER);
    buf[10] = 0x7f;
    buf[11] = 0xff;
    expect(decodeDhcp4(buf).flags).toEqual({ broadcast: false });
    buf[10] = 0xff;
    expect(decodeDhcp4(buf).flags).toEqual({ broadcast: true });
  });
});

describe('malformed input', () => {
  it.each<{ name: string; buf: Uint8Array; kind: string }>([
    { name: 'empty', buf: new Uint8Array(0), kind: 'truncated' },
    { name: 'header cut before the cookie', buf: DHCLIENT_DISCOVER.subarray(0, 239), kind: 'truncated' },
    { name: 'no magic cookie (plain BOOTP)', buf: padTo300([...DHCLIENT_DISCOVER.subarray(0, 236), 0, 0, 0, 0]), kind: 'bad-cookie' },
    { name: 'op 3', buf: rawPacket([255], { op: 3 }), kind: 'bad-field' },
    { name: 'hlen 17', buf: rawPacket([255], { hlen: 17 }), kind: 'bad-field' },
    { name: 'option runs past the end', buf: rawPacket([53, 1, 1, 12, 10, 65, 66]), kind: 'bad-option-length' },
    { name: 'option code without length byte', buf: rawPacket([53, 1, 1, 12]), kind: 'bad-option-length' },
    { name: 'option 52 inside the file field', buf: rawPacket([52, 1, 1, 255], { file: [52, 1, 2, 255] }), kind: 'bad-option' },
    { name: 'overloaded field overruns', buf: rawPacket([52, 1, 2, 255], { sname: [...zeros(62), 12, 5] }), kind: 'bad-option-length' },
  ])('$name -> $kind', ({ buf, kind }) => {
    expect(malformedKind(buf)).toBe(kind);
  });

  it('the error says where and what', () => {
    try {
      decodeDhcp4(rawPacket([53, 1, 1, 12, 10, 65]));
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedPacketError);
      const m = e as MalformedPacketError;
      expect(m.protocol).toBe('dhcp4');
      expect(m.offset).toBe(243);
      expect(m.message).toMatch(/option 12/);
    }
  });
});

describe('encoding errors are programming errors (TypeError / RangeError)', () => {
  it.each<[string, Dhcp4Packet]>([
    ['bad address', request({ serverId: '10.77.0.256' })],
    ['address with leading zero', request({}, { giaddr: '10.077.0.1' })],
    ['chaddr length differs from hlen', request({}, { chaddr: '52:54:00:77:00' })],
    ['chaddr not hex', request({}, { chaddr: '52:54:00:77:00:zz' })],
    ['xid too big', request({}, { xid: 2 ** 32 })],
    ['sname too long', request({}, { sname: 'x'.repeat(65) })],
    ['hostname not latin1', request({ hostname: 'nöde☃' })],
    ['typed and raw twice', request({ hostname: 'a', raw: [{ code: 12, data: u8(98) }] })],
    ['raw end option', request({ raw: [{ code: 255, data: u8() }] })],
    ['raw overload', request({ raw: [{ code: 52, data: u8(3) }] })],
    ['empty RFC 3004 user class', request({ userClass: { format: 'rfc3004', classes: [] } })],
    ['bad uuid', request({ clientMachineId: { type: 0, uuid: 'not-a-uuid' } })],
    ['oversized sub-option', request({ relayAgentInfo: { circuitId: new Uint8Array(256) } })],
  ])('%s', (_name, p) => {
    expect(() => encodeDhcp4(p)).toThrow(expect.objectContaining({ name: expect.stringMatching(/TypeError|RangeError/) }));
  });
});
