// A minimal DHCP relay agent (RFC 1542 / RFC 3046) for the e2e tests, run in its own network
// namespace: it takes client broadcasts on the downstream interface, sets giaddr, adds option 82
// (circuit id = the interface name) and forwards them to the server; it takes the server's
// replies (sent to giaddr:67), strips option 82 and broadcasts them on the downstream link (or
// unicasts to ciaddr). No Debian package in the image provides a relay (isc-dhcp-relay is not
// installed), hence this one. It uses the kiln_net addon to open its sockets inside the
// namespace and bound to the downstream interface.
import * as dgram from 'node:dgram';
import { BootOp, decodeDhcp4, encodeDhcp4 } from '@kiln/protocol';
import { loadKilnNet } from '../native.addon';

export interface RelayOptions {
  netns: string;
  /** Client-side interface and its address (the giaddr). */
  downstream: { iface: string; address: string };
  /** The DHCP server's address. */
  server: string;
}

export class RelayAgent {
  private down?: dgram.Socket;
  private up?: dgram.Socket;
  forwardedRequests = 0;
  forwardedReplies = 0;
  /** Replies that came back with our option 82 echoed (RFC 3046 2.2). */
  repliesWithAgentInfo = 0;

  constructor(private readonly opts: RelayOptions) {}

  async start(): Promise<void> {
    const net = loadKilnNet();
    const netns = `/run/netns/${this.opts.netns}`;
    const downFd = net.openUdp4({ port: 67, device: this.opts.downstream.iface, netns, broadcast: true, reuseAddr: true });
    const upFd = net.openUdp4({ port: 67, netns, broadcast: true, reuseAddr: true });
    this.down = await adopt(downFd);
    this.up = await adopt(upFd);
    const circuit = Buffer.from(this.opts.downstream.iface, 'latin1');
    this.down.on('message', (msg) => {
      let p;
      try {
        p = decodeDhcp4(msg);
      } catch {
        return;
      }
      if (p.op !== BootOp.REQUEST) return;
      if (p.giaddr === '0.0.0.0') p.giaddr = this.opts.downstream.address;
      p.hops += 1;
      p.options.relayAgentInfo = { circuitId: circuit };
      this.forwardedRequests++;
      this.up!.send(encodeDhcp4(p), 67, this.opts.server);
    });
    this.up.on('message', (msg) => {
      let p;
      try {
        p = decodeDhcp4(msg);
      } catch {
        return;
      }
      // The unbound socket also sees the client broadcasts: only replies go downstream.
      if (p.op !== BootOp.REPLY || p.giaddr !== this.opts.downstream.address) return;
      if (p.options.relayAgentInfo?.circuitId && Buffer.from(p.options.relayAgentInfo.circuitId).equals(circuit)) {
        this.repliesWithAgentInfo++;
      }
      delete p.options.relayAgentInfo;
      this.forwardedReplies++;
      const unicast = p.ciaddr !== '0.0.0.0';
      this.down!.send(encodeDhcp4(p), 68, unicast ? p.ciaddr : '255.255.255.255');
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.down, this.up].filter((s): s is dgram.Socket => s !== undefined).map((s) => new Promise<void>((r) => s.close(() => r()))),
    );
  }
}

function adopt(fd: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind({ fd }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}
