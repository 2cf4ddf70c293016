// startDhcp keeps the listener's sockets in step with the configuration: a subnet on one of the
// rack's interfaces that gets DHCP after the server started (the usual order: the rack registers,
// then an operator turns DHCP on for its VLAN) is served without a restart, one turned off is
// no longer listened on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeDhcp4, Dhcp4Destination, Dhcp4Packet, DhcpMessageType, encodeDhcp4 } from '@kiln/protocol';
import { pollUntil } from '@kiln/testing';
import { InMemoryBootDecisions } from '../boot/boot-decision.port';
import { DhcpConfig, InMemoryDhcpConfigSource } from './dhcp-config.port';
import { Ingress } from './dhcp.handler';
import { DhcpListener } from './dhcp.listener';
import { RunningDhcp, servedInterfaces, startDhcp } from './dhcp.runtime';
import { InMemoryLeaseEventSink } from './lease-events.port';
import { captureLog } from './testing/log.capture';
import { macOf, request } from './testing/packets.fixture';

/** Records interface changes and replies; `unavailable` interfaces cannot be opened. */
class FakeListener implements DhcpListener {
  current: string[] = [];
  readonly changes: string[][] = [];
  readonly sent: Array<{ pkt: Dhcp4Packet; via: Ingress }> = [];
  readonly unavailable = new Set<string>();
  deliver: (msg: Buffer, from: Ingress) => void = () => undefined;

  get interfaces(): readonly string[] {
    return this.current;
  }
  async start(onDatagram: (msg: Buffer, from: Ingress) => void): Promise<void> {
    this.deliver = onDatagram;
  }
  send(buf: Buffer, _to: Dhcp4Destination, via: Ingress): void {
    this.sent.push({ pkt: decodeDhcp4(buf), via });
  }
  async close(): Promise<void> {}
  async setInterfaces(interfaces: readonly string[]): Promise<void> {
    this.changes.push([...interfaces]);
    this.current = interfaces.filter((i) => !this.unavailable.has(i));
    const failed = interfaces.filter((i) => this.unavailable.has(i));
    if (failed.length) throw new Error(`cannot serve DHCP on ${failed.join(', ')}`);
  }
}

const RELAYED_ONLY: DhcpConfig = {
  interfaces: [],
  serverAddress: '10.9.0.1',
  subnets: [{ id: 'relayed', cidr: '10.9.9.0/24', ranges: [{ start: '10.9.9.100', end: '10.9.9.199' }] }],
};

function withDirect(...names: string[]): DhcpConfig {
  return {
    ...RELAYED_ONLY,
    interfaces: names.map((name, i) => ({ name, address: `10.9.${i + 1}.1` })),
    subnets: [
      ...RELAYED_ONLY.subnets,
      ...names.map((name, i) => ({ id: name, cidr: `10.9.${i + 1}.0/24`, interface: name, ranges: [{ start: `10.9.${i + 1}.100`, end: `10.9.${i + 1}.199` }] })),
    ],
  };
}

describe('startDhcp: the served interfaces follow the configuration', () => {
  let dir: string;
  let running: RunningDhcp | undefined;
  let listener: FakeListener;
  let source: InMemoryDhcpConfigSource;
  let logs: ReturnType<typeof captureLog>;

  async function start(initial: DhcpConfig): Promise<void> {
    listener = new FakeListener();
    listener.current = servedInterfaces(initial);
    source = new InMemoryDhcpConfigSource(initial);
    logs = captureLog();
    running = await startDhcp({
      config: source,
      boot: new InMemoryBootDecisions(),
      events: new InMemoryLeaseEventSink(),
      log: logs.log,
      warmUp: 0,
      leaseFile: path.join(dir, 'leases.journal'),
      customListener: listener,
    });
  }

  const changed = () => logs.lines().filter((l) => l.msg === 'dhcp interfaces changed');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dhcp-runtime-'));
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists only directly attached subnets\' interfaces, once each', () => {
    expect(servedInterfaces(RELAYED_ONLY)).toEqual([]);
    const two = withDirect('eth1', 'eth2');
    expect(servedInterfaces({ ...two, subnets: [...two.subnets, { id: 'more', cidr: '10.9.50.0/24', interface: 'eth1', ranges: [] }] })).toEqual(['eth1', 'eth2']);
  });

  it('serves an interface whose subnet gets DHCP after the start, and stops listening when it is removed', async () => {
    await start(RELAYED_ONLY);
    expect(listener.changes).toEqual([]);

    source.update(withDirect('eth1'));
    await pollUntil(() => changed().length, (n) => n === 1, { what: 'the interface change' });
    expect(listener.changes).toEqual([['eth1']]);
    expect(changed()[0]).toMatchObject({ interfaces: ['eth1'], added: ['eth1'], removed: [] });

    // A client on the new interface gets an offer from its subnet, sent through that interface.
    listener.deliver(encodeDhcp4(request(DhcpMessageType.DISCOVER, macOf(1), { xid: 7 })), { iface: 'eth1', address: '0.0.0.0', port: 68 });
    const offer = await pollUntil(
      () => listener.sent.find((s) => s.pkt.xid === 7),
      (s) => s !== undefined,
      { what: 'the offer' },
    );
    expect(offer!.pkt.options.messageType).toBe(DhcpMessageType.OFFER);
    expect(offer!.pkt.yiaddr).toMatch(/^10\.9\.1\.1\d\d$/);
    expect(offer!.via.iface).toBe('eth1');

    // Another change that keeps the same interfaces opens and closes nothing.
    source.update({ ...withDirect('eth1'), subnets: withDirect('eth1').subnets.map((s) => ({ ...s, leaseSeconds: 900 })) });
    source.update(RELAYED_ONLY);
    await pollUntil(() => changed().length, (n) => n === 2, { what: 'the second interface change' });
    expect(listener.changes).toEqual([['eth1'], []]);
    expect(changed()[1]).toMatchObject({ interfaces: [], added: [], removed: ['eth1'] });
  });

  it('keeps serving the interfaces it can open when one cannot be, and tries it again at the next change', async () => {
    await start(withDirect('eth1'));
    listener.unavailable.add('eth2');
    source.update(withDirect('eth1', 'eth2'));
    await pollUntil(() => changed().length, (n) => n === 1, { what: 'the interface change' });
    expect(logs.lines().find((l) => l.msg === 'dhcp could not serve every configured interface')).toMatchObject({ err: 'cannot serve DHCP on eth2' });
    expect(changed()[0]).toMatchObject({ interfaces: ['eth1'], added: [], removed: [] });

    listener.unavailable.clear();
    source.update({ ...withDirect('eth1', 'eth2'), subnets: withDirect('eth1', 'eth2').subnets.map((s) => ({ ...s, leaseSeconds: 900 })) });
    await pollUntil(() => changed().length, (n) => n === 2, { what: 'the retry' });
    expect(changed()[1]).toMatchObject({ interfaces: ['eth1', 'eth2'], added: ['eth2'] });
  });
});
