import { randomBytes } from 'node:crypto';
import { connect, headers as natsHeaders, Msg, NatsConnection, nkeyAuthenticator } from 'nats';
// Test-only: the shared private nats-server harness (the contracts themselves stay dependency-free).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { newNkey, PrivateNatsServer, startPrivateNatsServer } from '@kiln/testing';
import { renderNatsServerConfig } from '../bus-permissions';
import { z } from 'zod';
import { isContractError, push, rpc } from '../contract';
import { MessageSigner, MessageVerifier } from '../crypto/message-signature';
import { ContractBus } from './contract.bus';

const RackOp = rpc({
  name: 'RackOp',
  answeredBy: 'rack',
  since: 1,
  subject: (rackId: string) => `rack.${rackId}.test.op`,
  request: z.object({ n: z.number() }),
  reply: z.object({ n: z.number() }),
});
const RegionOp = rpc({
  name: 'RegionOp',
  answeredBy: 'region',
  since: 1,
  subject: () => 'region.test.op',
  request: z.object({ n: z.number() }),
  reply: z.object({ n: z.number() }),
});
const RackPush = push({
  name: 'RackPush',
  answeredBy: 'rack',
  since: 1,
  subject: (rackId: string) => `rack.${rackId}.test.push`,
  message: z.object({ n: z.number() }),
});

async function waitFor(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ContractBus region signatures, against the real NATS server', () => {
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const signer = MessageSigner.fromSecret(randomBytes(16).toString('hex'));
  let ncRegion: NatsConnection;
  let ncRack: NatsConnection;
  let ncOther: NatsConnection;
  let region: ContractBus;
  let rack: ContractBus;
  let impostor: ContractBus;

  let server: PrivateNatsServer;

  beforeAll(async () => {
    // A NATS server with auth on; the three connections are users with full permissions, so that
    // what stops the impostor here is the signature check alone (the server's per-rack permissions
    // are tested in the region's bus-permissions suite).
    const users = [newNkey(), newNkey(), newNkey()];
    server = await startPrivateNatsServer((s) =>
      renderNatsServerConfig({ listen: s.listen, jetstreamDir: s.storeDir, pidFile: s.pidFile, prefix, regionNkeys: users.map((u) => u.publicKey), racks: [] }),
    );
    [ncRegion, ncRack, ncOther] = await Promise.all(users.map((u) => connect({ servers: server.url, authenticator: nkeyAuthenticator(u.seed) })));
    region = new ContractBus(ncRegion, { prefix, timeoutMs: 1000, signer });
    rack = new ContractBus(ncRack, { prefix, timeoutMs: 1000, verifier: new MessageVerifier([signer.publicKey]) });
    impostor = new ContractBus(ncOther, { prefix, timeoutMs: 1000, signer: MessageSigner.fromSecret('not the region') });
  });
  afterAll(async () => {
    await Promise.all([ncRegion?.drain(), ncRack?.drain(), ncOther?.drain()]);
    await server?.stop();
  });

  it("acts on the region's requests and refuses anyone else's, without calling the handler", async () => {
    const seen: number[] = [];
    const sub = rack.serve(RackOp, ['r1'], (req) => {
      seen.push(req.n);
      return { n: req.n + 1 };
    });
    try {
      await ncRack.flush();
      await expect(region.request(RackOp, ['r1'], { n: 1 })).resolves.toEqual({ n: 2 });
      const unsigned = new ContractBus(ncOther, { prefix, timeoutMs: 1000 });
      await expect(unsigned.request(RackOp, ['r1'], { n: 10 })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      await expect(impostor.request(RackOp, ['r1'], { n: 20 })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(seen).toEqual([1]);
    } finally {
      sub.unsubscribe();
    }
  });

  it('refuses a captured region request replayed on the bus, or moved to another rack', async () => {
    const seen: string[] = [];
    const subs = [
      rack.serve(RackOp, ['r1'], (req, ctx) => {
        seen.push(`${ctx.subject}:${req.n}`);
        return { n: req.n };
      }),
      rack.serve(RackOp, ['r2'], (req, ctx) => {
        seen.push(`${ctx.subject}:${req.n}`);
        return { n: req.n };
      }),
    ];
    // A listener on the bus keeps a copy of what the region sends.
    const captured: Msg[] = [];
    const spy = ncOther.subscribe(`${prefix}rack.r1.test.op`, { callback: (_e, m) => captured.push(m) });
    try {
      await Promise.all([ncRack.flush(), ncOther.flush()]);
      await region.request(RackOp, ['r1'], { n: 7 });
      await waitFor(() => captured.length === 1);
      const copy = captured[0];
      const h = natsHeaders();
      for (const k of copy.headers?.keys() ?? []) h.set(k, copy.headers!.get(k));
      const replay = ncOther.request(copy.subject, copy.data, { headers: h, timeout: 1000 });
      expect(JSON.parse(Buffer.from((await replay).data).toString())).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
      const moved = await ncOther.request(`${prefix}rack.r2.test.op`, copy.data, { headers: h, timeout: 1000 });
      expect(JSON.parse(Buffer.from(moved.data).toString())).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
      expect(seen).toEqual([`${prefix}rack.r1.test.op:7`]);
    } finally {
      spy.unsubscribe();
      for (const s of subs) s.unsubscribe();
    }
  });

  it("accepts the region's replies and refuses a reply from anyone else", async () => {
    const fake = impostor.serve(RegionOp, [], (req) => ({ n: req.n * 100 }));
    try {
      await ncOther.flush();
      const e = await rack.request(RegionOp, [], { n: 1 }).catch((err) => err);
      expect(isContractError(e, 'BAD_REPLY')).toBe(true);
    } finally {
      fake.unsubscribe();
      await ncOther.flush();
    }
    const real = region.serve(RegionOp, [], (req) => ({ n: req.n * 2 }));
    try {
      await ncRegion.flush();
      await expect(rack.request(RegionOp, [], { n: 21 })).resolves.toEqual({ n: 42 });
    } finally {
      real.unsubscribe();
    }
  });

  it("applies the region's pushes and drops unsigned, forged and replayed ones", async () => {
    const got: number[] = [];
    const sub = rack.onPush(RackPush, ['r1'], (m) => {
      got.push(m.n);
    });
    const captured: Msg[] = [];
    const spy = ncOther.subscribe(`${prefix}rack.r1.test.push`, { callback: (_e, m) => captured.push(m) });
    try {
      await Promise.all([ncRack.flush(), ncOther.flush()]);
      new ContractBus(ncOther, { prefix }).push(RackPush, ['r1'], { n: 1 });
      impostor.push(RackPush, ['r1'], { n: 2 });
      region.push(RackPush, ['r1'], { n: 3 });
      await waitFor(() => got.length === 1 && captured.length === 3);
      ncOther.publish(captured[2].subject, captured[2].data, { headers: captured[2].headers });
      region.push(RackPush, ['r1'], { n: 4 });
      await waitFor(() => got.length === 2);
      expect(got).toEqual([3, 4]);
    } finally {
      spy.unsubscribe();
      sub.unsubscribe();
    }
  });
});
