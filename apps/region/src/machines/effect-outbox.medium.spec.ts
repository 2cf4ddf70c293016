import { Queue } from 'bullmq';
import { registerDeployableImage } from '../testing/boot-images.fixture';
import { pollUntil } from '@kiln/testing';
import { LIFECYCLE_QUEUE } from '../jobs/jobs.types';
import { ApiKey, RegionHarness } from '../testing/region.harness';
import { MachineJobsWorker } from './machine-jobs.worker';
import { MachineLifecycleService } from './machine-lifecycle.service';
import { MachinesRepository } from './machines.repository';

const API = '/MAAS/api/2.0';

/**
 * Nothing a transition decided is lost between the commit and the effect: the effects are in the
 * outbox with the transition until their result is recorded, and the region's upkeep queues what
 * the queue does not have (a region that stopped in between, a Redis that was away or lost its
 * data) and recreates job schedulers Redis forgot.
 */
describe('lifecycle effects survive a stop between commit and queue', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let n = 0;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    // Deploy installs only releases the region holds an image of.
    await registerDeployableImage(h, { version: 'test' });
    await registerDeployableImage(h, { name: 'ubuntu/jammy', version: 'test' });
  });
  afterAll(() => h.stop());

  async function allocatedMachine(): Promise<string> {
    const mac = `52:54:00:0f:00:${(++n).toString(16).padStart(2, '0')}`;
    const created = await h.call(admin, 'POST', `${API}/machines/`, { architecture: 'amd64', mac_addresses: mac, power_type: 'manual', deployed: 'true' });
    const sid = (created.json() as { system_id: string }).system_id;
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=release`)).status).toBe(200);
    expect((await h.call(admin, 'POST', `${API}/machines/?op=allocate`, { system_id: sid })).status).toBe(200);
    return sid;
  }

  const outbox = (sid: string): Promise<{ job_id: string }[]> => h.ds.query('SELECT job_id FROM effect_outbox WHERE system_id = $1', [sid]);
  const events = async (sid: string) =>
    ((await h.call(admin, 'GET', `${API}/events/?op=query&id=${sid}&level=DEBUG`)).json() as { events: { type: string; description: string }[] }).events;

  it('clears the outbox once the effect has run', async () => {
    const sid = await allocatedMachine();
    expect((await h.call(admin, 'POST', `${API}/machines/${sid}/?op=deploy`)).status).toBe(200);
    await pollUntil(() => events(sid), (e) => e.some((x) => x.description.includes('must power on')), { what: 'power effect' });
    await pollUntil(() => outbox(sid), (rows) => rows.length === 0, { what: 'the outbox to empty' });
  });

  it('queues an effect that was committed but never queued', async () => {
    const sid = await allocatedMachine();
    const lifecycle = h.app.get(MachineLifecycleService);
    const repo = h.app.get(MachinesRepository);
    // The transition commits; the process "stops" before enqueue() runs.
    await h.ds.transaction(async (em) => {
      const m = await repo.lockBySystemId(em, sid);
      const t = await lifecycle.transition(em, m!, { type: 'deploy' }, { id: 0, username: 'admin', isAdmin: true } as never);
      expect(t.jobs.map((j) => j.effect.kind)).toContain('powerOn');
    });
    const left = await outbox(sid);
    expect(left.length).toBeGreaterThan(0);
    expect((await events(sid)).some((x) => x.description.includes('must power on'))).toBe(false);

    expect(await lifecycle.relayOutbox(0)).toBeGreaterThanOrEqual(left.length);
    await pollUntil(() => events(sid), (e) => e.some((x) => x.description.includes('must power on')), { what: 'relayed power effect' });
    await pollUntil(() => outbox(sid), (rows) => rows.length === 0, { what: 'the outbox to empty' });
    // A second relay finds nothing: the effect runs once.
    expect(await lifecycle.relayOutbox(0)).toBe(0);
  });

  it('clears the row of an effect whose job failed for good, so it holds back nothing', async () => {
    const sid = await allocatedMachine();
    const queue = h.app.get<Queue>(LIFECYCLE_QUEUE);
    const lifecycle = h.app.get(MachineLifecycleService);
    const jobId = `effect-broken-${sid}`;
    // A job the worker cannot carry out (no effect in it), with one attempt: it fails for good.
    await queue.add('machine.effect', { systemId: sid, outbox: true } as never, { jobId, attempts: 1 });
    await pollUntil(async () => (await queue.getJob(jobId))?.isFailed(), (failed) => failed === true, { what: 'the job to fail' });
    // The region stopped before it cleared the row.
    await h.ds.query(`INSERT INTO effect_outbox (job_id, system_id, payload, created) VALUES ($1, $2, $3, now() - interval '1 minute')`, [
      jobId,
      sid,
      JSON.stringify({ systemId: sid, outbox: true }),
    ]);
    expect(await lifecycle.relayOutbox(0)).toBe(0);
    expect(await outbox(sid)).toEqual([]);
  });

  it('recreates the deadline sweep scheduler when Redis lost it', async () => {
    const queue = h.app.get<Queue>(LIFECYCLE_QUEUE);
    await queue.removeJobScheduler('deadline-sweep');
    expect(await queue.getJobScheduler('deadline-sweep')).toBeUndefined();
    await h.app.get(MachineJobsWorker).keepUp();
    expect(await queue.getJobScheduler('deadline-sweep')).toMatchObject({ key: 'deadline-sweep' });
  });
});
