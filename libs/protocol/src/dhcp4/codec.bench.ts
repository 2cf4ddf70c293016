// DHCPv4 codec micro-benchmark (not a test). From the repository root:
//   node -r ./tools/register.js libs/protocol/src/dhcp4/codec.bench.ts [seconds-per-case]
// Prints ops/s per case, median of 5 rounds. The box is shared and noisy (perf-baselines.md):
// compare runs taken together, not against absolute figures.
import * as goldens from './fixtures/discover.goldens';
import { encodeIpxeOptions, DhcpMessageType } from './options';
import { decodeDhcp4, encodeDhcp4 } from './packet.codec';
import { buildOffer } from './reply.builder';

const seconds = Number(process.argv[2] ?? '0.4');

function measure(name: string, fn: () => unknown): void {
  // Warm up so the JIT has optimised the path before timing.
  for (let i = 0; i < 20_000; i++) fn();
  const rates: number[] = [];
  let sink = 0;
  for (let round = 0; round < 5; round++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    const until = t0 + BigInt(Math.round((seconds * 1e9) / 5));
    let now = t0;
    while (now < until) {
      for (let i = 0; i < 1000; i++) if (fn()) sink++;
      n += 1000;
      now = process.hrtime.bigint();
    }
    rates.push(n / (Number(now - t0) / 1e9));
  }
  rates.sort((a, b) => a - b);
  const fmt = (r: number) => Math.round(r).toLocaleString('en-US');
  console.log(`${name.padEnd(44)} ${fmt(rates[2]).padStart(11)} ops/s  (min ${fmt(rates[0])}, max ${fmt(rates[4])})${sink < 0 ? '!' : ''}`);
}

// Buffers, as a dgram socket delivers them.
const DHCLIENT_DISCOVER = Buffer.from(goldens.DHCLIENT_DISCOVER);
const UDHCPC_DISCOVER = Buffer.from(goldens.UDHCPC_DISCOVER);
const IPXE_DISCOVER = Buffer.from(goldens.IPXE_DISCOVER);

const ipxeRequest = decodeDhcp4(IPXE_DISCOVER);
const ipxeOffer = buildOffer(ipxeRequest, {
  serverId: '10.77.0.1',
  yiaddr: '10.77.0.129',
  leaseTime: 600,
  siaddr: '10.77.0.1',
  options: {
    subnetMask: '255.255.255.0',
    routers: ['10.77.0.1'],
    dnsServers: ['10.77.0.1'],
    bootfileName: 'http://10.77.0.1:5248/boot.ipxe',
    ipxe: encodeIpxeOptions({ noPxeDhcp: true }),
  },
}).packet;

console.log(`node ${process.version}, ${seconds}s per case`);
measure('decode   dhclient DISCOVER (300 B)', () => decodeDhcp4(DHCLIENT_DISCOVER));
measure('decode   iPXE DISCOVER (375 B)', () => decodeDhcp4(IPXE_DISCOVER));
measure('encode   iPXE OFFER', () => encodeDhcp4(ipxeOffer));
measure('decode+encode dhclient DISCOVER', () => encodeDhcp4(decodeDhcp4(DHCLIENT_DISCOVER)));
measure('decode+encode udhcpc DISCOVER', () => encodeDhcp4(decodeDhcp4(UDHCPC_DISCOVER)));
measure('decode+encode iPXE DISCOVER', () => encodeDhcp4(decodeDhcp4(IPXE_DISCOVER)));
measure('handler path: decode iPXE + buildOffer + encode', () => {
  const req = decodeDhcp4(IPXE_DISCOVER);
  if (req.options.messageType !== DhcpMessageType.DISCOVER) return false;
  return encodeDhcp4(
    buildOffer(req, {
      serverId: '10.77.0.1',
      yiaddr: '10.77.0.129',
      leaseTime: 600,
      options: { subnetMask: '255.255.255.0', routers: ['10.77.0.1'], bootfileName: 'boot.ipxe' },
    }).packet,
  );
});
