import { connect, NatsConnection, nkeyAuthenticator, StringCodec, Subscription } from 'nats';
import { rackInboxPrefix, renderNatsServerConfig } from '@kiln/contracts';
import { newNkey, PrivateNatsServer, startPrivateNatsServer, TestNkey } from '@kiln/testing';

/**
 * The NATS server, configured the way Kiln renders its config, is what stops strangers and racks
 * from acting outside their place: these tests run against a private nats-server with that config.
 */
const sc = StringCodec();
const PREFIX = 'site1.';
const region = newNkey();
const rackA = newNkey();
const rackB = newNkey();

async function quiet(ms = 300) {
  await new Promise((r) => setTimeout(r, ms));
}

describe('NATS server permissions rendered by Kiln', () => {
  let server: PrivateNatsServer;
  const open: NatsConnection[] = [];
  let settings: { listen: string; storeDir: string; pidFile: string };
  const config = (racks: { rackId: string; nkey: string }[]) =>
    renderNatsServerConfig({
      listen: settings.listen,
      jetstreamDir: settings.storeDir,
      pidFile: settings.pidFile,
      prefix: PREFIX,
      regionNkeys: [region.publicKey],
      racks,
    });
  const bothRacks = () => [
    { rackId: 'rack-a', nkey: rackA.publicKey },
    { rackId: 'rack-b', nkey: rackB.publicKey },
  ];

  async function as(who: TestNkey, opts: { inboxPrefix?: string; reconnect?: boolean } = {}): Promise<NatsConnection> {
    const nc = await connect({
      servers: server.url,
      authenticator: nkeyAuthenticator(who.seed),
      inboxPrefix: opts.inboxPrefix,
      reconnect: opts.reconnect ?? false,
    });
    open.push(nc);
    return nc;
  }

  /** Messages a subscription received, collected as text. */
  function collect(nc: NatsConnection, subject: string): { got: string[]; sub: Subscription } {
    const got: string[] = [];
    const sub = nc.subscribe(subject, { callback: (err, m) => (err ? got.push(`error:${err.message}`) : got.push(`${m.subject} ${sc.decode(m.data)}`)) });
    return { got, sub };
  }

  beforeAll(async () => {
    server = await startPrivateNatsServer((s) => {
      settings = s;
      return renderNatsServerConfig({
        listen: s.listen,
        jetstreamDir: s.storeDir,
        pidFile: s.pidFile,
        prefix: PREFIX,
        regionNkeys: [region.publicKey],
        racks: [
          { rackId: 'rack-a', nkey: rackA.publicKey },
          { rackId: 'rack-b', nkey: rackB.publicKey },
        ],
      });
    });
  });
  afterEach(async () => {
    for (const nc of open.splice(0)) if (!nc.isClosed()) await nc.close();
    await server.reload(config(bothRacks()));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a connection with no credentials, and one with an nkey it does not know', async () => {
    await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/Authorization/i);
    await expect(as(newNkey())).rejects.toThrow(/Authorization/i);
  });

  it('lets a rack receive its own requests and answer them, and call the region under its own id with its own inbox', async () => {
    const reg = await as(region);
    const a = await as(rackA, { inboxPrefix: rackInboxPrefix(PREFIX, 'rack-a') });
    a.subscribe(`${PREFIX}rack.rack-a.power.query`, { callback: (_e, m) => m.respond(sc.encode('on')) });
    reg.subscribe(`${PREFIX}region.rack.*.register`, { callback: (_e, m) => m.respond(sc.encode(`hello ${m.subject.split('.')[3]}`)) });
    await a.flush();
    await reg.flush();
    expect(sc.decode((await reg.request(`${PREFIX}rack.rack-a.power.query`, sc.encode('{}'), { timeout: 2000 })).data)).toBe('on');
    expect(sc.decode((await a.request(`${PREFIX}region.rack.rack-a.register`, sc.encode('{}'), { timeout: 2000 })).data)).toBe('hello rack-a');
  });

  it("keeps another rack from reading a rack's requests (BMC secrets) even by subscribing to '>'", async () => {
    const reg = await as(region);
    const b = await as(rackB, { inboxPrefix: rackInboxPrefix(PREFIX, 'rack-b') });
    const everything = collect(b, '>');
    const aRequests = collect(b, `${PREFIX}rack.rack-a.>`);
    const own = collect(b, `${PREFIX}rack.rack-b.>`);
    await b.flush();
    await quiet(100);
    reg.publish(`${PREFIX}rack.rack-a.power.on`, sc.encode('{"power_pass":"secret"}'));
    reg.publish(`${PREFIX}rack.rack-b.power.on`, sc.encode('{"mine":true}'));
    await reg.flush();
    await quiet();
    expect([...everything.got, ...aRequests.got].some((m) => m.includes('secret'))).toBe(false);
    // Control: the same connection does get what is addressed to it.
    expect(own.got).toEqual([`${PREFIX}rack.rack-b.power.on {"mine":true}`]);
  });

  it("keeps a rack from answering another rack's power requests (the region hears only the real rack)", async () => {
    const reg = await as(region);
    const b = await as(rackB);
    const errors: string[] = [];
    b.subscribe(`${PREFIX}rack.rack-a.power.query`, {
      callback: (e, m) => (e ? errors.push(e.message) : m.respond(sc.encode('forged'))),
    });
    await b.flush();
    await quiet(100);
    await expect(reg.request(`${PREFIX}rack.rack-a.power.query`, sc.encode('{}'), { timeout: 500 })).rejects.toThrow();
    expect(errors.join()).toMatch(/permissions violation/i);
  });

  it("keeps a rack from answering another rack's boot-config requests before the region does", async () => {
    const reg = await as(region);
    reg.subscribe(`${PREFIX}region.rack.*.boot.config`, { callback: (_e, m) => m && m.respond(sc.encode('region')) });
    await reg.flush();
    const b = await as(rackB);
    const errors: string[] = [];
    b.subscribe(`${PREFIX}region.rack.rack-a.boot.config`, {
      callback: (e, m) => (e ? errors.push(e.message) : m.respond(sc.encode('cloud-config-url=http://elsewhere/ init=/bin/sh'))),
    });
    await b.flush();
    await quiet(100);
    const a = await as(rackA, { inboxPrefix: rackInboxPrefix(PREFIX, 'rack-a') });
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(sc.decode((await a.request(`${PREFIX}region.rack.rack-a.boot.config`, sc.encode('{}'), { timeout: 2000 })).data));
    expect(answers).toEqual(Array(5).fill('region'));
    expect(errors.join()).toMatch(/permissions violation/i);
  });

  it("keeps a rack from publishing under another rack's id (registration, heartbeat, interfaces, lease and boot events)", async () => {
    const reg = await as(region);
    const seen = collect(reg, `${PREFIX}region.>`);
    await reg.flush();
    const b = await as(rackB);
    for (const s of ['region.rack.rack-a.register', 'region.rack.rack-a.heartbeat', 'region.rack.rack-a.interfaces', 'region.events.lease.rack-a', 'region.events.boot.rack-a', 'region.boot.config', 'region.rack.register']) {
      b.publish(`${PREFIX}${s}`, sc.encode('forged'));
    }
    b.publish(`${PREFIX}region.events.lease.rack-b`, sc.encode('own'));
    b.publish(`${PREFIX}region.rack.rack-b.interfaces`, sc.encode('own'));
    await b.flush();
    await quiet();
    expect(seen.got).toEqual([`${PREFIX}region.events.lease.rack-b own`, `${PREFIX}region.rack.rack-b.interfaces own`]);
  });

  it('keeps a rack from pushing to another rack (forged DHCP updates) and from answering region requests it did not receive', async () => {
    const a = await as(rackA);
    const aGot = collect(a, `${PREFIX}rack.rack-a.>`);
    await a.flush();
    const b = await as(rackB);
    b.publish(`${PREFIX}rack.rack-a.dhcp.update`, sc.encode('{"router":"10.6.6.6"}'));
    b.publish(`${PREFIX}_INBOX.anything`, sc.encode('forged reply'));
    await b.flush();
    await quiet();
    expect(aGot.got).toEqual([]);
  });

  it("keeps a rack out of JetStream's API: it cannot purge or read the region's streams", async () => {
    const reg = await as(region);
    const jsm = await reg.jetstreamManager();
    await jsm.streams.add({ name: 'TRUST_EVENTS', subjects: [`${PREFIX}region.events.>`] });
    const js = reg.jetstream();
    await js.publish(`${PREFIX}region.events.lease.rack-a`, sc.encode('lease'));
    const b = await as(rackB, { inboxPrefix: rackInboxPrefix(PREFIX, 'rack-b') });
    await expect(b.request('$JS.API.STREAM.PURGE.TRUST_EVENTS', sc.encode(''), { timeout: 500 })).rejects.toThrow();
    await expect(b.request('$JS.API.STREAM.MSG.GET.TRUST_EVENTS', sc.encode('{"seq":1}'), { timeout: 500 })).rejects.toThrow();
    // A rack still publishes its own events into the stream and gets the acknowledgement.
    await expect(b.jetstream().publish(`${PREFIX}region.events.lease.rack-b`, sc.encode('own'))).resolves.toMatchObject({ seq: 2 });
    expect((await jsm.streams.info('TRUST_EVENTS')).state.messages).toBe(2);
    await jsm.streams.delete('TRUST_EVENTS');
  });

  it("keeps a rack from reading replies meant for the region or another rack", async () => {
    const reg = await as(region);
    const replies = collect(await as(rackB, { inboxPrefix: rackInboxPrefix(PREFIX, 'rack-b') }), '_INBOX.>');
    const other = collect(await as(rackB), `${rackInboxPrefix(PREFIX, 'rack-a')}.>`);
    await quiet(100);
    reg.publish('_INBOX.region.reply', sc.encode('boot config'));
    reg.publish(`${rackInboxPrefix(PREFIX, 'rack-a')}.x`, sc.encode('boot config'));
    await reg.flush();
    await quiet();
    expect([...replies.got, ...other.got].filter((m) => !m.startsWith('error:'))).toEqual([]);
  });

  it('cuts a revoked rack off at once when the config is reloaded, and refuses it afterwards', async () => {
    const a = await as(rackA);
    const closed = a.closed();
    await server.reload(config([{ rackId: 'rack-b', nkey: rackB.publicKey }]));
    let timer: NodeJS.Timeout | undefined;
    const open5s = new Promise((r) => (timer = setTimeout(() => r('still open'), 5000)));
    await expect(Promise.race([closed.then(() => 'closed'), open5s])).resolves.toBe('closed');
    clearTimeout(timer);
    await expect(as(rackA)).rejects.toThrow(/Authorization/i);
    // The other rack is unaffected.
    const b = await as(rackB);
    await expect(b.flush()).resolves.toBeUndefined();
  });
  /** Each attack from the issue, as a rack's connection would try it. */
  const attacks: [string, (nc: NatsConnection) => Promise<unknown>][] = [
    ['read BMC passwords by subscribing to >', async (nc) => nc.subscribe('>')],
    ["answer its old power requests (rack.rack-a.power.*)", async (nc) => nc.subscribe(`${PREFIX}rack.rack-a.power.*`, { callback: (_e, m) => m?.respond(sc.encode('off')) })],
    ['answer boot-config requests before the region', async (nc) => nc.subscribe(`${PREFIX}region.rack.*.boot.config`, { callback: (_e, m) => m?.respond(sc.encode('init=/bin/sh')) })],
    ['push a forged DHCP update', async (nc) => nc.publish(`${PREFIX}rack.rack-b.dhcp.update`, sc.encode('{"router":"10.6.6.6"}'))],
    ['replay a registration', async (nc) => nc.publish(`${PREFIX}region.rack.rack-a.register`, sc.encode('{"rackId":"rack-a"}'))],
    ['heartbeat to stay "running"', async (nc) => nc.publish(`${PREFIX}region.rack.rack-a.heartbeat`, sc.encode('{"rackId":"rack-a"}'))],
    ['publish a lease event', async (nc) => nc.publish(`${PREFIX}region.events.lease.rack-a`, sc.encode('{"ip":"10.6.6.6"}'))],
    ['publish a boot event', async (nc) => nc.publish(`${PREFIX}region.events.boot.rack-a`, sc.encode('{"step":"tftp-file"}'))],
    ['purge a stream', async (nc) => nc.request('$JS.API.STREAM.PURGE.KILN_EVENTS', sc.encode(''), { timeout: 500 })],
  ];

  it.each(attacks)('a revoked rack cannot %s: the server refuses its connection and nothing reaches the bus', async (_what, attack) => {
    // rack-a revoked: its nkey is no longer in the config.
    await server.reload(config([{ rackId: 'rack-b', nkey: rackB.publicKey }]));
    const reg = await as(region);
    const seen = collect(reg, '>');
    await reg.flush();
    const outcome = await as(rackA, { inboxPrefix: rackInboxPrefix(PREFIX, 'rack-a') }).then(
      async (nc) => {
        await attack(nc);
        await nc.flush();
        return 'connected and tried';
      },
      (e: Error) => e.message,
    );
    expect(outcome).toMatch(/Authorization/i);
    await quiet(100);
    expect(seen.got).toEqual([]);
  });
});
