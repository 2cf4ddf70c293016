/**
 * The rack's power subjects end to end: the real NATS server, the region's side calling through
 * ContractBus, the rack's NATS adapter + handlers + executor, the real IPMI driver (freeipmi),
 * and a real BMC (OpenIPMI ipmi_sim) whose state ipmitool cross-checks.
 * The NATS server is a private one with auth on (Kiln's rendered config): the region side and the
 * rack each connect with their own nkey.
 * Needs: nats-server, openipmi, ipmitool, freeipmi-tools.
 */
import {
  ContractError,
  generateBoxKeyPair,
  MessageSigner,
  MessageVerifier,
  openPowerParameters,
  PowerOff,
  PowerOn,
  PowerQuery,
  PowerQueryBatch,
  PowerSetBootDevice,
  rackInboxPrefix,
  renderNatsServerConfig,
  sealPowerParameters,
} from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { createPowerDrivers } from '@kiln/power/drivers';
import { IpmiSim } from '@kiln/power/testing';
import { newNkey, PrivateNatsServer, startPrivateNatsServer, uniquePrefix } from '@kiln/testing';
import { MsgHdrs, NatsConnection, connect, headers, nkeyAuthenticator } from 'nats';
import { HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNED_AT } from '@kiln/contracts';
import { createPowerHandlers } from './power.handler';
import { PowerExecutor } from './power.executor';
import { PowerNatsServer, servePowerOverNats } from './power.nats';

jest.setTimeout(60_000);

const RACK = 'rack-power-e2e';

describe('power over NATS, rack side, against ipmi_sim', () => {
  let nats: PrivateNatsServer;
  /** The region side's connection (region nkey) and the rack's (its own nkey and inbox). */
  let nc: NatsConnection;
  let rackNc: NatsConnection;
  let server: PowerNatsServer;
  let region: ContractBus;
  let sim: IpmiSim;
  let other: IpmiSim;
  const logged: string[] = [];
  const box = generateBoxKeyPair();
  const signer = MessageSigner.fromSecret('region-secret-for-power-e2e-tests');
  /** Everything a listener on '>' saw while the tests ran. */
  const sniffed: string[] = [];

  beforeAll(async () => {
    [sim, other] = await Promise.all([IpmiSim.start({ password: 'rack-secret' }), IpmiSim.start()]);
    const prefix = `${uniquePrefix('power').replace(/-/g, '_')}.`;
    const regionKey = newNkey();
    const rackKey = newNkey();
    nats = await startPrivateNatsServer((s) =>
      renderNatsServerConfig({
        listen: s.listen,
        jetstreamDir: s.storeDir,
        pidFile: s.pidFile,
        prefix,
        regionNkeys: [regionKey.publicKey],
        racks: [{ rackId: RACK, nkey: rackKey.publicKey }],
      }),
    );
    nc = await connect({ servers: nats.url, name: 'power-e2e-region', authenticator: nkeyAuthenticator(regionKey.seed) });
    rackNc = await connect({ servers: nats.url, name: 'power-e2e-rack', authenticator: nkeyAuthenticator(rackKey.seed), inboxPrefix: rackInboxPrefix(prefix, RACK) });
    nc.subscribe(`${prefix}>`, { callback: (_e, m) => m && sniffed.push(Buffer.from(m.data).toString()) });
    const executor = new PowerExecutor(createPowerDrivers(), {
      maxConcurrent: 4,
      jitterMs: 50,
      policy: { attempts: 2, backoffMs: 100, jitter: 0.1, verifyDelaysMs: [100, 200, 400, 800, 1200], callTimeoutMs: 3000 },
    });
    const log = { info: (o: object, m: string) => logged.push(`${m} ${JSON.stringify(o)}`), warn: (o: object, m: string) => logged.push(`${m} ${JSON.stringify(o)}`) };
    const rackBus = new ContractBus(rackNc, { prefix, verifier: new MessageVerifier([signer.publicKey]) });
    server = servePowerOverNats(rackBus, RACK, createPowerHandlers(executor, (systemId, sealed) => openPowerParameters(box, RACK, systemId, sealed), log));
    region = new ContractBus(nc, { prefix, timeoutMs: 20_000, signer });
    await rackNc.flush();
    await nc.flush();
  });

  afterAll(async () => {
    await server?.stop();
    await rackNc?.drain();
    await nc?.drain();
    await nats?.stop();
    await Promise.all([sim?.stop(), other?.stop()]);
  });

  const signedHeaders = (subject: string, body: Buffer) => {
    const sig = signer.sign(subject, body);
    const h = headers();
    h.set(HEADER_SIGNATURE, sig.signature);
    h.set(HEADER_SIGNED_AT, String(sig.signedAt));
    h.set(HEADER_NONCE, sig.nonce);
    return h;
  };
  const target = (s: IpmiSim, extra: Record<string, string> = {}) => ({
    systemId: `m-${s.name}`,
    powerType: 'ipmi',
    sealedParameters: sealPowerParameters(box.publicKey, RACK, `m-${s.name}`, s.powerParameters(extra)),
  });

  it('sets PXE, powers on, queries and powers off a BMC the region names, as ipmitool confirms', async () => {
    expect(server.subjects.map((s) => s.slice(s.indexOf('rack.')))).toEqual([
      `rack.${RACK}.power.on`,
      `rack.${RACK}.power.off`,
      `rack.${RACK}.power.cycle`,
      `rack.${RACK}.power.query`,
      `rack.${RACK}.power.set_boot_device`,
      `rack.${RACK}.power.query_batch`,
    ]);
    const boot = await region.request(PowerSetBootDevice, [RACK], { ...target(sim), device: 'pxe' });
    expect(boot).toMatchObject({ outcome: 'done', bootDevice: 'pxe', verified: true });

    const on = await region.request(PowerOn, [RACK], target(sim));
    expect(on).toMatchObject({ outcome: 'done', state: 'on', verified: true });
    expect(await sim.crossCheckPower()).toBe('on');

    expect(await region.request(PowerQuery, [RACK], target(sim))).toMatchObject({ state: 'on' });

    const off = await region.request(PowerOff, [RACK], { ...target(sim), mode: 'hard', budgetMs: 30_000 });
    expect(off).toMatchObject({ state: 'off', verified: true });
    expect(await sim.crossCheckPower()).toBe('off');
  });

  it('answers a wrong password with BMC_AUTH and the BMC’s words, and never logs the password', async () => {
    const err = await region.request(PowerOn, [RACK], target(sim, { power_pass: 'wrong-pass' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect(err).toMatchObject({ code: 'BMC_AUTH', message: expect.stringMatching(/refused the password \(BMC said: .*password invalid\)/) });
    const all = logged.join('\n');
    expect(all).toContain('power command failed');
    expect(all).not.toContain('wrong-pass');
    expect(all).not.toContain('rack-secret');
    // Nor does the bus carry it in clear: a listener on '>' saw only sealed boxes.
    expect(sniffed.length).toBeGreaterThan(0);
    expect(sniffed.join('\n')).not.toMatch(/rack-secret|wrong-pass/);
  });

  it('polls several BMCs in one batch: each answer or failure per machine', async () => {
    other.pause();
    try {
      const reply = await region.request(PowerQueryBatch, [RACK], {
        items: [target(sim), target(other, { power_driver: 'LAN_2_0' }), target(sim, { power_user: 'nobody' })],
        spreadMs: 100,
      });
      const [good, silent, badUser] = reply.results;
      expect(good).toMatchObject({ ok: true, state: 'off' });
      expect(silent).toMatchObject({ ok: false, code: 'BMC_TIMEOUT', fatal: false, message: expect.stringMatching(/connection timeout/) });
      expect(badUser).toMatchObject({ ok: false, code: 'BMC_AUTH', fatal: true, message: expect.stringMatching(/username invalid/) });
    } finally {
      other.resume();
    }
  });

  it('acts only on requests a region signed: unsigned, forged and replayed ones never reach the BMC', async () => {
    const before = await sim.crossCheckPower();
    const body = Buffer.from(JSON.stringify(target(sim)));
    const subject = `${region.prefix}rack.${RACK}.power.cycle`;
    const answer = async (headers?: MsgHdrs) => JSON.parse(Buffer.from((await nc.request(subject, body, { timeout: 5000, headers })).data).toString());
    const signedBy = (s: MessageSigner) => {
      const sig = s.sign(subject, body);
      const h = headers();
      h.set(HEADER_SIGNATURE, sig.signature);
      h.set(HEADER_SIGNED_AT, String(sig.signedAt));
      h.set(HEADER_NONCE, sig.nonce);
      return h;
    };
    expect(await answer()).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    expect(await answer(signedBy(MessageSigner.fromSecret('an-attacker-who-is-not-the-region')))).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    const genuine = signedBy(signer);
    const queried = await answer(genuine);
    expect(queried).toMatchObject({ ok: true });
    expect(await answer(genuine)).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/replayed/) } });
    // The one genuine cycle ran; nothing else did.
    expect(before).toBe('off');
    expect(await sim.crossCheckPower()).toBe('on');
    await region.request(PowerOff, [RACK], { ...target(sim), mode: 'hard' });
  });

  it('refuses an invalid request at the edge', async () => {
    const raw = await nc.request(`${region.prefix}rack.${RACK}.power.on`, Buffer.from(JSON.stringify({ systemId: 'x' })), { timeout: 5000, headers: signedHeaders(`${region.prefix}rack.${RACK}.power.on`, Buffer.from(JSON.stringify({ systemId: 'x' }))) });
    expect(JSON.parse(Buffer.from(raw.data).toString())).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const unknown = await region.request(PowerQuery, [RACK], { systemId: 'x', powerType: 'amt', sealedParameters: sealPowerParameters(box.publicKey, RACK, 'x', {}) }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'BAD_SETTINGS', message: expect.stringMatching(/unknown power type "amt"/) });
  });
});
