/**
 * The simulated agent says what Kiln's runner says: the real runner (python3,
 * libs/scripts/runner/kiln-run-scripts.py) and the agent each talk to a recording fake of the
 * metadata API serving the same tars, and the two conversations must match request for request
 * (paths, OAuth header parameters, multipart field names and values, file part names), for a
 * known machine's commissioning and for an anonymous enlistment.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildScriptsTarball, type TarballScript } from '@kiln/scripts';
import { simulatedMachine } from './machine.profile';
import { Transport } from './metadata.client';
import { AgentEvent, SimulatedAgent } from './simulated.agent';

const RUNNER = resolve(__dirname, '../../scripts/runner/kiln-run-scripts.py');
const CK = 'ckCKckCKckCKckCKck';
const TK = 'tkTKtkTKtkTKtkTKtk';
const TS = 'tsTStsTStsTStsTStsTStsTStsTStsTS';
const SYSTEM_ID = 'sim042';

interface Recorded {
  method: string;
  path: string;
  /** OAuth parameter names in the order sent, with the signature's value; null when unsigned. */
  oauth: string | null;
  fields: Record<string, string>;
  files: string[];
  contentType: string;
}

function parseMultipart(body: Buffer, contentType: string): { fields: Record<string, string>; files: string[] } {
  const m = /boundary=("?)([^";]+)\1/.exec(contentType);
  if (!m) throw new Error(`not multipart: ${contentType}`);
  const fields: Record<string, string> = {};
  const files: string[] = [];
  for (const part of body.toString('latin1').split(`--${m[2]}`).slice(1)) {
    if (part.startsWith('--')) break;
    const [head, ...rest] = part.replace(/^\r\n/, '').split('\r\n\r\n');
    const name = /name="([^"]*)"/.exec(head ?? '')?.[1] ?? '';
    if (/filename="/.test(head ?? '')) {
      expect(head).toContain(`filename="${name}"`);
      expect(head).toContain('Content-Type: application/octet-stream');
      files.push(name);
    } else fields[name] = Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1').toString('utf8');
  }
  return { fields, files };
}

/** The same answers for both clients: a preseed with credentials, the tars in order, 200 to every signal. */
class RecordingMetadataApi {
  readonly requests: Recorded[] = [];
  private readonly server: Server;

  constructor(private readonly tars: Buffer[]) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const auth = req.headers.authorization;
        const oauth = auth
          ? [...auth.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((p) => (p[1] === 'oauth_signature' || p[1] === 'oauth_version' || p[1] === 'oauth_signature_method' || p[1] === 'oauth_consumer_key' || p[1] === 'oauth_token' ? `${p[1]}=${p[2]}` : p[1])).join(',')
          : null;
        const ctype = req.headers['content-type'] ?? '';
        const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', oauth, fields: {}, files: [], contentType: ctype.replace(/boundary=.*/, 'boundary=') };
        if (ctype.startsWith('multipart/')) Object.assign(rec, parseMultipart(body, ctype));
        if (ctype === 'application/x-www-form-urlencoded') rec.fields = Object.fromEntries(new URLSearchParams(body.toString()));
        this.requests.push(rec);
        const url = req.url ?? '';
        const preseed = `#cloud-config\ndatasource:\n  MAAS:\n    metadata_url: ${this.url}\n    consumer_key: ${CK}\n    token_key: ${TK}\n    token_secret: ${TS}\npower_state:\n  mode: poweroff\n`;
        if (url.startsWith('/MAAS/api/2.0/machines/?op=is_registered&')) res.writeHead(200, { 'Content-Type': 'application/json' }).end('false');
        else if (req.method === 'POST' && url === '/MAAS/api/2.0/machines/') res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ system_id: SYSTEM_ID }));
        else if (url === `/MAAS/metadata/latest/by-id/${SYSTEM_ID}/?op=get_preseed`) res.writeHead(200).end(preseed);
        else if (url === '/MAAS/metadata/latest/enlist-preseed/?op=get_enlist_preseed')
          res.writeHead(200).end(`#cloud-config\ndatasource:\n  MAAS:\n    metadata_url: ${this.url}\npower_state:\n  mode: poweroff\n`);
        else if (url === '/MAAS/metadata/2012-03-01/meta-data/instance-id') res.writeHead(200).end(auth ? SYSTEM_ID : 'i-maas-enlistment');
        else if (url === '/MAAS/metadata/2012-03-01/meta-data/local-hostname') res.writeHead(200).end('sim.maas');
        else if (url === '/MAAS/metadata/2012-03-01/user-data') res.writeHead(200).end('#!/bin/sh\n');
        else if (url === '/MAAS/metadata/2012-03-01/maas-scripts') {
          const tar = this.tars.shift();
          if (tar) res.writeHead(200, { 'Content-Type': 'application/x-tar' }).end(tar);
          else res.writeHead(204).end();
        } else if (req.method === 'POST' && url === '/MAAS/metadata/2012-03-01/' && rec.fields.op === 'signal') res.writeHead(200).end('OK');
        else res.writeHead(404).end();
      });
    });
  }

  url = '';

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/MAAS/metadata/`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** The runner's conversation from its first request on, in comparable form (values that vary per run blanked). */
  conversation(from: (r: Recorded) => boolean): string[] {
    const start = this.requests.findIndex(from);
    return this.requests.slice(start).map((r) => {
      const f = { ...r.fields };
      if (f.runtime !== undefined) f.runtime = Number.isFinite(Number(f.runtime)) ? '<float>' : `bad ${f.runtime}`;
      if (f.mac_addresses !== undefined) f.mac_addresses = '<macs>';
      if (f.architecture !== undefined) f.architecture = '<arch>';
      const oauth = r.oauth === null ? 'unsigned' : r.oauth;
      const path = r.path.replace(/mac_address=[^&]*/, 'mac_address=<macs>');
      return `${r.method} ${path} ${oauth} ${r.contentType} ${JSON.stringify(Object.entries(f))} files=${r.files.join(',')}`;
    });
  }
}

const base = { timeoutSeconds: 0, hardwareType: 'node' } as const;
const script = (over: Partial<TarballScript> & Pick<TarballScript, 'name' | 'scriptType'>): TarballScript => ({
  ...base,
  parallel: 'disabled',
  content: `#!/bin/sh\necho "${over.name}: done"\n`,
  ...over,
});

function tars(ids: boolean): Buffer[] {
  const id = (n: number) => (ids ? { scriptResultId: n, scriptVersionId: n + 1000 } : {});
  const commissioning = [
    script({ scriptType: 'commissioning', name: 'sim-serial', ...id(11) }),
    script({ scriptType: 'commissioning', name: 'sim-any', parallel: 'any', hardwareType: 'storage', ...id(12) }),
  ];
  const testing = [script({ scriptType: 'testing', name: 'sim-test', ...id(21) })];
  return [buildScriptsTarball([...commissioning, ...testing]), buildScriptsTarball(testing.map((t) => ({ ...t, ...id(21) })))];
}

function runRunner(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn('python3', [RUNNER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', rej);
    p.on('close', (code) => res({ code, stderr }));
  });
}

async function runAgent(url: string, systemId: string | null) {
  const transport = new Transport({ maxSockets: 4, retryDelaysS: [] });
  const events: AgentEvent[] = [];
  const agent = new SimulatedAgent({
    machine: simulatedMachine(7, 3),
    transport,
    metadataUrl: url,
    heartbeatMs: 3_600_000,
    scriptMs: () => 1,
    bmc: () => null,
    onEvent: (e) => events.push(e),
  });
  agent.powerOn(systemId);
  await agent.settled();
  transport.close();
  return { agent, events, stats: transport.stats };
}

describe('the simulated agent speaks as kiln-run-scripts.py does', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-sim-agent-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('commissioning then testing as a known machine: the same requests, signed and encoded the same way', async () => {
    const byRunner = new RecordingMetadataApi(tars(true));
    const byAgent = new RecordingMetadataApi(tars(true));
    try {
      const rurl = await byRunner.start();
      const ran = await runRunner(['--url', rurl, '--ckey', CK, '--tkey', TK, '--tsec', TS, '--heartbeat-interval', '3600', join(dir, 'work')]);
      expect(ran).toMatchObject({ code: 0 });
      const { agent, events, stats } = await runAgent(await byAgent.start(), SYSTEM_ID);
      expect(agent.lastError).toBeNull();
      expect(events).toContainEqual({ type: 'done', index: 3, systemId: SYSTEM_ID, outcome: 'ok' });
      // cloud-init's part, which the runner does not do: the preseed, then the datasource's items.
      expect(byAgent.requests.slice(0, 4).map((r) => `${r.method} ${r.path} ${r.oauth ? 'signed' : 'unsigned'}`)).toEqual([
        `GET /MAAS/metadata/latest/by-id/${SYSTEM_ID}/?op=get_preseed unsigned`,
        'GET /MAAS/metadata/2012-03-01/meta-data/instance-id signed',
        'GET /MAAS/metadata/2012-03-01/meta-data/local-hostname signed',
        'GET /MAAS/metadata/2012-03-01/user-data signed',
      ]);
      const firstSignal = (r: Recorded) => r.fields.op === 'signal';
      const runner = byRunner.conversation(firstSignal);
      expect(byAgent.conversation(firstSignal)).toEqual(runner);
      // What the comparison covers: every step of reference §4.7 for two sets.
      expect(runner.map((l) => l.split(' ')[1] + ' ' + (/"status","(\w+)"/.exec(l)?.[1] ?? ''))).toEqual([
        '/MAAS/metadata/2012-03-01/ WORKING',
        '/MAAS/metadata/2012-03-01/maas-scripts ',
        '/MAAS/metadata/2012-03-01/ WORKING',
        '/MAAS/metadata/2012-03-01/ WORKING',
        '/MAAS/metadata/2012-03-01/ WORKING',
        '/MAAS/metadata/2012-03-01/ WORKING',
        '/MAAS/metadata/2012-03-01/maas-scripts ',
        '/MAAS/metadata/2012-03-01/ TESTING',
        '/MAAS/metadata/2012-03-01/ WORKING',
        '/MAAS/metadata/2012-03-01/ WORKING',
        '/MAAS/metadata/2012-03-01/ OK',
      ]);
      expect(runner[3]).toContain('"Finished sim-serial (id: 11, script_version_id: 1011): 0"');
      expect(runner[3]).toContain('files=sim-serial,sim-serial.out,sim-serial.err');
      expect(runner[0]).toContain('oauth_nonce,oauth_timestamp,oauth_version=1.0,oauth_signature_method=PLAINTEXT');
      expect(runner[0]).toContain(`oauth_signature=%26${TS}`);
      expect(stats.signalMs).toHaveLength(9);
      expect(stats.resultsSent).toBe(3);
    } finally {
      await byRunner.stop();
      await byAgent.stop();
    }
  }, 60_000);

  it('enlistment: is_registered, the anonymous tar, POST machines/, the preseed by id, the held results, then the run', async () => {
    const byRunner = new RecordingMetadataApi(tars(false));
    const byAgent = new RecordingMetadataApi(tars(false));
    try {
      const rurl = await byRunner.start();
      const config = join(dir, 'cmdline.cfg');
      writeFileSync(config, `datasource:\n  MAAS:\n    metadata_url: ${rurl}\n`);
      const ran = await runRunner(['--config', config, '--heartbeat-interval', '3600', join(dir, 'work')]);
      expect(ran).toMatchObject({ code: 0 });
      const { agent, events } = await runAgent(await byAgent.start(), null);
      expect(agent.lastError).toBeNull();
      expect(agent.systemId).toBe(SYSTEM_ID);
      expect(events.map((e) => e.type)).toEqual(['enlisted', 'done', 'poweroff']);
      const isRegistered = (r: Recorded) => r.path.includes('op=is_registered');
      const runner = byRunner.conversation(isRegistered);
      expect(byAgent.conversation(isRegistered)).toEqual(runner);
      expect(runner.slice(0, 5).map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
        'GET /MAAS/api/2.0/machines/?op=is_registered&mac_address=<macs> unsigned',
        'GET /MAAS/metadata/2012-03-01/maas-scripts unsigned',
        'POST /MAAS/api/2.0/machines/ unsigned',
        `GET /MAAS/metadata/latest/by-id/${SYSTEM_ID}/?op=get_preseed unsigned`,
        'POST /MAAS/metadata/2012-03-01/ oauth_nonce,oauth_timestamp,oauth_version=1.0,oauth_signature_method=PLAINTEXT,oauth_consumer_key=ckCKckCKckCKckCKck,oauth_token=tkTKtkTKtkTKtkTKtk,oauth_signature=%26tsTStsTStsTStsTStsTStsTStsTStsTS',
      ]);
      expect(runner[2]).toContain('["commission","True"]');
      // The held result of the serial script goes by name, without an id.
      expect(runner[4]).toContain('"Finished sim-serial (id: None, script_version_id: None): 0"');
      // The agent's MACs are its simulated NICs, comma-joined in one value.
      const post = byAgent.requests.find((r) => r.method === 'POST' && r.path === '/MAAS/api/2.0/machines/');
      expect(post?.fields.mac_addresses).toBe(simulatedMachine(7, 3).nics.map((n) => n.mac).sort().join(','));
    } finally {
      await byRunner.stop();
      await byAgent.stop();
    }
  }, 60_000);
});
