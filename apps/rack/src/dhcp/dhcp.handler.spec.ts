import { ClientArch, decodeEncapsulated, Dhcp4Options, DhcpMessageType, encodeDhcp4 } from '@kiln/protocol';
import { DhcpHandler } from './dhcp.handler';
import { HandlerHarness, LAB_CONFIG } from './testing/handler.harness';
import { macOf, request } from './testing/packets.fixture';
import { InMemoryBootDecisions } from '../boot/boot-decision.port';

const { DISCOVER, REQUEST, RELEASE, DECLINE, INFORM, OFFER, ACK, NAK } = DhcpMessageType;

describe('DhcpHandler', () => {
  let h: HandlerHarness;
  beforeEach(() => (h = new HandlerHarness()));
  afterEach(() => h.close());

  /** DISCOVER then REQUEST (SELECTING); returns the ACKed address. */
  function dora(mac: string, iface: { iface?: string } = { iface: 'eth0' }, giaddr?: string): string {
    const offer = h.handle(request(DISCOVER, mac, { giaddr }), iface);
    expect(offer.reply?.packet.options.messageType).toBe(OFFER);
    const yiaddr = offer.reply!.packet.yiaddr;
    const ack = h.handle(
      request(REQUEST, mac, { giaddr, options: { serverId: offer.reply!.packet.options.serverId, requestedIp: yiaddr } }),
      iface,
    );
    expect(ack.reply?.packet.options.messageType).toBe(ACK);
    expect(ack.durable).toBe(true);
    return ack.reply!.packet.yiaddr;
  }

  it('runs DISCOVER/OFFER/REQUEST/ACK with the subnet options, lease times and server identifier', () => {
    const offer = h.handle(request(DISCOVER, macOf(1), { broadcast: true }));
    const p = offer.reply!.packet;
    expect(p.yiaddr).toBe('10.1.1.100');
    expect(p.options).toMatchObject({
      serverId: '10.1.1.1',
      subnetMask: '255.255.255.0',
      routers: ['10.1.1.1'],
      leaseTime: 600,
      renewalTime: 300,
      rebindingTime: 525,
    });
    expect(offer.reply!.destination).toEqual({ address: '255.255.255.255', port: 68, broadcast: true });
    expect(offer.events).toEqual([expect.objectContaining({ type: 'offer', mac: macOf(1), ip: '10.1.1.100', interface: 'eth0', subnetId: 'a' })]);
    const ack = h.handle(request(REQUEST, macOf(1), { options: { serverId: '10.1.1.1', requestedIp: '10.1.1.100' } }));
    expect(ack.reply!.packet.options.messageType).toBe(ACK);
    expect(ack.events[0]).toMatchObject({ type: 'ack', ip: '10.1.1.100', leaseSeconds: 600 });
    expect(h.store.byMac('a', macOf(1))?.state).toBe('bound');
  });

  it('sends the subnet MTU (26) and NTP servers (42) through the codec, as their RFC 2132 bytes', () => {
    h.close();
    const [a, ...rest] = LAB_CONFIG.subnets;
    h = new HandlerHarness({ ...LAB_CONFIG, subnets: [{ ...a, mtu: 9000, ntpServers: ['10.1.1.5', '010.1.1.6'] }, ...rest] });
    const p = h.handle(request(DISCOVER, macOf(1))).reply!.packet;
    expect(p.options).toMatchObject({ interfaceMtu: 9000, ntpServers: ['10.1.1.5', '10.1.1.6'] });
    expect(p.options.raw).toBeUndefined();
    const b = encodeDhcp4(p);
    const found = new Map<number, number[]>();
    for (let i = 240; b[i] !== 255; i += 2 + b[i + 1]) found.set(b[i], Array.from(b.subarray(i + 2, i + 2 + b[i + 1])));
    expect(found.get(26)).toEqual([0x23, 0x28]);
    expect(found.get(42)).toEqual([10, 1, 1, 5, 10, 1, 1, 6]);
  });

  it('answers each interface from its own subnet, and relayed requests from the giaddr subnet, to the relay port 67', () => {
    expect(dora(macOf(1), { iface: 'eth0' })).toMatch(/^10\.1\.1\./);
    expect(dora(macOf(1), { iface: 'eth1' })).toMatch(/^10\.1\.2\./);
    const offer = h.handle(request(DISCOVER, macOf(2), { giaddr: '10.1.3.1' }), { iface: undefined, address: '10.1.3.1', port: 67 });
    expect(offer.reply!.packet.yiaddr).toMatch(/^10\.1\.3\./);
    expect(offer.reply!.packet.giaddr).toBe('10.1.3.1');
    expect(offer.reply!.packet.options.serverId).toBe('10.1.9.1');
    expect(offer.reply!.destination).toEqual({ address: '10.1.3.1', port: 67, broadcast: false });
    expect(offer.events[0]).toMatchObject({ relayAddress: '10.1.3.1', subnetId: 'c' });
  });

  it('answers a relayed request once, even when it arrives on an interface socket and on the relay socket', () => {
    // A broadcast DISCOVER carrying a giaddr reaches the eth0 socket and the unbound relay socket.
    const pkt = request(DISCOVER, macOf(2), { giaddr: '10.1.3.1', broadcast: true });
    const first = h.handle(pkt, { iface: 'eth0' });
    expect(first.reply?.packet.options.messageType).toBe(OFFER);
    expect(first.reply!.destination.address).toBe('10.1.3.1');
    expect(h.handle(pkt, { iface: undefined }).drop).toBe('duplicate-relayed');
    expect(h.handle(pkt, { iface: 'eth0' }).drop).toBe('duplicate-relayed');
    // A retransmission seconds later is answered again.
    h.clock += 3_000;
    expect(h.handle(pkt, { iface: undefined }).reply?.packet.options.messageType).toBe(OFFER);
    // Another client behind the same relay is answered at once.
    expect(h.handle(request(DISCOVER, macOf(3), { giaddr: '10.1.3.1' }), { iface: undefined }).reply).toBeDefined();
  });

  it('does not answer a relayed request whose giaddr is on a subnet the rack serves directly', () => {
    for (const ingress of [{ iface: 'eth0' }, { iface: undefined }]) {
      const r = h.handle(request(DISCOVER, macOf(2), { giaddr: '10.1.1.7' }), ingress);
      expect(r.reply).toBeUndefined();
      expect(r.drop).toBe('relay-on-attached-subnet');
    }
    expect(h.handle(request(DISCOVER, macOf(2), { giaddr: '10.1.2.7' }), { iface: undefined }).drop).toBe('relay-on-attached-subnet');
  });

  it('drops requests it cannot place: unknown giaddr, unserved interface, broadcast copies on the relay socket', () => {
    expect(h.handle(request(DISCOVER, macOf(1), { giaddr: '192.0.2.1' }), { iface: undefined }).drop).toBe('no-subnet');
    expect(h.handle(request(DISCOVER, macOf(1)), { iface: 'eth9' }).drop).toBe('unserved-interface');
    expect(h.handle(request(DISCOVER, macOf(1)), { iface: undefined }).drop).toBe('not-relayed');
    expect(h.handle({ ...request(DISCOVER, macOf(1)), op: 2 }).drop).toBe('not-request');
    const bootp = request(DISCOVER, macOf(1));
    delete bootp.options.messageType;
    expect(h.handle(bootp).drop).toBe('bootp');
    expect(h.handle(request(OFFER, macOf(1))).drop).toBe('unexpected-type');
  });

  it('serves reservations, with their hostname, and never gives a reserved address to anyone else', () => {
    expect(dora('52:54:00:00:00:aa')).toBe('10.1.1.50');
    const offer = h.handle(request(DISCOVER, '52:54:00:00:00:aa'));
    expect(offer.reply!.packet.options.hostname).toBe('node-a');
    const other = h.handle(request(REQUEST, macOf(9), { options: { requestedIp: '10.1.1.50' } }));
    expect(other.reply!.packet.options.messageType).toBe(NAK);
  });

  it('gives a returning client its address back, after RELEASE and after a restart', () => {
    const ip = dora(macOf(1));
    dora(macOf(2));
    h.handle(request(RELEASE, macOf(1), { ciaddr: ip, options: { serverId: '10.1.1.1' } }));
    expect(h.store.byMac('a', macOf(1))?.state).toBe('released');
    expect(dora(macOf(1))).toBe(ip);
    h.restart();
    const offer = h.handle(request(DISCOVER, macOf(1)));
    expect(offer.reply!.packet.yiaddr).toBe(ip);
    // INIT-REBOOT after the restart: re-acked, same address.
    const ack = h.handle(request(REQUEST, macOf(1), { options: { requestedIp: ip } }));
    expect(ack.reply!.packet.options.messageType).toBe(ACK);
    expect(ack.reply!.packet.yiaddr).toBe(ip);
  });

  it('NAKs INIT-REBOOT for another subnet or an address another client holds, and renews in RENEWING', () => {
    const ip1 = dora(macOf(1));
    const wrong = h.handle(request(REQUEST, macOf(2), { options: { requestedIp: '10.1.2.120' } }));
    expect(wrong.reply!.packet.options).toMatchObject({ messageType: NAK, message: 'address not on this subnet' });
    expect(wrong.reply!.destination.broadcast).toBe(true);
    const taken = h.handle(request(REQUEST, macOf(2), { options: { requestedIp: ip1 } }));
    expect(taken.reply!.packet.options.messageType).toBe(NAK);
    expect(taken.events[0]).toMatchObject({ type: 'nak', mac: macOf(2) });
    h.clock += 200_000;
    const renew = h.handle(request(REQUEST, macOf(1), { ciaddr: ip1 }));
    expect(renew.reply!.packet.options.messageType).toBe(ACK);
    expect(renew.reply!.destination).toEqual({ address: ip1, port: 68, broadcast: false });
    expect(h.store.byMac('a', macOf(1))!.expiresAt).toBe(h.clock + 600_000);
  });

  it('as one of two racks on a VLAN, hands out only its share and leaves the peer\'s clients to the peer', () => {
    const [a] = LAB_CONFIG.subnets;
    const halves = (lo: string, hi: string) => [{ start: lo, end: hi }];
    const secondary = new HandlerHarness({
      ...LAB_CONFIG,
      subnets: [{ ...a, ranges: halves('10.1.1.150', '10.1.1.199'), peerRanges: halves('10.1.1.100', '10.1.1.149') }],
    });
    try {
      const offer = secondary.handle(request(DISCOVER, macOf(1)));
      expect(offer.reply!.packet.yiaddr).toBe('10.1.1.150');
      // A DISCOVER asking for the peer's address still gets one of ours.
      const asks = secondary.handle(request(DISCOVER, macOf(2), { options: { requestedIp: '10.1.1.120' } }));
      expect(asks.reply!.packet.yiaddr).toBe('10.1.1.151');
      // INIT-REBOOT / REBINDING with an address the peer gave: silence, not a NAK.
      expect(secondary.handle(request(REQUEST, macOf(3), { options: { requestedIp: '10.1.1.120' } })).drop).toBe('peer-address');
      expect(secondary.handle(request(REQUEST, macOf(3), { ciaddr: '10.1.1.121' })).drop).toBe('peer-address');
      // Outside both shares it is wrong for everyone: NAK.
      const outside = secondary.handle(request(REQUEST, macOf(3), { options: { requestedIp: '10.1.1.20' } }));
      expect(outside.reply!.packet.options.messageType).toBe(NAK);
    } finally {
      secondary.close();
    }
  });

  it('withdraws its offer when the client selects another server', () => {
    const offer = h.handle(request(DISCOVER, macOf(1)));
    const ip = offer.reply!.packet.yiaddr;
    const r = h.handle(request(REQUEST, macOf(1), { options: { serverId: '10.9.9.9', requestedIp: ip } }));
    expect(r.drop).toBe('other-server');
    expect(h.store.byMac('a', macOf(1))).toBeUndefined();
  });

  it('takes a declined address out of the pool for the probation time', () => {
    const ip = dora(macOf(1));
    const r = h.handle(request(DECLINE, macOf(1), { options: { serverId: '10.1.1.1', requestedIp: ip } }));
    expect(r.events[0]).toMatchObject({ type: 'decline', ip });
    expect(r.reply).toBeUndefined();
    const next = h.handle(request(DISCOVER, macOf(1)));
    expect(next.reply!.packet.yiaddr).not.toBe(ip);
    expect(h.handle(request(REQUEST, macOf(3), { options: { requestedIp: ip } })).reply!.packet.options.messageType).toBe(NAK);
    h.clock += 601_000;
    h.handler.sweep();
    expect(h.store.availableFor('a', h.store.byIp('a', ipNum(ip))?.ip ?? ipNum(ip), macOf(3), h.clock)).toBe(true);
  });

  it('answers INFORM with configuration and no lease, unicast to ciaddr', () => {
    const r = h.handle(request(INFORM, macOf(1), { ciaddr: '10.1.1.7' }));
    expect(r.reply!.packet.options.messageType).toBe(ACK);
    expect(r.reply!.packet.options.leaseTime).toBeUndefined();
    expect(r.reply!.packet.yiaddr).toBe('0.0.0.0');
    expect(r.reply!.destination).toEqual({ address: '10.1.1.7', port: 68, broadcast: false });
  });

  it('expires leases that are not renewed and reports them', () => {
    const ip = dora(macOf(1));
    h.clock += 599_000;
    expect(h.handler.sweep()).toEqual([]);
    h.clock += 2_000;
    expect(h.handler.sweep()).toEqual([expect.objectContaining({ type: 'expire', mac: macOf(1), ip })]);
    expect(h.store.byMac('a', macOf(1))?.state).toBe('expired');
  });

  describe('network boot', () => {
    function bootOffer(options: Dhcp4Options, mac = macOf(7)) {
      return h.handle(request(DISCOVER, mac, { options })).reply!.packet;
    }

    it.each([
      [ClientArch.X86_BIOS, 'lpxelinux.0'],
      [ClientArch.EFI_X86_64_BC, 'bootx64.efi'],
      [ClientArch.EFI_X86_64, 'bootx64.efi'],
      [ClientArch.EFI_ARM64, 'bootaa64.efi'],
    ])('gives PXE arch %i the boot file %s from the rack (siaddr)', (arch, file) => {
      const p = bootOffer({ clientArch: [arch], vendorClassId: `PXEClient:Arch:0000${arch}:UNDI:003016` });
      expect(p.file).toBe(file);
      expect(p.siaddr).toBe('10.1.1.1');
      expect(h.boot.requests.at(-1)).toMatchObject({ mac: macOf(7), clientArch: arch, ipxe: false, serverAddress: '10.1.1.1' });
    });

    it('gives UEFI HTTP boot clients a URL and vendor class HTTPClient', () => {
      const p = bootOffer({ clientArch: [ClientArch.EFI_X86_64_HTTP], vendorClassId: 'HTTPClient:Arch:00016:UNDI:003016' });
      expect(p.file).toBe('http://10.1.1.1:5248/images/bootx64.efi');
      expect(p.options.vendorClassId).toBe('HTTPClient');
    });

    it('gives iPXE the script URL and 175.176 (no ProxyDHCP wait), and reports arch and user class', () => {
      const p = bootOffer({ clientArch: [ClientArch.EFI_X86_64_BC], userClass: { format: 'plain', value: 'iPXE' }, ipxe: Uint8Array.of(0x13, 1, 1) });
      expect(p.file).toBe('http://10.1.1.1:5248/ipxe.cfg');
      expect(decodeEncapsulated(p.options.ipxe!)).toEqual([{ code: 176, data: Uint8Array.of(1) }]);
      const ack = h.handle(request(REQUEST, macOf(7), { options: { serverId: '10.1.1.1', requestedIp: p.yiaddr, clientArch: [7], userClass: { format: 'plain', value: 'iPXE' } } }));
      expect(ack.reply!.packet.file).toBe('http://10.1.1.1:5248/ipxe.cfg');
      expect(ack.events[0]).toMatchObject({ type: 'ack', interface: 'eth0', clientArch: 7, clientArchName: 'EFI_X86_64_BC', userClass: ['iPXE'], bootFile: 'http://10.1.1.1:5248/ipxe.cfg' });
    });

    it('sends no boot file for an architecture the operator disabled on the subnet, but still an address', () => {
      h.close();
      const config = structuredClone(LAB_CONFIG);
      config.subnets[0].boot = { enabled: true, disabledArchitectures: [ClientArch.X86_BIOS] };
      h = new HandlerHarness(config);
      const bios = bootOffer({ clientArch: [ClientArch.X86_BIOS] });
      expect(bios.file).toBe('');
      expect(bios.yiaddr).toMatch(/^10\.1\.1\./);
      expect(bootOffer({ clientArch: [ClientArch.EFI_X86_64] }, macOf(8)).file).toBe('bootx64.efi');
    });

    it('uses the region decision per MAC, and works with an asynchronous boot source', async () => {
      h.boot.overrides.set(macOf(7), { bootFile: 'custom.efi', nextServer: '10.1.1.5' });
      const p = bootOffer({ clientArch: [ClientArch.EFI_X86_64] });
      expect([p.file, p.siaddr]).toEqual(['custom.efi', '10.1.1.5']);
      const asyncHandler = new DhcpHandler(LAB_CONFIG, { store: h.store, boot: new InMemoryBootDecisions({ async: true }), now: () => h.clock });
      const r = asyncHandler.handle(request(DISCOVER, macOf(8), { options: { clientArch: [0] } }), { iface: 'eth0', address: '0.0.0.0', port: 68 });
      expect(r).toBeInstanceOf(Promise);
      expect((await r).reply!.packet.file).toBe('lpxelinux.0');
    });

    it('does not ask for a boot decision for plain DHCP clients', () => {
      dora(macOf(1));
      expect(h.boot.requests).toHaveLength(0);
    });
  });

  describe('floods', () => {
    it('rate-limits one MAC that hammers the server, without affecting others', () => {
      let limited = 0;
      for (let i = 0; i < 100; i++) if (h.handle(request(DISCOVER, macOf(1))).drop === 'rate-limited') limited++;
      expect(limited).toBeGreaterThan(70);
      expect(dora(macOf(2))).toMatch(/^10\.1\.1\./);
      h.clock += 10_000;
      expect(h.handle(request(DISCOVER, macOf(1))).reply).toBeDefined();
    });

    it('unknown MACs flooding DISCOVERs hold only offers: the pool is not exhausted and real clients are served', () => {
      for (let i = 0; i < 5000; i++) {
        const r = h.handle(request(DISCOVER, macOf(100_000 + i)));
        expect(r.reply).toBeDefined(); // the oldest offer is taken back each time
      }
      const ip = dora(macOf(1));
      expect(ip).toMatch(/^10\.1\.1\.1\d\d$/);
      // A client whose offer was taken back by the flood still gets the address it requests.
      const offer = h.handle(request(DISCOVER, macOf(2)));
      for (let i = 0; i < 300; i++) h.handle(request(DISCOVER, macOf(200_000 + i)));
      const ack = h.handle(request(REQUEST, macOf(2), { options: { serverId: '10.1.1.1', requestedIp: offer.reply!.packet.yiaddr } }));
      expect(ack.reply!.packet.options.messageType).toBe(ACK);
    });

    it('bounds outstanding offers per subnet: a flood of random MACs holds at most half the pool, the rest stays free', () => {
      // Subnet a has 100 dynamic addresses: the default bound is 50 there.
      let reclaimed = 0;
      for (let i = 0; i < 20_000; i++) {
        const r = h.handle(request(DISCOVER, macOf(100_000 + i)));
        expect(r.reply).toBeDefined();
        reclaimed += r.reclaimedOffers ?? 0;
        if (i % 1000 === 0) expect(h.store.offeredCount('a')).toBeLessThanOrEqual(50);
      }
      expect(h.store.offeredCount('a')).toBe(50);
      expect(reclaimed).toBe(20_000 - 50);
      // The other interface's subnet is untouched by the flood on eth0.
      expect(h.store.offeredCount('b')).toBe(0);
      // After the flood, 40 real clients each get a lease on an address nobody else holds.
      const ips = new Set<string>();
      for (let i = 0; i < 40; i++) ips.add(dora(macOf(1 + i)));
      expect(ips.size).toBe(40);
      expect(h.store.offeredCount('a')).toBeLessThanOrEqual(50);
    });

    it('during a flood, a client slow to REQUEST still gets its offered address, and two real clients are not offered the same address', () => {
      const a = h.handle(request(DISCOVER, macOf(1))).reply!.packet.yiaddr;
      for (let i = 0; i < 98; i++) h.handle(request(DISCOVER, macOf(100_000 + i)));
      // The offer to macOf(1) was taken back after 50 newer ones, but its address went to the back
      // of the free list: it is offered again only after the rest of the pool has gone round.
      expect(h.store.byIp('a', ipNum(a))).toBeUndefined();
      const b = h.handle(request(DISCOVER, macOf(2))).reply!.packet.yiaddr;
      expect(b).not.toBe(a);
      for (const [mac, ip] of [[macOf(1), a], [macOf(2), b]]) {
        const ack = h.handle(request(REQUEST, mac, { options: { serverId: '10.1.1.1', requestedIp: ip } }));
        expect(ack.reply!.packet.options.messageType).toBe(ACK);
      }
    });

    it('takes the bound from the configuration', () => {
      h.close();
      h = new HandlerHarness({ ...LAB_CONFIG, maxOffersPerSubnet: 5 });
      for (let i = 0; i < 30; i++) h.handle(request(DISCOVER, macOf(100_000 + i)));
      expect(h.store.offeredCount('a')).toBe(5);
    });

    it('lets an offer that is not requested go after a short hold (10 s by default)', () => {
      const ip = h.handle(request(DISCOVER, macOf(1))).reply!.packet.yiaddr;
      expect(h.store.byIp('a', ipNum(ip))?.state).toBe('offered');
      h.clock += 11_000;
      h.handler.sweep();
      expect(h.store.byIp('a', ipNum(ip))).toBeUndefined();
      expect(h.store.offeredCount('a')).toBe(0);
    });

    it('says pool-exhausted only when every address is bound', () => {
      for (let i = 0; i < 100; i++) dora(macOf(1000 + i));
      expect(h.handle(request(DISCOVER, macOf(1))).drop).toBe('pool-exhausted');
    });
  });
});

function ipNum(ip: string): number {
  return ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}
