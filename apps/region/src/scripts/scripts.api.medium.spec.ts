import { builtinScripts } from '@kiln/scripts';
import { ApiKey, RegionHarness } from '../testing/region.harness';

const API = '/MAAS/api/2.0';
type Script = Record<string, unknown> & { id: number; name: string; history: { id: number; comment: string; created: string; data?: string }[] };

/** A body as the maas CLI sends it: every part base64-encoded; `files` as `name@=path` uploads. */
function cliMultipart(fields: Record<string, string>, files: Record<string, string> = {}) {
  const boundary = '===============5172693394715307093==';
  let raw = '';
  for (const [name, value] of Object.entries(fields)) {
    raw += `--${boundary}\r\nContent-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${Buffer.from(value).toString('base64')}\r\n`;
  }
  for (const [name, text] of Object.entries(files)) {
    raw += `--${boundary}\r\nContent-Type: application/octet-stream\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.sh"\r\n\r\n${Buffer.from(text).toString('base64')}\r\n`;
  }
  return { raw: `${raw}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary="${boundary}"` };
}

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} -0000$/;

const FAN_CHECK = `#!/bin/bash
# --- Start MAAS 1.0 script metadata ---
# name: fan-check
# title: Fan check
# description: Checks that the fans spin.
# tags: [fans, quick]
# script_type: testing
# hardware_type: node
# timeout: 00:02:00
# destructive: false
# packages: {apt: lm-sensors}
# parameters:
#   runtime: {type: runtime, min: 10, default: 60}
# results:
#   rpm: {title: Fan speed, description: Revolutions per minute}
# --- End MAAS 1.0 script metadata ---
sensors
`;

describe('scripts/ against a real region', () => {
  let h: RegionHarness;
  let admin: ApiKey;
  let alice: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
    alice = await h.createUser('alice', false);
  });
  afterAll(() => h.stop());

  it('lists the built-in scripts, filtered by type, hardware type and name or tag', async () => {
    const all = await h.call(alice, 'GET', `${API}/scripts/`);
    expect(all.status).toBe(200);
    const scripts = all.json() as Script[];
    expect(scripts.map((s) => s.name).sort()).toEqual(builtinScripts().map((s) => s.name).sort());
    const memtester = scripts.find((s) => s.name === 'memtester')!;
    expect(Object.keys(memtester).sort()).toEqual(
      [
        'id', 'name', 'title', 'description', 'tags', 'type', 'type_name', 'hardware_type', 'hardware_type_name', 'parallel',
        'parallel_name', 'results', 'parameters', 'packages', 'timeout', 'destructive', 'for_hardware', 'may_reboot',
        'recommission', 'history', 'default', 'apply_configured_networking', 'resource_uri',
      ].sort(),
    );
    expect(memtester).toMatchObject({
      type: 2,
      type_name: 'Testing script',
      hardware_type: 2,
      hardware_type_name: 'Memory',
      default: true,
      resource_uri: `${API}/scripts/memtester`,
    });
    expect(memtester.timeout).toMatch(/^\d+:\d{2}:\d{2}$/);
    expect(memtester.history).toHaveLength(1);
    expect(memtester.history[0].created).toMatch(RFC2822);
    expect(memtester.history[0]).not.toHaveProperty('data');

    const memory = (await h.call(alice, 'GET', `${API}/scripts/?type=testing&hardware_type=memory`)).json() as Script[];
    expect(memory.length).toBeGreaterThan(0);
    expect(memory.every((s) => s.type === 2 && s.hardware_type === 2)).toBe(true);
    const commissioning = (await h.call(alice, 'GET', `${API}/scripts/?type=0`)).json() as Script[];
    expect(commissioning.map((s) => s.name)).toContain('50-maas-01-commissioning');
    expect(commissioning.every((s) => s.type === 0)).toBe(true);

    const filtered = (await h.call(alice, 'GET', `${API}/scripts/?filters=memtester,bmc-config&include_script=true`)).json() as Script[];
    expect(filtered.map((s) => s.name).sort()).toEqual(['30-maas-01-bmc-config', 'memtester']);
    const text = Buffer.from(filtered.find((s) => s.name === 'memtester')!.history[0].data!, 'base64').toString();
    expect(text).toBe(builtinScripts().find((s) => s.name === 'memtester')!.text);

    const bad = await h.call(alice, 'GET', `${API}/scripts/?type=sometimes`);
    expect(bad.status).toBe(400);
    expect((await h.call(alice, 'GET', `${API}/scripts/?hardware_type=9`)).status).toBe(400);
  });

  it('creates a script from a maas CLI upload, the embedded YAML filling in every field', async () => {
    const denied = await h.call(alice, 'POST', `${API}/scripts/`, cliMultipart({ name: 'x' }, { script: FAN_CHECK }));
    expect(denied.status).toBe(403);

    const r = await h.call(admin, 'POST', `${API}/scripts/`, cliMultipart({ comment: 'first cut' }, { script: FAN_CHECK }));
    expect(r.status).toBe(200);
    const s = r.json() as Script;
    expect(s).toEqual({
      id: expect.any(Number),
      name: 'fan-check',
      title: 'Fan check',
      description: 'Checks that the fans spin.',
      tags: ['fans', 'quick'],
      type: 2,
      type_name: 'Testing script',
      hardware_type: 0,
      hardware_type_name: 'Node',
      parallel: 0,
      parallel_name: 'Disabled',
      results: { rpm: { title: 'Fan speed', description: 'Revolutions per minute' } },
      parameters: { runtime: expect.objectContaining({ type: 'runtime', min: 10, default: 60 }) },
      packages: expect.objectContaining({ apt: ['lm-sensors'] }),
      timeout: '0:02:00',
      destructive: false,
      for_hardware: [],
      may_reboot: false,
      recommission: false,
      history: [{ id: expect.any(Number), comment: 'first cut', created: expect.stringMatching(RFC2822) }],
      default: false,
      apply_configured_networking: false,
      resource_uri: `${API}/scripts/fan-check`,
    });
    // By name and by id, the same document.
    expect((await h.call(alice, 'GET', `${API}/scripts/fan-check`)).json()).toEqual(s);
    expect((await h.call(alice, 'GET', `${API}/scripts/${s.id}/`)).json()).toEqual(s);
    const download = await h.call(alice, 'GET', `${API}/scripts/fan-check?op=download`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/binary');
    expect(download.text).toBe(FAN_CHECK);
  });

  it('takes the request values where the YAML is silent, and names a single uploaded file after its field', async () => {
    const plain = '#!/bin/sh\necho plain\n';
    const r = await h.call(
      admin,
      'POST',
      `${API}/scripts/`,
      cliMultipart(
        { title: 'Plain', tags: 'a,b', type: 'commissioning', hardware_type: 'storage', parallel: 'any', timeout: '90', destructive: 'True', for_hardware: 'pci:8086:1572,usb:174c:07d1', may_reboot: '1' },
        { 'plain-one': plain },
      ),
    );
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({
      name: 'plain-one',
      title: 'Plain',
      tags: ['a', 'b'],
      type: 0,
      type_name: 'Commissioning script',
      hardware_type: 3,
      hardware_type_name: 'Storage',
      parallel: 2,
      parallel_name: 'Run along any other script.',
      timeout: '0:01:30',
      destructive: true,
      for_hardware: ['pci:8086:1572', 'usb:174c:07d1'],
      may_reboot: true,
      results: {},
      parameters: {},
    });
  });

  it('refuses what MAAS refuses, field by field', async () => {
    const cases: [Record<string, string>, Record<string, string>, Record<string, string[]>][] = [
      [{ name: 'noshebang' }, { script: 'echo hi\n' }, { script: ['Must start with shebang.'] }],
      [{}, { script: FAN_CHECK.replace('name: fan-check', 'name: fan-check-2').replace('hardware_type: node', 'hardware_type: cpu') }, {}],
      [{ hardware_type: 'memory' }, { script: FAN_CHECK.replace('name: fan-check', 'name: fan-check-3') }, { hardware_type: ['May not override values defined in embedded YAML.'] }],
      [{ name: 'none' }, { script: '#!/bin/sh\n' }, { name: ['"none" is a reserved name.'] }],
      [{ name: '1234' }, { script: '#!/bin/sh\n' }, { name: [expect.any(String) as unknown as string] }],
      [{ name: 'two words' }, { script: '#!/bin/sh\n' }, { name: [expect.any(String) as unknown as string] }],
      [{ name: 'fan-check' }, { script: '#!/bin/sh\n' }, { name: ['Script with this Name already exists.'] }],
      [{ name: 'no-text' }, {}, { script: ['This field is required.'] }],
      [{ name: 'bad-hw', for_hardware: 'pci:zz' }, { script: '#!/bin/sh\n' }, { for_hardware: [expect.stringContaining("Hardware identifier 'pci:zz'") as unknown as string] }],
      [{ name: 'bad-timeout', timeout: 'soon' }, { script: '#!/bin/sh\n' }, { timeout: ['Enter a valid duration.'] }],
    ];
    for (const [fields, files, errors] of cases) {
      const r = await h.call(admin, 'POST', `${API}/scripts/`, cliMultipart(fields, files));
      if (!Object.keys(errors).length) {
        // Agreeing with the YAML is fine: a script whose YAML sets a field the request does not.
        expect(r.status).toBe(200);
        continue;
      }
      expect({ fields, status: r.status, body: r.json() }).toEqual({ fields, status: 400, body: errors });
    }
    const agreeing = await h.call(admin, 'POST', `${API}/scripts/`, cliMultipart({ hardware_type: 'node', destructive: 'false' }, { script: FAN_CHECK.replace('name: fan-check', 'name: fan-check-4') }));
    expect(agreeing.status).toBe(200);
    const comment = await h.call(admin, 'PUT', `${API}/scripts/fan-check`, { comment: 'no script' });
    expect(comment.status).toBe(400);
    expect(comment.json()).toEqual({ comment: ['"comment" may only be used when specifying a "script" as well.'] });
  });

  it('keeps every revision: update, history, download by revision, revert by offset and by id', async () => {
    const v1 = '#!/bin/sh\necho one\n';
    const created = (await h.call(admin, 'POST', `${API}/scripts/`, cliMultipart({ name: 'revs', comment: 'one' }, { script: v1 }))).json() as Script;
    const v2 = '#!/bin/sh\necho two\n';
    const v3 = '#!/bin/sh\r\necho three\r\n';
    const put = (fields: Record<string, string>, script?: string) =>
      h.call(admin, 'PUT', `${API}/scripts/revs`, cliMultipart(fields, script === undefined ? {} : { script }));
    expect((await put({ comment: 'two' }, v2)).status).toBe(200);
    const third = (await put({ comment: 'three', title: 'Revisions' }, v3)).json() as Script;
    expect(third.title).toBe('Revisions');
    expect(third.history.map((v) => v.comment)).toEqual(['three', 'two', 'one']);
    expect(third.history[2].id).toBe(created.history[0].id);
    // The same text again is not a new revision; a field-only update keeps the text.
    expect(((await put({ comment: 'same' }, v3)).json() as Script).history).toHaveLength(3);
    expect(((await put({ description: 'only a field' })).json() as Script).history).toHaveLength(3);

    const [r3, r2, r1] = third.history.map((v) => v.id);
    expect((await h.call(admin, 'GET', `${API}/scripts/revs?op=download`)).text).toBe('#!/bin/sh\necho three\n');
    expect((await h.call(admin, 'GET', `${API}/scripts/revs?op=download&revision=${r1}`)).text).toBe(v1);
    expect((await h.call(admin, 'GET', `${API}/scripts/revs?op=download&rev=${r2}`)).text).toBe(v2);
    const missing = await h.call(admin, 'GET', `${API}/scripts/revs?op=download&revision=999999`);
    expect(missing.status).toBe(400);
    expect(missing.text).toBe('999999 not found in history');

    expect((await h.call(alice, 'POST', `${API}/scripts/revs?op=revert`, { to: '-1' })).status).toBe(403);
    expect((await h.call(admin, 'POST', `${API}/scripts/revs?op=revert`)).text).toBe('No provided to!');
    expect((await h.call(admin, 'POST', `${API}/scripts/revs?op=revert`, { to: '-3' })).text).toBe('Goes too far back.');
    const back = await h.call(admin, 'POST', `${API}/scripts/revs?op=revert`, { to: '-1' });
    expect(back.status).toBe(200);
    expect((back.json() as Script).history.map((v) => v.id)).toEqual([r2, r1]);
    expect((await h.call(admin, 'GET', `${API}/scripts/revs?op=download`)).text).toBe(v2);
    // The revision reverted over is gone for good.
    expect((await h.call(admin, 'GET', `${API}/scripts/revs?op=download&revision=${r3}`)).status).toBe(400);
    const byId = await h.call(admin, 'POST', `${API}/scripts/revs?op=revert`, { to: String(r1) });
    expect((byId.json() as Script).history.map((v) => v.id)).toEqual([r1]);
    expect((await h.call(admin, 'GET', `${API}/scripts/revs?op=download`)).text).toBe(v1);
    expect((await h.call(admin, 'POST', `${API}/scripts/revs?op=revert`, { to: String(r3) })).text).toBe(`${r3} not found in history`);
  });

  it('lets built-in scripts change only their tags and timeout, and keeps them', async () => {
    const ok = await h.call(admin, 'PUT', `${API}/scripts/memtester`, { tags: 'memory,mine', timeout: '01:00:00' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ tags: ['memory', 'mine'], timeout: '1:00:00', default: true });
    const title = await h.call(admin, 'PUT', `${API}/scripts/memtester`, { title: 'Mine now' });
    expect(title.status).toBe(400);
    expect(title.json()).toEqual({ title: ['Not allowed to change on default scripts.'] });
    const text = await h.call(admin, 'PUT', `${API}/scripts/memtester`, cliMultipart({}, { script: '#!/bin/sh\n' }));
    expect(text.status).toBe(400);
    expect(text.json()).toHaveProperty('script', ['Not allowed to change on default scripts.']);
    const del = await h.call(admin, 'DELETE', `${API}/scripts/memtester`);
    expect(del.status).toBe(400);
    expect(del.text).toBe('Unable to delete default script');
    const revert = await h.call(admin, 'POST', `${API}/scripts/memtester?op=revert`, { to: '-1' });
    expect(revert.status).toBe(400);
    expect(revert.text).toBe('Unable to revert default script');
  });

  it('adds and removes tags, and deletes custom scripts', async () => {
    expect((await h.call(alice, 'POST', `${API}/scripts/fan-check?op=add_tag`, { tag: 'x' })).status).toBe(403);
    const added = await h.call(admin, 'POST', `${API}/scripts/fan-check?op=add_tag`, { tag: 'hot' });
    expect((added.json() as Script).tags).toEqual(['fans', 'quick', 'hot']);
    expect((await h.call(admin, 'POST', `${API}/scripts/fan-check?op=add_tag`, { tag: 'a,b' })).text).toBe('Tag may not contain a ",".');
    expect((await h.call(admin, 'POST', `${API}/scripts/fan-check?op=add_tag`)).text).toBe('No provided tag!');
    const removed = await h.call(admin, 'POST', `${API}/scripts/fan-check?op=remove_tag`, { tag: 'quick' });
    expect((removed.json() as Script).tags).toEqual(['fans', 'hot']);

    expect((await h.call(alice, 'DELETE', `${API}/scripts/fan-check`)).status).toBe(403);
    const del = await h.call(admin, 'DELETE', `${API}/scripts/fan-check`);
    expect(del.status).toBe(204);
    const gone = await h.call(admin, 'GET', `${API}/scripts/fan-check`);
    expect(gone.status).toBe(404);
    expect(gone.text).toBe('No Script matches the given query.');
    expect((await h.call(admin, 'GET', `${API}/scripts/987654`)).status).toBe(404);
  });

  it('describes both handlers with MAAS names, paths and ops', async () => {
    const d = (await h.call(null, 'GET', `${API}/describe/`)).json() as {
      resources: { name: string; auth: { path: string; actions: { name: string; method: string }[] } | null }[];
    };
    const collection = d.resources.find((r) => r.name === 'NodeScriptsHandler')!.auth!;
    expect(collection.path).toBe(`${API}/scripts/`);
    expect(collection.actions.map((a) => a.name)).toEqual(['create', 'read']);
    const item = d.resources.find((r) => r.name === 'NodeScriptHandler')!.auth!;
    expect(item.path).toBe(`${API}/scripts/{name}`);
    expect(item.actions.map((a) => `${a.method} ${a.name}`)).toEqual([
      'POST add_tag',
      'DELETE delete',
      'GET download',
      'GET read',
      'POST remove_tag',
      'POST revert',
      'PUT update',
    ]);
  });
});
