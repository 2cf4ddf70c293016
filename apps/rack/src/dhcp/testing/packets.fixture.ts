// Request packets as clients build them, for handler and server tests.
import { BootOp, Dhcp4Options, Dhcp4Packet, DhcpMessageType } from '@kiln/protocol';

export function request(
  type: DhcpMessageType,
  mac: string,
  opts: { xid?: number; ciaddr?: string; giaddr?: string; broadcast?: boolean; options?: Dhcp4Options } = {},
): Dhcp4Packet {
  return {
    op: BootOp.REQUEST,
    htype: 1,
    hlen: 6,
    hops: opts.giaddr ? 1 : 0,
    xid: opts.xid ?? 0x1234,
    secs: 0,
    flags: { broadcast: opts.broadcast ?? false },
    ciaddr: opts.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: opts.giaddr ?? '0.0.0.0',
    chaddr: mac,
    sname: '',
    file: '',
    options: { messageType: type, ...opts.options },
  };
}

/** A MAC from a number: 02:00:00:xx:xx:xx (locally administered). */
export function macOf(n: number): string {
  const h = (v: number) => v.toString(16).padStart(2, '0');
  return `02:00:00:${h((n >> 16) & 255)}:${h((n >> 8) & 255)}:${h(n & 255)}`;
}
