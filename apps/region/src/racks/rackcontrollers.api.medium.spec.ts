import { connect, NatsConnection, nkeyAuthenticator } from 'nats';
import { generateBoxKeyPair, MessageVerifier, RACK_ENROLLMENT_PATH, rackInboxPrefix, RegisterRack } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { newNkey, pollUntil } from '@kiln/testing';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { regionSigner } from '../nats/nats.module';

const API = '/MAAS/api/2.0';

/**
 * The administrators' side of rack trust through the REST API: one-time enrollment tokens
 * (POST rackcontrollers/?op=create_enrollment_token) and deleting a rack (DELETE
 * rackcontrollers/<id>/), which revokes it: the region's NATS server (auth on) drops its connection.
 */
describe('rackcontrollers/ enrollment tokens and deletion, against a NATS server with auth on', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let user: ApiKey;
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    user = await h.createUser('user', false);
  }, 60_000);
  afterAll(async () => {
    for (const nc of open) if (!nc.isClosed()) await nc.close();
    await h?.stop();
  });

  const tokenOp = (key: ApiKey | null, body: Record<string, string> = {}) => h.call(key, 'POST', `${API}/rackcontrollers/?op=create_enrollment_token`, body);
  const enroll = (body: unknown) =>
    fetch(`${h.baseUrl}${RACK_ENROLLMENT_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const asRack = async (rackId: string, seed: Uint8Array) => {
    const nc = await connect({ servers: h.config.nats.url, authenticator: nkeyAuthenticator(seed), inboxPrefix: rackInboxPrefix(h.config.nats.prefix, rackId), reconnect: false });
    open.push(nc);
    return nc;
  };

  it('issues one-time enrollment tokens to administrators only, with their expiry', async () => {
    expect((await tokenOp(null)).status).toBe(401);
    const refused = await tokenOp(user);
    expect(refused.status).toBe(403);
    expect(await h.ds.query(`SELECT 1 FROM rack_enrollment_tokens`)).toHaveLength(0);

    const r = await tokenOp(admin);
    expect(r.status).toBe(200);
    const body = r.json() as { token: string; expires: string; enroll_path: string };
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(body.enroll_path).toBe(RACK_ENROLLMENT_PATH);
    const ttl = Date.parse(body.expires) - Date.now();
    expect(ttl).toBeGreaterThan(23.9 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(24 * 3600_000);
    const [{ token_hash }] = await h.ds.query(`SELECT token_hash FROM rack_enrollment_tokens`);
    expect(token_hash).not.toContain(body.token);

    const short = (await tokenOp(admin, { ttl_hours: '2' })).json() as { expires: string };
    expect(Date.parse(short.expires) - Date.now()).toBeLessThanOrEqual(2 * 3600_000);
    for (const ttl_hours of ['0', '721', 'x', '1e3', '-1']) {
      const bad = await tokenOp(admin, { ttl_hours });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('ttl_hours');
    }
    // Listed in describe/ with the other rackcontrollers/ operations.
    const describe = (await h.call(admin, 'GET', `${API}/describe/`)).text;
    expect(describe).toContain('create_enrollment_token');
  });

  it('a rack enrolled with a REST-issued token is cut off the bus at once when an administrator deletes it, and stays out', async () => {
    const { token } = (await tokenOp(admin)).json() as { token: string };
    const nkey = newNkey();
    const box = generateBoxKeyPair();
    const e = await enroll({ token, rackId: 'rack-del', hostname: 'rack-del', nkey: nkey.publicKey, boxPublicKey: box.publicKey });
    expect(e.status).toBe(200);
    const nc = await pollUntil(() => asRack('rack-del', nkey.seed).catch(() => null), (c) => c !== null, { timeoutMs: 10_000, what: 'the enrolled rack to be let in' });
    const bus = new ContractBus(nc!, { prefix: h.config.nats.prefix, timeoutMs: 3000, verifier: new MessageVerifier([regionSigner(h.config).publicKey]) });
    await bus.request(RegisterRack, ['rack-del'], { rackId: 'rack-del', hostname: 'rack-del', interfaces: [], boxPublicKey: box.publicKey });
    expect((await h.call(admin, 'GET', `${API}/rackcontrollers/rack-del/`)).status).toBe(200);

    // Not for a non-administrator: the rack stays, connected.
    expect((await h.call(user, 'DELETE', `${API}/rackcontrollers/rack-del/`)).status).toBe(403);
    expect((await h.call(null, 'DELETE', `${API}/rackcontrollers/rack-del/`)).status).toBe(401);
    await nc!.flush();
    expect(nc!.isClosed()).toBe(false);

    const closed = nc!.closed().then(() => 'closed');
    const del = await h.call(admin, 'DELETE', `${API}/rackcontrollers/rack-del/`);
    expect(del.status).toBe(204);
    let timer: NodeJS.Timeout | undefined;
    const still = new Promise((r) => (timer = setTimeout(() => r('still open'), 5000)));
    await expect(Promise.race([closed, still])).resolves.toBe('closed');
    clearTimeout(timer);
    await expect(asRack('rack-del', nkey.seed)).rejects.toThrow(/Authorization/i);
    expect((await h.call(admin, 'GET', `${API}/rackcontrollers/rack-del/`)).status).toBe(404);
    expect((await h.call(admin, 'DELETE', `${API}/rackcontrollers/rack-del/`)).status).toBe(404);
    // The spent token does not bring it back.
    expect((await enroll({ token, rackId: 'rack-del', hostname: 'rack-del', nkey: nkey.publicKey, boxPublicKey: box.publicKey })).status).toBe(403);
  });

  it('refuses to delete a rack that serves DHCP on a VLAN, changing nothing', async () => {
    const rack = await h.provisionRack({ rackId: 'rack-dhcp', hostname: 'rack-dhcp' });
    await h.bus.request(RegisterRack, ['rack-dhcp'], { rackId: 'rack-dhcp', hostname: 'rack-dhcp', interfaces: [], boxPublicKey: rack.box.publicKey });
    const fabric = (await h.call(admin, 'POST', `${API}/fabrics/`, {})).json() as { id: number };
    const put = await h.call(admin, 'PUT', `${API}/fabrics/${fabric.id}/vlans/untagged/`, { primary_rack: 'rack-dhcp' });
    expect(put.status).toBe(200);
    const nc = await h.connectAsRack(rack);
    const r = await h.call(admin, 'DELETE', `${API}/rackcontrollers/rack-dhcp/`);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/primary or secondary rack controller of VLAN/);
    await nc.flush();
    expect(nc.isClosed()).toBe(false);
    const [row] = await h.ds.query(`SELECT nats_nkey FROM rack_controllers WHERE system_id = 'rack-dhcp'`);
    expect(row.nats_nkey).toBe(rack.nkey.publicKey);
  });
});
