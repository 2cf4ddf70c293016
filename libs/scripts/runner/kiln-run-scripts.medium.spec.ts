/**
 * Runs the real runner (python3) against an edge fake of the region's metadata API that records
 * the conversation and checks every OAuth header, and asserts the conversation of reference
 * maas-api.md §4.7 step by step.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinScript } from '../src/builtin.catalogue';
import { buildScriptsTarball, tarballEntry, type TarballScript } from '../src/maas-scripts.tarball';
import { parseResultYaml } from '../src/result-yaml.parser';
import { RUNNER_SCRIPT_PATH, loadRunnerScript, renderUserData } from '../src/user-data.renderer';

const CK = 'ckCKckCKckCKckCKck';
const TK = 'tkTKtkTKtkTKtkTKtk';
const TS = 'tsTStsTStsTStsTStsTStsTStsTStsTS';

interface Recorded {
  method: string;
  path: string;
  /** Whether the request carried an Authorization header. */
  signed: boolean;
  fields: Record<string, string>;
  files: Record<string, string>;
}

const SYSTEM_ID = 'kiln42';
/** Routes MAAS answers without credentials (enlistment, reference §4.10). */
const ANONYMOUS = /^\/MAAS\/(api\/2\.0\/machines\/(\?op=is_registered&.*)?|metadata\/2012-03-01\/maas-scripts|metadata\/latest\/by-id\/[^/]+\/\?op=get_preseed)$/;

function parseMultipart(body: Buffer, contentType: string): Pick<Recorded, 'fields' | 'files'> {
  const m = /boundary=("?)([^";]+)\1/.exec(contentType);
  if (!m) throw new Error(`not multipart: ${contentType}`);
  const fields: Record<string, string> = {};
  const files: Record<string, string> = {};
  const text = body.toString('latin1');
  for (const part of text.split(`--${m[2]}`).slice(1)) {
    if (part.startsWith('--')) break;
    const [head, ...rest] = part.replace(/^\r\n/, '').split('\r\n\r\n');
    const value = Buffer.from(rest.join('\r\n\r\n').replace(/\r\n$/, ''), 'latin1').toString('utf8');
    const name = /name="([^"]*)"/.exec(head ?? '')?.[1] ?? '';
    if (/filename="/.test(head ?? '')) files[name] = value;
    else fields[name] = value;
  }
  return { fields, files };
}

/** Checks the OAuth 1.0 PLAINTEXT header as MAAS validates it (reference §3.2-3.3). */
function checkOAuth(req: IncomingMessage, clockOffsetSeconds = 0): string | undefined {
  const h = req.headers.authorization ?? '';
  if (!h.startsWith('OAuth ')) return 'no OAuth header';
  const params = Object.fromEntries(
    [...h.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1] as string, decodeURIComponent(p[2] as string)]),
  );
  for (const k of ['oauth_consumer_key', 'oauth_token', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_nonce']) {
    if (!params[k]) return `missing ${k}`;
  }
  if (params['oauth_version'] !== undefined && params['oauth_version'] !== '1.0') return 'bad version';
  if (params['oauth_signature_method'] !== 'PLAINTEXT') return 'not PLAINTEXT';
  if (params['oauth_consumer_key'] !== CK || params['oauth_token'] !== TK) return 'wrong key';
  if (params['oauth_signature'] !== `&${TS}`) return `wrong signature ${params['oauth_signature']}`;
  if (Math.abs(Date.now() / 1000 + clockOffsetSeconds - Number(params['oauth_timestamp'])) > 300) return 'stale timestamp';
  return undefined;
}

class FakeMetadataApi {
  readonly requests: Recorded[] = [];
  readonly authProblems: string[] = [];
  readonly nonces = new Set<string>();
  private server: Server;
  preseed = '';
  /** How far the region's clock is ahead of this machine's (ephemeral machines boot with wrong clocks). */
  clockOffsetSeconds = 0;

  /** Anonymous enlistments that report a BMC are refused with this status (with a Date header). */
  refuseEnlistmentPower: number | undefined;

  /** Plain files served without credentials (package URLs). */
  readonly files: Record<string, Buffer> = {};

  constructor(readonly tars: Buffer[]) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const signed = req.headers.authorization !== undefined;
        if (req.method === 'GET' && req.url?.startsWith('/files/')) {
          const file = this.files[req.url.slice('/files/'.length)];
          if (file) res.writeHead(200).end(file);
          else res.writeHead(404).end();
          return;
        }
        const problem = signed || !ANONYMOUS.test(req.url ?? '') ? checkOAuth(req, this.clockOffsetSeconds) : undefined;
        const nonce = /oauth_nonce="([^"]*)"/.exec(req.headers.authorization ?? '')?.[1];
        if (nonce !== undefined && this.nonces.has(nonce)) this.authProblems.push(`nonce reused: ${nonce}`);
        if (nonce !== undefined) this.nonces.add(nonce);
        if (problem) {
          this.authProblems.push(`${req.method} ${req.url}: ${problem}`);
          res.writeHead(401, { Date: new Date(Date.now() + this.clockOffsetSeconds * 1000).toUTCString() }).end('Authorization Error');
          return;
        }
        const body = Buffer.concat(chunks);
        const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', signed, fields: {}, files: {} };
        const ctype = req.headers['content-type'] ?? '';
        if (req.method === 'POST' && ctype.startsWith('multipart/')) Object.assign(rec, parseMultipart(body, ctype));
        if (req.method === 'POST' && ctype === 'application/x-www-form-urlencoded') rec.fields = Object.fromEntries(new URLSearchParams(body.toString()));
        this.requests.push(rec);
        if (req.method === 'GET' && req.url?.startsWith('/MAAS/api/2.0/machines/?op=is_registered&')) {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('false');
        } else if (req.method === 'POST' && req.url === '/MAAS/api/2.0/machines/' && this.refuseEnlistmentPower && rec.fields['power_type']) {
          res.writeHead(this.refuseEnlistmentPower, { Date: new Date().toUTCString() }).end('An enlisting machine may not set webhook power URLs');
        } else if (req.method === 'POST' && req.url === '/MAAS/api/2.0/machines/') {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ system_id: SYSTEM_ID, status: 1 }));
        } else if (req.method === 'GET' && req.url === `/MAAS/metadata/latest/by-id/${SYSTEM_ID}/?op=get_preseed`) {
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end(this.preseed);
        } else if (req.method === 'GET' && req.url === '/MAAS/metadata/2012-03-01/maas-scripts') {
          const tar = this.tars.shift();
          if (!tar) res.writeHead(204).end();
          else res.writeHead(200, { 'Content-Type': 'application/x-tar' }).end(tar);
        } else if (req.method === 'POST' && req.url === '/MAAS/metadata/2012-03-01/' && rec.fields['op'] === 'signal') {
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
        } else {
          res.writeHead(404).end();
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/MAAS/metadata/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

const base = { timeoutSeconds: 0, parallel: 'disabled', hardwareType: 'node' } as const;

const BMC_SCRIPT = `#!/bin/sh
[ -n "$BMC_CONFIG_PATH" ] || exit 9
printf 'power_type: ipmi\\npower_address: 10.0.0.9\\npower_user: maas\\npower_pass: "s3cret"\\n' > "$BMC_CONFIG_PATH"
echo bmc written
`;

const commissioningTar = buildScriptsTarball([
  { ...base, scriptType: 'commissioning', name: '30-bmc', content: BMC_SCRIPT, scriptResultId: 11, scriptVersionId: 1 },
]);

const testing: TarballScript[] = [
  {
    ...base,
    scriptType: 'testing',
    name: 'a-pass',
    scriptResultId: 101,
    scriptVersionId: 7,
    content: '#!/bin/sh\necho "args:$*"\necho "to stderr" >&2\n[ -z "$BMC_CONFIG_PATH" ] && echo "no bmc path"\n',
    parameters: { greeting: { type: 'string', value: 'hi there', argument_format: '--greeting={input}', required: false } },
  },
  {
    ...base,
    scriptType: 'testing',
    name: 'b-yaml',
    scriptResultId: 102,
    scriptVersionId: 8,
    content: '#!/bin/sh\nprintf "status: degraded\\nresults:\\n  read_iops: 42\\n" > "$RESULT_PATH"\necho "runtime=$RUNTIME out=$(basename "$OUTPUT_STDOUT_PATH")"\n',
    parameters: { runtime: { type: 'runtime', value: 30, required: true } },
  },
  { ...base, scriptType: 'testing', name: 'c-fail', scriptResultId: 103, scriptVersionId: 9, content: '#!/bin/sh\necho failing\nexit 3\n' },
  { ...base, scriptType: 'testing', name: 'd-slow', scriptResultId: 104, scriptVersionId: 10, timeoutSeconds: 1, content: '#!/bin/sh\nsleep 30\n' },
];

const isHeartbeat = (r: Recorded) =>
  r.fields['status'] === 'WORKING' &&
  Object.keys(r.fields).every((k) => ['op', 'status', 'error'].includes(k)) &&
  (r.fields['error'] === undefined || r.fields['error'].startsWith('Elapsed time'));

describe('kiln-run-scripts.py against a fake metadata API', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-runner-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('commissions, reports BMC credentials, re-downloads, tests, and reports every result and the failure (§4.7)', async () => {
    const api = new FakeMetadataApi([commissioningTar, buildScriptsTarball(testing)]);
    const url = await api.start();
    try {
      const config = join(dir, 'creds.yaml');
      // The same YAML shape cloud-init and MAAS's runner read.
      writeFileSync(config, `datasource:\n  MAAS:\n    metadata_url: ${url}\n    consumer_key: ${CK}\n    token_key: ${TK}\n    token_secret: ${TS}\n`);
      // -S: no site-packages (no PyYAML, no oauthlib), proving the runner needs only the stdlib.
      const { code, stderr } = await run('python3', ['-S', RUNNER_SCRIPT_PATH, `--config=${config}`, '--heartbeat-interval=0.4', join(dir, 'work')]);
      expect({ code, stderr: code === 1 ? '' : stderr }).toEqual({ code: 1, stderr: '' });
    } finally {
      await api.stop();
    }
    expect(api.authProblems).toEqual([]);
    const reqs = api.requests;

    // 1. The first request is a plain WORKING heartbeat.
    expect(reqs[0]).toMatchObject({ method: 'POST', path: '/MAAS/metadata/2012-03-01/', fields: { op: 'signal', status: 'WORKING' } });
    expect(reqs[0]?.fields['error']).toBeUndefined();
    // Later heartbeats (every 0.4 s here; 120 s by default) carry the elapsed time.
    const beats = reqs.slice(1).filter(isHeartbeat);
    expect(beats.length).toBeGreaterThanOrEqual(1);
    for (const b of beats) expect(b.fields['error']).toMatch(/^Elapsed time \(real\): \d+\.\d+s$/);

    const talk = reqs.slice(1).filter((r) => !isHeartbeat(r));
    const summary = talk.map((r) => (r.method === 'GET' ? `GET ${r.path}` : `${r.fields['status']} ${r.fields['error'] ?? ''}`.trim()));
    expect(summary).toEqual([
      'GET /MAAS/metadata/2012-03-01/maas-scripts',
      'WORKING Starting 30-bmc (id: 11, script_version_id: 1)',
      'WORKING Finished 30-bmc (id: 11, script_version_id: 1): 0',
      'WORKING BMC credentials reconfigured by 30-bmc',
      'GET /MAAS/metadata/2012-03-01/maas-scripts',
      'TESTING',
      'WORKING Starting a-pass (id: 101, script_version_id: 7)',
      'WORKING Finished a-pass (id: 101, script_version_id: 7): 0',
      'WORKING Starting b-yaml (id: 102, script_version_id: 8)',
      'WORKING Finished b-yaml (id: 102, script_version_id: 8): 0',
      'WORKING Starting c-fail (id: 103, script_version_id: 9)',
      'WORKING Finished c-fail (id: 103, script_version_id: 9): 3',
      'WORKING Starting d-slow (id: 104, script_version_id: 10)',
      'TIMEDOUT Timeout(0:00:01) expired on d-slow (id: 104, script_version_id: 10)',
      'FAILED 2 test scripts failed to run',
    ]);

    const [, start, bmcDone, bmc, , , aStart, aDone, , bDone, , cDone, , dDone] = talk;
    expect(start?.fields).toEqual({ op: 'signal', status: 'WORKING', error: 'Starting 30-bmc (id: 11, script_version_id: 1)', script_result_id: '11', name: '30-bmc', script_version_id: '1' });
    expect(bmcDone?.files['30-bmc']).toBe('bmc written\n');
    expect(bmc?.fields['power_type']).toBe('ipmi');
    expect(JSON.parse(bmc?.fields['power_parameters'] ?? '')).toEqual({ power_address: '10.0.0.9', power_user: 'maas', power_pass: 's3cret' });

    expect(aStart?.fields).toMatchObject({ script_result_id: '101', name: 'a-pass', script_version_id: '7' });
    expect(Object.keys(aDone?.fields ?? {})).toEqual(['op', 'status', 'error', 'script_result_id', 'runtime', 'exit_status', 'name', 'script_version_id']);
    expect(aDone?.fields).toMatchObject({ exit_status: '0', name: 'a-pass', script_result_id: '101', script_version_id: '7' });
    expect(Number(aDone?.fields['runtime'])).toBeGreaterThan(0);
    // Parameters are rendered and split on whitespace; testing scripts get no BMC_CONFIG_PATH.
    expect(Object.keys(aDone?.files ?? {})).toEqual(['a-pass', 'a-pass.out', 'a-pass.err']);
    expect(aDone?.files['a-pass.out']).toBe('args:--greeting=hi there\nno bmc path\n');
    expect(aDone?.files['a-pass.err']).toBe('to stderr\n');
    // The combined output holds both streams; how they interleave depends on the scheduler.
    expect(aDone?.files['a-pass']?.split('\n').sort()).toEqual(['', 'args:--greeting=hi there', 'no bmc path', 'to stderr']);
    expect(bDone?.files['b-yaml.out']).toBe('runtime=30 out=b-yaml.102.out\n');
    const yaml = parseResultYaml(bDone?.files['b-yaml.yaml'] ?? '');
    expect(yaml).toEqual({ ok: true, value: { status: 'degraded', results: { read_iops: 42 }, extra: {} } });
    expect(cDone?.fields['exit_status']).toBe('3');
    expect(cDone?.files['c-fail']).toBe('failing\n');
    expect(dDone?.fields).toMatchObject({ status: 'TIMEDOUT', exit_status: '124', name: 'd-slow', script_result_id: '104' });
    expect(Number(dDone?.fields['runtime'])).toBeGreaterThanOrEqual(1);
    expect(Number(dDone?.fields['runtime'])).toBeLessThan(10);
  }, 60_000);

  it('runs from the rendered user-data as cloud-init would, and ends with OK', async () => {
    const api = new FakeMetadataApi([buildScriptsTarball([testing[0] as TarballScript])]);
    const url = await api.start();
    try {
      const userData = renderUserData({
        metadataUrl: url,
        credentials: { consumerKey: CK, tokenKey: TK, tokenSecret: TS },
        phase: 'testing',
        runner: loadRunnerScript(),
      });
      writeFileSync(join(dir, 'user-data'), userData);
      // Python's email parser is what cloud-init splits user-data with.
      const split = await run('python3', [
        '-c',
        'import email,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb")); ' +
          'p=[x for x in m.walk() if x.get_content_type()=="text/x-shellscript"]; assert len(p)==1 and p[0].get_filename()=="user_data.sh"; ' +
          'open(sys.argv[2],"wb").write(p[0].get_payload(decode=True))',
        join(dir, 'user-data'),
        join(dir, 'user_data.sh'),
      ]);
      expect(split).toEqual({ code: 0, stderr: '' });
      const { code, stderr } = await run('sh', [join(dir, 'user_data.sh')], { ...process.env, TMPDIR: dir });
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await api.stop();
    }
    expect(api.authProblems).toEqual([]);
    const last = api.requests[api.requests.length - 1];
    expect(last?.fields).toEqual({ op: 'signal', status: 'OK', error: 'All scripts successfully ran' });
    expect(api.requests.filter((r) => r.fields['status'] === 'TESTING')).toHaveLength(1);
  }, 60_000);

  it('runs serial scripts first, then each instance group together, then every "any" script together (§4.5)', async () => {
    const sleepy = '#!/bin/sh\nsleep 1\n';
    const t = (name: string, id: number, parallel: 'disabled' | 'instance' | 'any'): TarballScript => ({
      ...base,
      parallel,
      scriptType: 'testing',
      name,
      scriptResultId: id,
      scriptVersionId: 1,
      content: sleepy,
    });
    const api = new FakeMetadataApi([
      buildScriptsTarball([t('any-1', 41, 'any'), t('any-2', 42, 'any'), t('disk', 31, 'instance'), t('disk', 32, 'instance'), t('zz-serial', 21, 'disabled')]),
    ]);
    const url = await api.start();
    try {
      const { code, stderr } = await run('python3', [RUNNER_SCRIPT_PATH, `--url=${url}`, `--ckey=${CK}`, `--tkey=${TK}`, `--tsec=${TS}`, join(dir, 'work')]);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await api.stop();
    }
    expect(api.authProblems).toEqual([]);
    const steps = api.requests
      .filter((r) => r.fields['script_result_id'] !== undefined)
      .map((r) => `${(r.fields['error'] ?? '').split(' ')[0]} ${r.fields['script_result_id']}`);
    const at = (step: string) => steps.indexOf(step);
    expect(steps).toHaveLength(10);
    // The serial script, although last by name, runs alone and first.
    expect(steps.slice(0, 2)).toEqual(['Starting 21', 'Finished 21']);
    // Both instances of "disk" start before either finishes; the group ends before "any" starts.
    expect(Math.max(at('Starting 31'), at('Starting 32'))).toBeLessThan(Math.min(at('Finished 31'), at('Finished 32')));
    expect(Math.max(at('Finished 31'), at('Finished 32'))).toBeLessThan(Math.min(at('Starting 41'), at('Starting 42')));
    expect(Math.max(at('Starting 41'), at('Starting 42'))).toBeLessThan(Math.min(at('Finished 41'), at('Finished 42')));
  }, 60_000);

  it('enlists an unknown machine anonymously, then reports as the node it became (§4.10)', async () => {
    const enlistTar = buildScriptsTarball([
      { ...base, scriptType: 'commissioning', name: '30-bmc', content: BMC_SCRIPT },
      { ...base, scriptType: 'commissioning', name: 'zz-any', parallel: 'any', content: '#!/bin/sh\necho later\n' },
    ]);
    const nodeTar = buildScriptsTarball([
      { ...base, scriptType: 'commissioning', name: 'zz-any', parallel: 'any', scriptResultId: 21, scriptVersionId: 2, content: '#!/bin/sh\necho later\n' },
    ]);
    const api = new FakeMetadataApi([enlistTar, nodeTar]);
    const url = await api.start();
    // A full cloud-config, as MAAS's get_preseed answers it.
    api.preseed = [
      '#cloud-config',
      'manage_etc_hosts: true',
      'packages: [python3-yaml, python3-oauthlib]',
      'datasource:',
      '  MAAS:',
      `    consumer_key: ${CK}`,
      `    metadata_url: ${url}`,
      `    token_key: ${TK}`,
      `    token_secret: ${TS}`,
      'reporting:',
      '  maas: {type: webhook, endpoint: "http://x/"}',
      'power_state: {delay: now, mode: poweroff, timeout: 3600}',
      '',
    ].join('\n');
    const config = join(dir, 'enlist.cfg');
    writeFileSync(config, `datasource:\n  MAAS:\n    metadata_url: ${url}\n`);
    try {
      const { code, stderr } = await run('python3', ['-S', RUNNER_SCRIPT_PATH, `--config=${config}`, join(dir, 'work')]);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await api.stop();
    }
    expect(api.authProblems).toEqual([]);
    const talk = api.requests.filter((r) => !isHeartbeat(r));
    const summary = talk.map((r) => `${r.signed ? 'signed' : 'anonymous'} ${r.method} ${r.path.replace(/mac_address=[^&]*/, 'mac_address=…')} ${r.fields['status'] ?? ''} ${r.fields['error'] ?? ''}`.trim());
    expect(summary).toEqual([
      'anonymous GET /MAAS/api/2.0/machines/?op=is_registered&mac_address=…',
      'anonymous GET /MAAS/metadata/2012-03-01/maas-scripts',
      'anonymous POST /MAAS/api/2.0/machines/',
      `anonymous GET /MAAS/metadata/latest/by-id/${SYSTEM_ID}/?op=get_preseed`,
      'signed POST /MAAS/metadata/2012-03-01/ WORKING Finished 30-bmc (id: None, script_version_id: None): 0',
      'signed GET /MAAS/metadata/2012-03-01/maas-scripts',
      'signed POST /MAAS/metadata/2012-03-01/ WORKING Starting zz-any (id: 21, script_version_id: 2)',
      'signed POST /MAAS/metadata/2012-03-01/ WORKING Finished zz-any (id: 21, script_version_id: 2): 0',
      'signed GET /MAAS/metadata/2012-03-01/maas-scripts',
      'signed POST /MAAS/metadata/2012-03-01/ OK All scripts successfully ran',
    ]);
    const macs = readdirSync('/sys/class/net')
      .filter((n) => existsSync(`/sys/class/net/${n}/device`))
      .map((n) => readFileSync(`/sys/class/net/${n}/address`, 'utf8').trim())
      .sort();
    expect(new URLSearchParams(talk[0]?.path.split('?')[1]).get('mac_address')).toBe(macs.join(','));
    const created = talk[2]?.fields ?? {};
    expect(Object.keys(created)).toEqual(['architecture', 'mac_addresses', 'commission', 'power_type', 'power_parameters']);
    expect(created).toMatchObject({ mac_addresses: macs.join(','), commission: 'True', power_type: 'ipmi' });
    expect(created['architecture']).toMatch(/^(amd64|arm64|ppc64el|s390x|i386|riscv64)$/);
    expect(JSON.parse(created['power_parameters'] ?? '')).toEqual({ power_address: '10.0.0.9', power_user: 'maas', power_pass: 's3cret' });
    // The held-back result is sent by name (no ids) with its files.
    expect(talk[4]?.fields).toMatchObject({ name: '30-bmc', exit_status: '0' });
    expect(talk[4]?.fields['script_result_id']).toBeUndefined();
    expect(talk[4]?.files['30-bmc']).toBe('bmc written\n');
    // The runner keeps the preseed as its config, as MAAS's does.
    expect(readFileSync(config, 'utf8')).toBe(api.preseed);
  }, 60_000);

  it('enlists without its BMC at once when the region refuses the BMC it reported (403 or 400), without clock retries', async () => {
    for (const refusal of [403, 400]) {
      const enlistTar = buildScriptsTarball([{ ...base, scriptType: 'commissioning', name: '30-bmc', content: BMC_SCRIPT }]);
      const api = new FakeMetadataApi([enlistTar]);
      api.refuseEnlistmentPower = refusal;
      const url = await api.start();
      api.preseed = ['#cloud-config', 'datasource:', '  MAAS:', `    consumer_key: ${CK}`, `    metadata_url: ${url}`, `    token_key: ${TK}`, `    token_secret: ${TS}`, ''].join('\n');
      const config = join(dir, `enlist-${refusal}.cfg`);
      writeFileSync(config, `datasource:\n  MAAS:\n    metadata_url: ${url}\n`);
      const t = Date.now();
      try {
        const { code, stderr } = await run('python3', ['-S', RUNNER_SCRIPT_PATH, `--config=${config}`, join(dir, `work-${refusal}`)]);
        expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      } finally {
        await api.stop();
      }
      // An unsigned request's 403 is an answer, not a clock to correct: no minute of retries.
      expect(Date.now() - t).toBeLessThan(15_000);
      const posts = api.requests.filter((r) => r.method === 'POST' && r.path === '/MAAS/api/2.0/machines/');
      expect(posts.map((r) => r.fields['power_type'] ?? '-')).toEqual(['ipmi', '-']);
    }
  }, 60_000);

  it('installs url packages into DOWNLOAD_PATH and renders storage and interface parameters (§5.2, §5.3)', async () => {
    const nic = readdirSync('/sys/class/net').find((n) => existsSync(`/sys/class/net/${n}/device`)) ?? 'lo';
    const mac = readFileSync(`/sys/class/net/${nic}/address`, 'utf8').trim();
    const api = new FakeMetadataApi([]);
    const url = await api.start();
    const origin = new URL(url).origin;
    writeFileSync(join(dir, 'tool.sh'), 'echo from the tool\n');
    api.files['tool.tar'] = execFileSync('tar', ['-cf', '-', '-C', dir, 'tool.sh']);
    api.tars.push(
      buildScriptsTarball([
        {
          ...base,
          scriptType: 'testing',
          hardwareType: 'storage',
          name: 'p-params',
          scriptResultId: 51,
          scriptVersionId: 1,
          content: '#!/bin/sh\necho "args:$*"\nsh "$DOWNLOAD_PATH/tool.sh"\n',
          packages: { url: [`${origin}/files/tool.tar`] },
          parameters: {
            storage: { type: 'storage', value: { id: 1, name: 'sdz', id_path: '/dev/disk/by-id/kiln-test-disk', model: '', serial: '' } },
            nic: { type: 'interface', argument_format: '--nic={name} --mac={mac_address}', value: { id: 2, name: 'renamed0', mac_address: mac, vendor: 'v', product: 'p' } },
          },
        },
        {
          ...base,
          scriptType: 'testing',
          name: 'q-badpkg',
          scriptResultId: 52,
          scriptVersionId: 1,
          content: '#!/bin/sh\necho never runs\n',
          packages: { url: [`${origin}/files/missing.tar`] },
        },
      ]),
    );
    try {
      const { code, stderr } = await run('python3', [RUNNER_SCRIPT_PATH, `--url=${url}`, `--ckey=${CK}`, `--tkey=${TK}`, `--tsec=${TS}`, join(dir, 'work')]);
      expect({ code, stderr: code === 1 ? '' : stderr }).toEqual({ code: 1, stderr: '' });
    } finally {
      await api.stop();
    }
    expect(api.authProblems).toEqual([]);
    const talk = api.requests.filter((r) => r.fields['script_result_id'] !== undefined || r.fields['status'] === 'FAILED');
    expect(talk.map((r) => `${r.fields['status']} ${(r.fields['error'] ?? '').split(' (')[0]}`)).toEqual([
      'WORKING Starting p-params',
      'INSTALLING Installing packages for p-params',
      'WORKING Finished p-params',
      'WORKING Starting q-badpkg',
      'INSTALLING Installing packages for q-badpkg',
      'WORKING Failed installing package(s) for q-badpkg',
      'FAILED 1 test scripts failed to run',
    ]);
    const pDone = talk[2];
    expect(pDone?.fields['exit_status']).toBe('0');
    // The interface is named as it is now (found by MAC); the storage path falls back to id_path.
    expect(pDone?.files['p-params.out']).toBe(`args:--nic=${nic} --mac=${mac} --storage=/dev/disk/by-id/kiln-test-disk\nfrom the tool\n`);
    expect(talk[5]?.fields['exit_status']).toBe('1');
    expect(talk[5]?.files['q-badpkg.err']).toMatch(/missing\.tar: HTTP Error 404/);
  }, 60_000);

  it("corrects its clock from the Date header of a 401 and carries on (§3.3)", async () => {
    const api = new FakeMetadataApi([]);
    api.clockOffsetSeconds = 3600;
    const url = await api.start();
    try {
      const { code, stderr } = await run('python3', [RUNNER_SCRIPT_PATH, `--url=${url}`, `--ckey=${CK}`, `--tkey=${TK}`, `--tsec=${TS}`, join(dir, 'work')]);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await api.stop();
    }
    // Only the first request is refused; every later one carries the region's time.
    expect(api.authProblems).toEqual(['POST /MAAS/metadata/2012-03-01/: stale timestamp']);
    expect(api.requests.map((r) => r.fields['status'] ?? r.method)).toEqual(['WORKING', 'GET', 'OK']);
  }, 60_000);

  it('finds its datasource through the cloud-config-url of the kernel command line, as MAAS user-data does', async () => {
    const api = new FakeMetadataApi([]);
    const url = await api.start();
    api.files['preseed'] = Buffer.from(`#cloud-config\ndatasource:\n  MAAS:\n    metadata_url: ${url}\n    consumer_key: ${CK}\n    token_key: ${TK}\n    token_secret: ${TS}\n`);
    const cmdline = `BOOT_IMAGE=/vmlinuz ro ip=::::node1:BOOTIF:dhcp cloud-config-url=${new URL(url).origin}/files/preseed overlayroot=tmpfs`;
    try {
      const { code, stderr } = await run('python3', [
        '-S',
        '-c',
        'import runpy,sys,json; m=runpy.run_path(sys.argv[1]); print(json.dumps(m["config_from_cmdline"](sys.argv[2])), file=sys.stderr)',
        RUNNER_SCRIPT_PATH,
        cmdline,
      ]);
      expect(code).toBe(0);
      expect(JSON.parse(stderr)).toEqual({ metadata_url: url, consumer_key: CK, token_key: TK, token_secret: TS });
    } finally {
      await api.stop();
    }
  }, 60_000);

  it('runs the built-in commissioning scripts of the catalogue and uploads their output', async () => {
    const pick = (name: string, id: number) => {
      const script = builtinScript(name);
      if (!script) throw new Error(`no built-in ${name}`);
      return tarballEntry(script, { scriptResultId: id, scriptVersionId: 1, default: true });
    };
    const api = new FakeMetadataApi([
      buildScriptsTarball([pick('30-maas-01-bmc-config', 61), pick('50-maas-01-commissioning', 62), pick('maas-kernel-cmdline', 63)]),
    ]);
    const url = await api.start();
    // The BMC script finds no BMC through these stand-ins, whatever this host has.
    const stubs = join(dir, 'bin');
    mkdirSync(stubs);
    writeFileSync(join(stubs, 'ipmitool'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    writeFileSync(join(stubs, 'dmidecode'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    try {
      const env = { ...process.env, PATH: `${stubs}:${process.env['PATH'] ?? ''}` };
      const { code, stderr } = await run('python3', [RUNNER_SCRIPT_PATH, `--url=${url}`, `--ckey=${CK}`, `--tkey=${TK}`, `--tsec=${TS}`, join(dir, 'work')], env);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await api.stop();
    }
    expect(api.authProblems).toEqual([]);
    const done = api.requests.filter((r) => r.fields['exit_status'] !== undefined);
    // The serial BMC script first, then the two "any" scripts together, in either order.
    expect(done[0]?.fields['name']).toBe('30-maas-01-bmc-config');
    const byName = new Map(done.map((r) => [r.fields['name'], r]));
    expect([...byName.keys()].sort()).toEqual(['30-maas-01-bmc-config', '50-maas-01-commissioning', 'maas-kernel-cmdline']);
    for (const r of done) expect(r.fields['exit_status']).toBe('0');
    // The BMC script ran with its parameters' defaults rendered as arguments, and found no BMC here.
    expect(byName.get('30-maas-01-bmc-config')?.files['30-maas-01-bmc-config.out']).toMatch(/Virtual machine or container|No BMC detected/);
    const inventory = JSON.parse(byName.get('50-maas-01-commissioning')?.files['50-maas-01-commissioning.out'] ?? '') as { resources: { cpu: { total: number } } };
    expect(inventory.resources.cpu.total).toBe(Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim()));
    expect(byName.get('maas-kernel-cmdline')?.files['maas-kernel-cmdline.out']).toBe(readFileSync('/proc/cmdline', 'utf8'));
    expect(api.requests[api.requests.length - 1]?.fields).toEqual({ op: 'signal', status: 'OK', error: 'All scripts successfully ran' });
  }, 60_000);
});
