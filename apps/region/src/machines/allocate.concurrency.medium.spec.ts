import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MACHINES = 24;

/** Many clients allocating at once against the real database: each gets a machine or a 409, never a 500. */
describe('simultaneous allocations', () => {
  let h: RegionHarness;
  const users: ApiKey[] = [];

  beforeAll(async () => {
    h = await RegionHarness.start();
    const admin = await h.createUser('admin', true);
    for (let i = 0; i < 6; i++) users.push(await h.createUser(`user${i}`, false));
    for (let i = 0; i < MACHINES; i++) {
      const mac = `52:54:00:e2:00:${i.toString(16).padStart(2, '0')}`;
      const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64/generic', mac_addresses: mac, power_type: 'manual', deployed: 'true' });
      expect(created.status).toBe(200);
      const released = await h.call(admin, 'POST', `${API}/machines/${(created.json() as { system_id: string }).system_id}/?op=release`);
      expect(released.status).toBe(200);
    }
  });
  afterAll(() => h.stop());

  it('hands out every machine once, to more callers than machines, in rounds', async () => {
    const owners = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      const replies = await Promise.all(
        Array.from({ length: MACHINES + 6 }, (_, i) => h.call(users[i % users.length], 'POST', `${API}/machines/?op=allocate`, { agent_name: `a${i}` })),
      );
      const statuses = replies.map((r) => r.status);
      expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
      for (const r of replies.filter((x) => x.status === 200)) {
        const m = r.json() as { system_id: string; owner: string };
        expect(owners.has(m.system_id)).toBe(false);
        owners.set(m.system_id, m.owner);
      }
      if (round === 0) {
        expect(owners.size).toBe(MACHINES);
        // Give every machine back, all at once, for the second round.
        const back = await Promise.all(
          [...owners].map(([id, owner]) => h.call(users.find((u) => u.username === owner)!, 'POST', `${API}/machines/${id}/?op=release`)),
        );
        expect(back.map((r) => r.status)).toEqual(Array(MACHINES).fill(200));
        owners.clear();
      }
    }
    expect(owners.size).toBe(MACHINES);
  });
});
