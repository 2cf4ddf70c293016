// The listener's interface set changing while it runs, on real loopback sockets: a socket bound
// to `lo` opens and closes beside the unbound one, and an interface that does not exist is
// reported without disturbing the others.
import * as dgram from 'node:dgram';
import { pollUntil } from '@kiln/testing';
import { Ingress } from './dhcp.handler';
import { UdpListener } from './dhcp.listener';

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('UdpListener.setInterfaces', () => {
  let listener: UdpListener;
  let client: dgram.Socket;
  let port: number;
  const received: Array<{ text: string; from: Ingress }> = [];
  const errors: string[] = [];

  beforeEach(async () => {
    received.length = 0;
    errors.length = 0;
    port = await freePort();
    listener = new UdpListener({ interfaces: [], address: '127.0.0.1', port });
    await listener.start(
      (msg, from) => received.push({ text: msg.toString(), from }),
      (err, where) => errors.push(`${where}: ${err.message}`),
    );
    client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  });

  afterEach(async () => {
    await listener.close();
    await new Promise<void>((r) => client.close(() => r()));
  });

  /** Sends one datagram and returns the interface it was received on ('' for the unbound socket). */
  async function deliveredOn(text: string): Promise<string> {
    client.send(text, port, '127.0.0.1');
    const got = await pollUntil(
      () => received.find((r) => r.text === text),
      (r) => r !== undefined,
      { timeoutMs: 2000, what: `datagram ${text}` },
    );
    return got!.from.iface ?? '';
  }

  it('opens a socket for an interface added while running, and closes it when the interface is left out', async () => {
    expect(listener.interfaces).toEqual([]);
    expect(await deliveredOn('before')).toBe('');

    await listener.setInterfaces(['lo']);
    expect(listener.interfaces).toEqual(['lo']);
    expect(await deliveredOn('added')).toBe('lo');

    await listener.setInterfaces(['lo']);
    expect(await deliveredOn('unchanged')).toBe('lo');

    await listener.setInterfaces([]);
    expect(listener.interfaces).toEqual([]);
    expect(await deliveredOn('removed')).toBe('');
    expect(errors).toEqual([]);
  });

  it('serves the interfaces it can open and rejects naming the ones it cannot', async () => {
    await expect(listener.setInterfaces(['lo', 'kiln-none0'])).rejects.toThrow(/cannot serve DHCP on kiln-none0/);
    expect(listener.interfaces).toEqual(['lo']);
    expect(await deliveredOn('still served')).toBe('lo');
  });

  it('starts with the interfaces it can open, reporting the ones it cannot', async () => {
    const other = new UdpListener({ interfaces: ['lo', 'kiln-none0'], address: '127.0.0.1', port: await freePort() });
    const otherErrors: string[] = [];
    await other.start(() => undefined, (err, where) => otherErrors.push(`${where}: ${err.message}`));
    try {
      expect(other.interfaces).toEqual(['lo']);
      expect(otherErrors).toEqual([expect.stringMatching(/^start: cannot serve DHCP on kiln-none0/)]);
    } finally {
      await other.close();
    }
  });

  it('refuses once closed', async () => {
    await listener.close();
    await expect(listener.setInterfaces(['lo'])).rejects.toThrow(/not running/);
  });
});
