import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
const MACHINES = 24;

/** Many clients allocating at once against the real database: each gets a machine or a 409, never a 500. */
describe('simultaneous allocations', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  const users: ApiKey[] = [];

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
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

  it('takes the cheapest machine with every wanted tag and none of the unwanted, and meets a storage constraint past the first page of cheaper candidates', async () => {
    for (const { system_id } of (await h.ds.query('SELECT system_id FROM machines WHERE owner_id IS NOT NULL')) as { system_id: string }[]) {
      expect((await h.call(admin, 'POST', `${API}/machines/${system_id}/?op=release`)).status).toBe(200);
    }
    const ids = (await h.ds.query('SELECT id, system_id FROM machines ORDER BY id')) as { id: number; system_id: string }[];
    expect(ids).toHaveLength(MACHINES);
    // Machine k costs k + 1 (cpu_count, no memory): allocation prefers the lower k.
    await h.ds.query('UPDATE machines SET cpu_count = id - $1 + 1, memory = 0', [ids[0].id]);
    await h.ds.query(`INSERT INTO tags (name) VALUES ('fast'), ('gpu'), ('old')`);
    const tag = (name: string, ks: number[]) =>
      h.ds.query('INSERT INTO machine_tags (machine_id, tag_id) SELECT m, (SELECT id FROM tags WHERE name = $1) FROM unnest($2::int[]) m', [name, ks.map((k) => ids[k].id)]);
    await tag('fast', [3, 5, 7, 9]);
    await tag('gpu', [5, 7, 9]);
    await tag('old', [5]);
    const allocate = (p: Record<string, string>) => h.call(users[0], 'POST', `${API}/machines/?op=allocate`, p);
    const giveBack = async (sid: string) => expect((await h.call(users[0], 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);

    const tagged = await allocate({ tags: 'fast,gpu', not_tags: 'old' });
    expect(tagged.status).toBe(200);
    expect((tagged.json() as { system_id: string }).system_id).toBe(ids[7].system_id);
    await giveBack(ids[7].system_id);
    expect((await allocate({ tags: 'fast,gpu,nosuch' })).status).toBe(409);

    // Only the most expensive machine has a disk big enough: the 23 cheaper candidates come first.
    await h.ds.query(
      `INSERT INTO block_devices (machine_id, name, size, model, serial, tags)
       SELECT id, 'sda', CASE WHEN id = $1 THEN 500000000000 ELSE 10000000000 END, 'DISK', 'S' || id, ARRAY['ssd'] FROM machines`,
      [ids[MACHINES - 1].id],
    );
    const stored = await allocate({ storage: 'root:100(ssd)' });
    expect(stored.status).toBe(200);
    expect((stored.json() as { system_id: string }).system_id).toBe(ids[MACHINES - 1].system_id);
    expect((await allocate({ storage: 'root:100(ssd)' })).status).toBe(409);
    const [{ n }] = (await h.ds.query('SELECT count(*)::int AS n FROM machines WHERE owner_id IS NOT NULL')) as { n: number }[];
    expect(n).toBe(1);
  });
});
