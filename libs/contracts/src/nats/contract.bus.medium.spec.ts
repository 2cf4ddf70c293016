import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, NatsConnection, nkeyAuthenticator } from 'nats';
// Test-only: the shared private nats-server harness (the contracts themselves stay dependency-free).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { newNkey, PrivateNatsServer, startPrivateNatsServer } from '@kiln/testing';
import { renderNatsServerConfig } from '../bus-permissions';
import { z } from 'zod';
import { ContractError, push, rpc, stream } from '../contract';
import { LeaseEvents } from '../rack-events.contract';
import { BusContext, ContractBus, InFlight } from './contract.bus';

const Echo = rpc({
  name: 'Echo',
  answeredBy: 'region',
  since: 1,
  subject: () => 'region.test.echo',
  request: z.object({ text: z.string().min(1), mac: z.string().transform((s) => s.toLowerCase()) }),
  reply: z.object({ text: z.string(), mac: z.string() }),
  errors: ['NOPE'] as const,
});

const Note = push({
  name: 'Note',
  answeredBy: 'region',
  since: 1,
  subject: () => 'region.test.note',
  message: z.object({ text: z.string() }),
});

/** A unit-of-work context as an app keeps one: the correlation id in AsyncLocalStorage. */
function alsContext(): { als: AsyncLocalStorage<string>; context: BusContext } {
  const als = new AsyncLocalStorage<string>();
  return { als, context: { correlationId: () => als.getStore(), run: (ctx, fn) => als.run(ctx.correlationId, fn) } };
}

async function waitFor(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ContractBus against the real NATS server (auth on)', () => {
  let server: PrivateNatsServer;
  let nc: NatsConnection;
  let bus: ContractBus;

  beforeAll(async () => {
    const region = newNkey();
    const prefix = `t${randomBytes(4).toString('hex')}.`;
    server = await startPrivateNatsServer((s) =>
      renderNatsServerConfig({ listen: s.listen, jetstreamDir: s.storeDir, pidFile: s.pidFile, prefix, regionNkeys: [region.publicKey], racks: [] }),
    );
    nc = await connect({ servers: server.url, authenticator: nkeyAuthenticator(region.seed) });
    bus = new ContractBus(nc, { prefix, timeoutMs: 1000 });
  });
  afterAll(async () => {
    await bus?.deleteStream(LeaseEvents);
    await nc?.drain();
    await server?.stop();
  });

  it('answers a request with the validated, transformed data', async () => {
    const sub = bus.serve(Echo, [], (req) => ({ text: req.text.toUpperCase(), mac: req.mac }));
    try {
      await expect(bus.request(Echo, [], { text: 'hi', mac: 'AA' })).resolves.toEqual({ text: 'HI', mac: 'aa' });
    } finally {
      sub.unsubscribe();
      await nc.flush();
    }
  });

  it('refuses invalid requests on receipt with BAD_REQUEST, and carries the contract\'s codes', async () => {
    const seen: unknown[] = [];
    const sub = bus.serve(Echo, [], (req) => {
      seen.push(req);
      if (req.text === 'no') throw new ContractError('NOPE', 'not today');
      return { text: req.text, mac: req.mac };
    });
    try {
      // A peer that skips client-side validation: raw bytes on the wire.
      const raw = await nc.request(bus.subject('region.test.echo'), Buffer.from(JSON.stringify({ text: '' })), { timeout: 1000 });
      expect(JSON.parse(Buffer.from(raw.data).toString())).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      const garbage = await nc.request(bus.subject('region.test.echo'), Buffer.from('{not json'), { timeout: 1000 });
      expect(JSON.parse(Buffer.from(garbage.data).toString())).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(seen).toHaveLength(0);
      await expect(bus.request(Echo, [], { text: 'no', mac: 'x' })).rejects.toMatchObject({ code: 'NOPE', message: 'not today' });
    } finally {
      sub.unsubscribe();
      await nc.flush();
    }
  });

  it('answers INTERNAL when the handler breaks its own reply schema, and BAD_REPLY when the answer is malformed', async () => {
    const sub = bus.serve(Echo, [], () => ({ text: 42 }) as never);
    try {
      await expect(bus.request(Echo, [], { text: 'a', mac: 'b' })).rejects.toMatchObject({ code: 'INTERNAL' });
    } finally {
      sub.unsubscribe();
      await nc.flush();
    }
    const rogue = nc.subscribe(bus.subject('region.test.echo'), { callback: (_e, m) => m.respond(Buffer.from('{"ok":true,"data":{}}')) });
    try {
      await expect(bus.request(Echo, [], { text: 'a', mac: 'b' })).rejects.toMatchObject({ code: 'BAD_REPLY' });
    } finally {
      rogue.unsubscribe();
      await nc.flush();
    }
  });

  it('fails fast with UNAVAILABLE when nobody answers, and with TIMEOUT when the answer is late', async () => {
    const t0 = Date.now();
    await expect(bus.request(Echo, [], { text: 'a', mac: 'b' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(900);
    const slow = nc.subscribe(bus.subject('region.test.echo'), { callback: () => undefined });
    try {
      await expect(bus.request(Echo, [], { text: 'a', mac: 'b' }, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      slow.unsubscribe();
      await nc.flush();
    }
  });

  it("carries the caller's correlation id in the headers and runs each handler in a unit of work bound to it", async () => {
    const caller = alsContext();
    const answerer = alsContext();
    const callerBus = new ContractBus(nc, { prefix: bus.prefix, timeoutMs: 1000, context: caller.context });
    const answererBus = new ContractBus(nc, { prefix: bus.prefix, timeoutMs: 1000, context: answerer.context });
    const seen: { ctx: string; store: string | undefined }[] = [];
    const notes: (string | undefined)[] = [];
    const subs = [
      answererBus.serve(Echo, [], async (req, ctx) => {
        await new Promise((r) => setTimeout(r, 5)); // the context survives awaits
        seen.push({ ctx: ctx.correlationId, store: answerer.als.getStore() });
        return { text: req.text, mac: req.mac };
      }),
      answererBus.onPush(Note, [], () => {
        notes.push(answerer.als.getStore());
      }),
    ];
    try {
      await caller.als.run('job-42', () => callerBus.request(Echo, [], { text: 'a', mac: 'b' }));
      await caller.als.run('job-42', () => callerBus.request(Echo, [], { text: 'a', mac: 'b' }, { correlationId: 'given' }));
      await callerBus.request(Echo, [], { text: 'a', mac: 'b' });
      caller.als.run('req-7', () => callerBus.push(Note, [], { text: 'n' }));
      await waitFor(() => notes.length === 1);
      expect(seen[0]).toEqual({ ctx: 'job-42', store: 'job-42' });
      expect(seen[1]).toEqual({ ctx: 'given', store: 'given' });
      // Outside any unit of work the call still carries an id, a fresh one.
      expect(seen[2].ctx).toMatch(/^[0-9a-f-]{36}$/);
      expect(seen[2].store).toBe(seen[2].ctx);
      expect(notes).toEqual(['req-7']);
      // The handler's context did not leak into the caller's.
      expect(caller.als.getStore()).toBeUndefined();
    } finally {
      for (const s of subs) s.unsubscribe();
      await nc.flush();
    }
  });

  it('lets a server stop taking requests and wait for those in flight to be answered', async () => {
    const inFlight = new InFlight();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const sub = bus.serve(
      Echo,
      [],
      async (req) => {
        started++;
        await gate;
        return { text: req.text, mac: req.mac };
      },
      { inFlight },
    );
    const answer = bus.request(Echo, [], { text: 'slow', mac: 'b' });
    await waitFor(() => started === 1);
    expect(inFlight.size).toBe(1);
    sub.unsubscribe();
    let settled = false;
    const stopped = inFlight.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    release();
    await stopped;
    expect(inFlight.size).toBe(0);
    // The request in flight was answered after the unsubscribe.
    await expect(answer).resolves.toEqual({ text: 'slow', mac: 'b' });
    await nc.flush();
  });

  it('publishes durable events with an ack, drops a duplicate id, and redelivers what a handler failed', async () => {
    await bus.ensureStream(LeaseEvents);
    await bus.ensureStream(LeaseEvents); // idempotent
    const event = (ip: string) => ({
      eventId: randomUUID(),
      rackId: 'rack-1',
      at: new Date().toISOString(),
      action: 'commit' as const,
      mac: '52:54:00:00:00:01',
      ip,
    });
    const a = event('10.0.0.5');
    const first = await bus.publishDurable(LeaseEvents, ['rack-1'], a);
    const again = await bus.publishDurable(LeaseEvents, ['rack-1'], a);
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    await bus.publishDurable(LeaseEvents, ['rack-1'], event('10.0.0.6'));

    const deliveries: { ip: string; count: number }[] = [];
    let failOnce = true;
    const c = await bus.consumeDurable(LeaseEvents, { durable: 'test-consumer', retryDelayMs: 50 }, async (m, meta) => {
      deliveries.push({ ip: m.ip, count: meta.deliveryCount });
      if (m.ip === '10.0.0.6' && failOnce) {
        failOnce = false;
        throw new Error('transient');
      }
    });
    try {
      await waitFor(() => deliveries.filter((d) => d.ip === '10.0.0.6').length === 2);
      expect(deliveries.filter((d) => d.ip === '10.0.0.5')).toEqual([{ ip: '10.0.0.5', count: 1 }]);
      expect(deliveries.filter((d) => d.ip === '10.0.0.6').map((d) => d.count)).toEqual([1, 2]);
    } finally {
      await c.stop();
    }
    // A durable consumer resumes where it stopped: only the new event arrives.
    await bus.publishDurable(LeaseEvents, ['rack-1'], event('10.0.0.7'));
    const later: string[] = [];
    const c2 = await bus.consumeDurable(LeaseEvents, { durable: 'test-consumer' }, async (m) => void later.push(m.ip));
    try {
      await waitFor(() => later.length >= 1);
      expect(later).toEqual(['10.0.0.7']);
    } finally {
      await c2.stop();
    }
  });

  it("delivers a durable event in a unit of work bound to its publisher's correlation id", async () => {
    await bus.ensureStream(LeaseEvents);
    const publisher = alsContext();
    const consumer = alsContext();
    const pubBus = new ContractBus(nc, { prefix: bus.prefix, context: publisher.context });
    const subBus = new ContractBus(nc, { prefix: bus.prefix, context: consumer.context });
    const lease = { rackId: 'rack-3', at: new Date().toISOString(), action: 'commit' as const, mac: '52:54:00:00:00:03' };
    await publisher.als.run('req-lease', () => pubBus.publishDurable(LeaseEvents, ['rack-3'], { ...lease, eventId: randomUUID(), ip: '10.0.0.31' }));
    await pubBus.publishDurable(LeaseEvents, ['rack-3'], { ...lease, eventId: randomUUID(), ip: '10.0.0.32' }, { correlationId: 'given' });
    const got: { ip: string; meta: string; store: string | undefined }[] = [];
    const c = await subBus.consumeDurable(LeaseEvents, { durable: 'test-correlation', filterSubject: LeaseEvents.subject('rack-3') }, async (m, meta) => {
      got.push({ ip: m.ip, meta: meta.correlationId, store: consumer.als.getStore() });
    });
    try {
      await waitFor(() => got.length === 2);
      expect(got).toEqual([
        { ip: '10.0.0.31', meta: 'req-lease', store: 'req-lease' },
        { ip: '10.0.0.32', meta: 'given', store: 'given' },
      ]);
    } finally {
      await c.stop();
    }
  });

  it('terminates messages that fail validation instead of redelivering them forever', async () => {
    await bus.ensureStream(LeaseEvents);
    const Broken = stream({ ...LeaseEvents, message: z.object({ eventId: z.string(), junk: z.string() }), id: (m) => m.eventId });
    await bus.publishDurable(Broken, ['rack-2'], { eventId: randomUUID(), junk: 'x' });
    await bus.publishDurable(LeaseEvents, ['rack-2'], {
      eventId: randomUUID(),
      rackId: 'rack-2',
      at: new Date().toISOString(),
      action: 'release',
      mac: '52:54:00:00:00:02',
      ip: '10.0.0.9',
    });
    const got: string[] = [];
    const c = await bus.consumeDurable(LeaseEvents, { durable: 'test-validate', filterSubject: LeaseEvents.subject('rack-2') }, async (m) => {
      got.push(m.ip);
    });
    try {
      await waitFor(() => got.length === 1);
      expect(got).toEqual(['10.0.0.9']);
      // Terminated, not nak'd: nothing stays pending for redelivery.
      const jsm = await nc.jetstreamManager();
      let pending = -1;
      const end = Date.now() + 3000;
      while (pending !== 0 && Date.now() < end) {
        pending = (await jsm.consumers.info(bus.streamName(LeaseEvents), 'test-validate')).num_ack_pending;
      }
      expect(pending).toBe(0);
    } finally {
      await c.stop();
    }
  });
});
