import { randomUUID } from 'node:crypto';
import { LeaseEvents, NeighbourEvents, NeighbourSighting, RegisterRack } from '@kiln/contracts';
import { pollUntil } from '@kiln/testing';
import { RackEventsConsumer } from '../racks/rack-events.consumer';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';

interface Discovery {
  ip: string;
  mac_address: string;
  first_seen: string;
  last_seen: string;
  observer: { system_id: string; interface_name: string };
}

/** discoveries/ fed by the batches of hosts racks see by ARP (NeighbourEvents). */
describe('discoveries/ from the ARP sightings racks report', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  const MAC = '52:54:00:a7:00:01';

  const send = (sightings: NeighbourSighting[], rackId = 'rack-arp', eventId = randomUUID()) =>
    h.bus.publishDurable(NeighbourEvents, [rackId], { eventId, rackId, at: new Date().toISOString(), source: 'arp', neighbours: sightings });
  const sighting = (over: Partial<NeighbourSighting> = {}): NeighbourSighting => ({
    iface: 'eth1',
    ip: '10.41.0.50',
    mac: MAC,
    count: 3,
    firstSeen: '2026-12-04T10:00:00.000Z',
    lastSeen: '2026-12-04T10:05:00.000Z',
    ...over,
  });
  const discoveries = async () => (await h.call(admin, 'GET', `${API}/discoveries/`)).json() as Discovery[];
  const rows = (): Promise<{ ip: string; count: number; source: string; interface_name: string; first_seen: Date; last_seen: Date }[]> =>
    h.ds.query(`SELECT host(ip) AS ip, count, source, interface_name, first_seen, last_seen FROM neighbours ORDER BY ip`);

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    await h.bus.request(RegisterRack, ['rack-arp'], {
      rackId: 'rack-arp',
      hostname: 'rack-arp',
      interfaces: [{ name: 'eth1', mac: '52:54:00:a7:ff:01', addresses: ['10.41.0.2/24'], vlan: null }],
    });
  }, 60_000);
  afterAll(() => h?.stop());

  it('records a batch as discoveries with source arp, the interface and the rack that saw them', async () => {
    await send([sighting(), sighting({ ip: '10.41.0.51', mac: '52:54:00:a7:00:02', count: 1 })]);
    const found = await pollUntil(discoveries, (d) => d.length === 2, { what: 'two discoveries' });
    expect(found.find((d) => d.mac_address === MAC)).toMatchObject({
      ip: '10.41.0.50',
      first_seen: '2026-12-04T10:00:00.000Z',
      last_seen: '2026-12-04T10:05:00.000Z',
      observer: { system_id: 'rack-arp', interface_name: 'eth1' },
    });
    expect((await rows()).map((r) => [r.ip, r.count, r.source])).toEqual([
      ['10.41.0.50', 3, 'arp'],
      ['10.41.0.51', 1, 'arp'],
    ]);
  });

  it('adds later batches to the counts, keeps the earliest first and latest last sighting, and applies a redelivered event once', async () => {
    const eventId = randomUUID();
    const later = sighting({ count: 2, firstSeen: '2026-12-04T11:00:00.000Z', lastSeen: '2026-12-04T11:01:00.000Z' });
    await send([later], 'rack-arp', eventId);
    await send([later], 'rack-arp', eventId);
    const row = await pollUntil(async () => (await rows()).find((r) => r.ip === '10.41.0.50')!, (r) => r.count !== 3, { what: 'the count to grow' });
    await new Promise((r) => setTimeout(r, 300));
    const settled = (await rows()).find((r) => r.ip === '10.41.0.50')!;
    expect(settled.count).toBe(5);
    expect(row.first_seen.toISOString()).toBe('2026-12-04T10:00:00.000Z');
    expect(settled.last_seen.toISOString()).toBe('2026-12-04T11:01:00.000Z');
  });

  it('counts and drops sightings on interfaces the rack never reported, and batches of unknown racks', async () => {
    const consumer = h.app.get(RackEventsConsumer);
    const before = { ...consumer.neighbourDrops };
    await send([sighting({ iface: 'eth7', ip: '10.41.0.60' }), sighting({ ip: '10.41.0.61', mac: '52:54:00:a7:00:03' })]);
    await pollUntil(rows, (r) => r.some((x) => x.ip === '10.41.0.61'), { what: 'the good sighting' });
    expect((await rows()).some((r) => r.ip === '10.41.0.60')).toBe(false);
    expect(consumer.neighbourDrops.unknownInterface).toBe(before.unknownInterface + 1);

    await send([sighting({ ip: '10.41.0.62' })], 'rack-ghost');
    await pollUntil(async () => consumer.neighbourDrops.unknownRack, (n) => n === before.unknownRack + 1, { what: 'the unknown rack batch to be dropped' });
    expect((await rows()).some((r) => r.ip === '10.41.0.62')).toBe(false);
  });

  it('keeps the host name a DHCP lease gave when ARP sees the host later', async () => {
    const vlanId = ((await h.call(admin, 'GET', `${API}/rackcontrollers/rack-arp/`)).json() as { interface_set: { vlan: { id: number } }[] }).interface_set[0].vlan.id;
    expect((await h.call(admin, 'POST', `${API}/ipranges/`, { type: 'dynamic', start_ip: '10.41.0.100', end_ip: '10.41.0.199' })).status).toBe(200);
    expect((await h.call(admin, 'PUT', `${API}/vlans/${vlanId}/`, { dhcp_on: 'true', primary_rack: 'rack-arp' })).status).toBe(200);
    const mac = '52:54:00:a7:00:09';
    await h.bus.publishDurable(LeaseEvents, ['rack-arp'], {
      eventId: randomUUID(),
      rackId: 'rack-arp',
      at: new Date().toISOString(),
      action: 'commit',
      mac,
      ip: '10.41.0.150',
      // No interface named: a separate observation from the ARP one, which must not hide its host name.
      hostname: 'leased-host',
    });
    await pollUntil(discoveries, (d) => d.some((x) => x.mac_address === mac), { what: 'the leased host' });
    const now = new Date(Date.now() + 1000).toISOString();
    await send([sighting({ ip: '10.41.0.150', mac, count: 1, firstSeen: now, lastSeen: now })]);
    await pollUntil(rows, (r) => r.some((x) => x.ip === '10.41.0.150' && x.source === 'arp'), { what: 'the ARP sighting' });
    const d = (await discoveries()).find((x) => x.mac_address === mac) as Discovery & { hostname: string | null };
    expect(d).toMatchObject({ ip: '10.41.0.150', hostname: 'leased-host', last_seen: now });
  });

  it('refuses malformed batches at the contract', async () => {
    await expect(send([sighting({ mac: 'nonsense' })])).rejects.toThrow();
    await expect(send([])).rejects.toThrow();
  });
});
