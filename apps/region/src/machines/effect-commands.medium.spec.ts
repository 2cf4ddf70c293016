import { Job, Queue } from 'bullmq';
import { ContractError, generateBoxKeyPair, openPowerParameters, PowerCycle, PowerOff, PowerOn, PowerOutcome, PowerQuery, PowerQueryBatch, PowerSetBootDevice } from '@kiln/contracts';
import { pollUntil } from '@kiln/testing';
import { LIFECYCLE_QUEUE } from '../jobs/jobs.types';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { MachineJobsWorker } from './machine-jobs.worker';

const API = '/MAAS/api/2.0';
const RACK = 'fakerk';
/** The rack cannot drive this BMC: it lacks the driver's tool. */
const MISSING_TOOL_BMC = '10.9.1.1';

type Call = { verb: string; systemId: string; commandId?: string };

/**
 * Every command the API accepted reaches the rack, once and in order: with a rack answering on the
 * bus (the power contracts served on this test's NATS subjects), repeated power actions on one
 * machine, and commissions whose queued jobs Redis lost.
 */
describe('accepted commands are carried out once', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let n = 0;
  const calls: Call[] = [];
  const state = new Map<string, 'on' | 'off'>();
  const remembered = new Map<string, PowerOutcome>();
  const box = generateBoxKeyPair();

  beforeAll(async () => {
    h = await RegionHarness.start({ KILN_RACK_HEARTBEAT_MS: '600000', KILN_POWER_POLL_INTERVAL_MS: '3600000' });
    admin = await h.createUser('admin', true);
    await h.ds.query(`INSERT INTO rack_controllers (system_id, hostname, status, last_seen, box_public_key) VALUES ($1, 'rack-fake', 'running', now() + interval '1 hour', $2)`,
      [RACK, box.publicKey],
    );
    const answer = async (
      verb: string,
      req: { systemId: string; commandId?: string; sealedParameters: string },
      to?: 'on' | 'off',
    ): Promise<PowerOutcome> => {
      // Like a rack, it answers a command id it already carried out from memory.
      const key = req.commandId ? `${req.commandId}:${verb}` : null;
      if (key && remembered.has(key)) return remembered.get(key)!;
      calls.push({ verb, systemId: req.systemId, commandId: req.commandId });
      if (openPowerParameters(box, RACK, req.systemId, req.sealedParameters).power_address === MISSING_TOOL_BMC) throw new ContractError('MISSING_TOOL', 'ipmipower is not installed on this rack');
      // A BMC takes a moment: a command sent right behind this one must not overtake it.
      if (verb === 'on') await new Promise((r) => setTimeout(r, 300));
      if (to) state.set(req.systemId, to);
      const outcome: PowerOutcome = { outcome: 'done', state: state.get(req.systemId) ?? 'off', verified: true, calls: 1, elapsedMs: 1 };
      if (key) remembered.set(key, outcome);
      return outcome;
    };
    h.bus.serve(PowerOn, [RACK], (req) => answer('on', req, 'on'));
    h.bus.serve(PowerOff, [RACK], (req) => answer('off', req, 'off'));
    h.bus.serve(PowerCycle, [RACK], (req) => answer('cycle', req, 'on'));
    h.bus.serve(PowerQuery, [RACK], (req) => answer('query', req));
    h.bus.serve(PowerSetBootDevice, [RACK], (req) => answer('set_boot_device', req));
    h.bus.serve(PowerQueryBatch, [RACK], () => ({ results: [], elapsedMs: 0 }));
  });
  afterAll(() => h.stop());

  async function machine(extra: Record<string, string> = {}): Promise<string> {
    const mac = `52:54:00:9c:00:${(++n).toString(16).padStart(2, '0')}`;
    const created = await h.call(admin, 'POST', `${API}/machines/`, {
      architecture: 'amd64',
      mac_addresses: mac,
      power_type: 'ipmi',
      power_parameters_power_address: `10.9.0.${n}`,
      power_parameters_power_user: 'admin',
      power_parameters_power_pass: 'secret',
      ...extra,
    });
    expect(created.status).toBe(200);
    return (created.json() as { system_id: string }).system_id;
  }
  const events = async (sid: string) =>
    ((await h.call(admin, 'GET', `${API}/events/?op=query&id=${sid}&level=DEBUG`)).json() as { events: { type: string; description: string }[] }).events;
  const outbox = (sid: string): Promise<{ job_id: string }[]> => h.ds.query('SELECT job_id FROM effect_outbox WHERE system_id = $1', [sid]);
  const verbsFor = (sid: string) => calls.filter((c) => c.systemId === sid && c.verb !== 'query').map((c) => c.verb);

  it('carries out power_on then power_off on an Allocated machine, both, in order', async () => {
    const sid = await machine({ deployed: 'true' });
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
    await pollUntil(() => h.call(admin, 'GET', `${API}/machines/${sid}/`), (r) => (r.json() as { status_name: string }).status_name === 'Ready', {
      what: 'release',
    });
    expect((await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    const before = verbsFor(sid).length;

    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=power_on`)).status).toBe(200);
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=power_off`)).status).toBe(200);
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=power_on`)).status).toBe(200);

    await pollUntil(() => Promise.resolve(verbsFor(sid).slice(before)), (v) => v.length >= 3, { what: 'three power commands at the rack' });
    await pollUntil(() => outbox(sid), (rows) => rows.length === 0, { what: 'the outbox to empty' });
    expect(verbsFor(sid).slice(before)).toEqual(['on', 'off', 'on']);
    const ids = calls.filter((c) => c.systemId === sid).slice(-3).map((c) => c.commandId);
    expect(new Set(ids).size).toBe(3);
    const powered = (await events(sid)).filter((e) => e.type === 'Powered on' || e.type === 'Powered off').map((e) => e.type);
    expect(powered.filter((t) => t === 'Powered on')).toHaveLength(2);
    expect(powered.filter((t) => t === 'Powered off').length).toBeGreaterThanOrEqual(1);
    expect(state.get(sid)).toBe('on');
  });

  it('keeps the outbox row until the effect has run, and never runs it twice', async () => {
    const sid = await machine({ commission: 'false' });
    const queue = h.app.get<Queue>(LIFECYCLE_QUEUE);
    await queue.pause();
    let job: Job;
    try {
      expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`)).status).toBe(200);
      const [row] = await outbox(sid);
      expect(row).toBeDefined();
      job = (await queue.getJob(row.job_id))!;
      expect(job).toBeDefined();
      // Queued a second time (another region's relay): still one job.
      await queue.add('machine.effect', job.data, { jobId: row.job_id });
    } finally {
      await queue.resume();
    }
    await pollUntil(() => outbox(sid), (rows) => rows.length === 0, { what: 'the commission power cycle to run' });
    expect(verbsFor(sid)).toEqual(['set_boot_device', 'cycle']);
    // A redelivered job whose result was recorded does nothing.
    expect(await h.app.get(MachineJobsWorker).effect(job.data, 1, 1, job)).toBe('skipped: already carried out');
    expect(verbsFor(sid)).toEqual(['set_boot_device', 'cycle']);
    expect((await events(sid)).filter((e) => e.type === 'Powered cycled')).toHaveLength(1);
  });

  it('powers on every accepted commission after Redis lost the queue', async () => {
    const queue = h.app.get<Queue>(LIFECYCLE_QUEUE);
    const sids: string[] = [];
    for (let i = 0; i < 8; i++) sids.push(await machine({ commission: 'false' }));
    // Nothing runs yet: the jobs sit in Redis only...
    await queue.pause();
    for (const sid of sids) expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`)).status).toBe(200);
    expect(await queue.count()).toBeGreaterThanOrEqual(sids.length);
    // ...and Redis loses every key of this region's queue (schedulers and the pause included).
    await queue.obliterate({ force: true });
    expect(await queue.count()).toBe(0);
    expect(sids.every((sid) => !verbsFor(sid).includes('cycle'))).toBe(true);

    const worker = h.app.get(MachineJobsWorker);
    await pollUntil(
      async () => {
        await worker.keepUp();
        return Promise.all(sids.map((sid) => outbox(sid)));
      },
      (rows) => rows.every((r) => r.length === 0),
      { timeoutMs: 30_000, what: 'upkeep to queue the lost effects and the worker to run them' },
    );
    for (const sid of sids) {
      expect(verbsFor(sid)).toEqual(['set_boot_device', 'cycle']);
      expect(state.get(sid)).toBe('on');
      expect((await events(sid)).filter((e) => e.type === 'Powered cycled')).toHaveLength(1);
    }
  });

  it('fails a release at once, with the reason, when the rack lacks the power tool', async () => {
    const sid = await machine({ deployed: 'true', power_parameters_power_address: MISSING_TOOL_BMC });
    const started = Date.now();
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
    const m = await pollUntil(
      async () => (await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json() as { status_name: string; error_description: string },
      (x) => x.status_name !== 'Releasing',
      { timeoutMs: 20_000, what: 'the release to fail' },
    );
    expect(m.status_name).toBe('Releasing failed');
    expect(m.error_description).toContain('MISSING_TOOL');
    expect(m.error_description).toContain('ipmipower is not installed');
    expect(Date.now() - started).toBeLessThan(20_000);
    const ev = await events(sid);
    expect(ev.some((e) => e.type === 'Power failed' && e.description.includes('MISSING_TOOL'))).toBe(true);
    expect(ev.some((e) => e.description.includes('Releasing failed: power off failed (MISSING_TOOL)'))).toBe(true);
    expect(calls.filter((c) => c.systemId === sid && c.verb === 'off')).toHaveLength(1);
  });

  it('does nothing for a job whose machine moved on or passed its deadline', async () => {
    const queue = h.app.get<Queue>(LIFECYCLE_QUEUE);
    const worker = h.app.get(MachineJobsWorker);
    const late = await machine({ commission: 'false' });
    const aborted = await machine({ commission: 'false' });
    await queue.pause();
    let lateJob: Job;
    let abortedJob: Job;
    try {
      for (const sid of [late, aborted]) expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`)).status).toBe(200);
      const job = async (sid: string) => (await queue.getJob((await outbox(sid))[0].job_id))!;
      lateJob = await job(late);
      abortedJob = await job(aborted);
      // One machine's deadline passes before its job runs (the sweep is about to fail it)...
      await h.ds.query(`UPDATE machines SET status_expires = now() - interval '1 minute' WHERE system_id = $1`, [late]);
      expect(await worker.effect(lateJob.data, 1, 1, lateJob)).toBe('skipped: past the deadline');
      // ...the other is aborted: the commission's power cycle is history.
      expect((await h.call(admin, 'POST', `${API}/machines/${aborted}/?op=abort`)).status).toBe(200);
      expect(await worker.effect(abortedJob.data, 1, 1, abortedJob)).toMatch(/^skipped: machine is .* now$/);
    } finally {
      await queue.resume();
    }
    for (const sid of [late, aborted]) {
      await pollUntil(() => outbox(sid), (rows) => rows.length === 0, { what: 'the outbox to empty' });
      expect(verbsFor(sid).filter((v) => v !== 'off')).toEqual([]);
    }
  });

  it('sends power commands to a rack on the BMC subnet, never to one that cannot drive the type', async () => {
    const elsewhere: string[] = [];
    // Two fresher racks: one on another network, one without the ipmi tools.
    await h.ds.query(
      `INSERT INTO rack_controllers (system_id, hostname, status, last_seen, interfaces, power_unavailable, box_public_key) VALUES
         ('farrk', 'rack-far', 'running', now() + interval '2 hours', '[{"name":"eth0","mac":"52:54:00:aa:00:01","addresses":["192.168.50.2/24"],"vlan":null}]', '{}', $1),
         ('notool', 'rack-notools', 'running', now() + interval '3 hours', '[{"name":"eth0","mac":"52:54:00:aa:00:02","addresses":["10.9.0.254/16"],"vlan":null}]',
          '{"ipmi":"ipmipower is not installed on this rack (package freeipmi-tools)"}', $1)`,
      [box.publicKey],
    );
    await h.ds.query(
      `UPDATE rack_controllers SET interfaces = '[{"name":"eth1","mac":"52:54:00:aa:00:03","addresses":["10.9.0.1/24"],"vlan":null}]' WHERE system_id = $1`,
      [RACK],
    );
    const subs = [PowerOn, PowerOff, PowerCycle, PowerSetBootDevice].flatMap((c) =>
      ['farrk', 'notool'].map((r) =>
        h.bus.serve(c as typeof PowerOn, [r], () => {
          elsewhere.push(`${r} ${c.name}`);
          return { outcome: 'done' as const, state: 'on' as const, verified: true, calls: 1, elapsedMs: 1 };
        }),
      ),
    );
    try {
      const sid = await machine({ commission: 'false' });
      expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`)).status).toBe(200);
      await pollUntil(() => Promise.resolve(verbsFor(sid)), (v) => v.includes('cycle'), { what: 'the power cycle at the rack on the BMC subnet' });
      expect(elsewhere).toEqual([]);

      // No live rack can drive ipmi: the command fails at once, and says why.
      await h.ds.query(`UPDATE rack_controllers SET power_unavailable = '{"ipmi":"ipmipower is not installed on this rack (package freeipmi-tools)"}'`);
      const other = await machine({ commission: 'false' });
      expect((await h.call(admin, 'POST', `${API}/machines/${other}/?op=commission`)).status).toBe(200);
      const m = await pollUntil(
        async () => (await h.call(admin, 'GET', `${API}/machines/${other}/`)).json() as { status_name: string; error_description: string },
        (x) => x.status_name !== 'Commissioning',
        { timeoutMs: 20_000, what: 'the commission to fail' },
      );
      expect(m.status_name).toBe('Failed commissioning');
      expect(m.error_description).toContain('no live rack can drive power type ipmi');
      expect(m.error_description).toContain('ipmipower is not installed');
      expect(verbsFor(other)).toEqual([]);
      expect(elsewhere).toEqual([]);
    } finally {
      subs.forEach((s) => s.unsubscribe());
      await h.ds.query(`DELETE FROM rack_controllers WHERE system_id IN ('farrk', 'notool')`);
      await h.ds.query(`UPDATE rack_controllers SET power_unavailable = '{}'`);
    }
  });

  it('notices in seconds a rack that went away mid-command and carries the command out on a live one', async () => {
    // A fresher rack on the BMC subnet takes the power cycle and dies without answering.
    await h.ds.query(
      `INSERT INTO rack_controllers (system_id, hostname, status, last_seen, interfaces, box_public_key) VALUES
         ('dying', 'rack-dying', 'running', now() + interval '4 hours', '[{"name":"eth0","mac":"52:54:00:aa:00:09","addresses":["10.9.0.253/16"],"vlan":null}]', $1)`,
      [box.publicKey],
    );
    const received: string[] = [];
    const subs: { unsubscribe(): void }[] = [];
    const die = () => subs.forEach((x) => x.unsubscribe());
    subs.push(h.bus.serve(PowerQueryBatch, ['dying'], () => ({ results: [], elapsedMs: 0 })));
    for (const c of [PowerSetBootDevice, PowerCycle] as (typeof PowerOn)[]) {
      subs.push(
        h.bus.serve(c, ['dying'], () => {
          received.push(c.name);
          die();
          return new Promise<never>(() => undefined);
        }),
      );
    }
    try {
      const sid = await machine({ commission: 'false' });
      const started = Date.now();
      expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`)).status).toBe(200);
      await pollUntil(() => Promise.resolve(verbsFor(sid)), (v) => v.includes('cycle'), { timeoutMs: 20_000, what: 'the power cycle on the live rack' });
      expect(received).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(15_000);
      await pollUntil(() => events(sid), (e) => e.some((x) => x.type === 'Powered cycled'), { what: 'the power cycle recorded' });
    } finally {
      die();
      await h.ds.query(`DELETE FROM rack_controllers WHERE system_id = 'dying'`);
    }
  });

  it('records a power cycle the rack carried out once, when two runs of its job get the answer', async () => {
    // A region died after the rack answered: the job runs again (here: twice at once, as after a
    // redelivery racing the upkeep's re-queue). The rack answers the repeat from memory.
    const queue = h.app.get<Queue>(LIFECYCLE_QUEUE);
    const worker = h.app.get(MachineJobsWorker);
    const sid = await machine({ commission: 'false' });
    await queue.pause();
    let results: string[];
    try {
      expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=commission`)).status).toBe(200);
      const job = (await queue.getJob((await outbox(sid))[0].job_id))!;
      results = await Promise.all([worker.effect(job.data, 1, 1, job), worker.effect(job.data, 1, 1, job)]);
    } finally {
      await queue.resume();
    }
    expect(results.filter((r) => r.startsWith('power cycled'))).toHaveLength(1);
    expect(verbsFor(sid)).toEqual(['set_boot_device', 'cycle']);
    await pollUntil(() => outbox(sid), (rows) => rows.length === 0, { what: 'the outbox to empty' });
    expect((await events(sid)).filter((e) => e.type === 'Powered cycled')).toHaveLength(1);
    expect((await h.call(admin, 'GET', `${API}/machines/${sid}/`)).json()).toMatchObject({ power_state: 'on', status_name: 'Commissioning' });
  });
});
