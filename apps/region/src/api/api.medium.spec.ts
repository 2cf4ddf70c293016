import { ApiKey, RegionHarness } from '../testing/region.harness';

/** The API layer against a real region: routing, op dispatch, describe/, OAuth and error bodies. */
describe('MAAS API 2.0 layer', () => {
  let h: RegionHarness;
  let admin: ApiKey;

  beforeAll(async () => {
    h = await RegionHarness.start();
    admin = await h.createUser('admin', true);
  });
  afterAll(() => h.stop());

  it('serves version/ anonymously with the capabilities clients require', async () => {
    const r = await h.call(null, 'GET', '/MAAS/api/2.0/version/');
    expect(r.status).toBe(200);
    expect((r.json() as { capabilities: string[] }).capabilities).toEqual(expect.arrayContaining(['authenticate-api', 'networks-management']));
    expect((await h.call(null, 'GET', '/MAAS/api/version/')).text).toBe('2.0');
    const old = await h.call(null, 'GET', '/MAAS/api/1.0/machines/');
    expect(old.status).toBe(410);
  });

  it('describes the API from the same definitions that route it', async () => {
    const r = await h.call(null, 'GET', '/MAAS/api/2.0/describe/');
    expect(r.headers.get('content-type')).toBe('application/json');
    const d = r.json() as {
      doc: string;
      hash: string;
      resources: { name: string; anon: null | { name: string }; auth: null | { path: string; uri: string; params: string[]; actions: { name: string; op: string | null; method: string; restful: boolean; doc: string }[] } }[];
    };
    expect(d.doc).toBe('MAAS API');
    expect(d.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(r.headers.get('x-maas-api-hash')).toBe(d.hash);
    const names = d.resources.map((x) => x.name);
    expect(names).toEqual([...names].sort());
    for (const n of ['MachineHandler', 'MachinesHandler', 'UsersHandler', 'AccountHandler', 'EventsHandler', 'TagsHandler', 'ZonesHandler', 'ResourcePoolsHandler', 'RackControllersHandler', 'SSHKeysHandler', 'VersionHandler']) {
      expect(names).toContain(n);
    }
    const machine = d.resources.find((x) => x.name === 'MachineHandler')!.auth!;
    expect(machine.path).toBe('/MAAS/api/2.0/machines/{system_id}/');
    expect(machine.uri).toBe(`${h.baseUrl}/MAAS/api/2.0/machines/{system_id}/`);
    expect(machine.params).toEqual(['system_id']);
    const deploy = machine.actions.find((a) => a.name === 'deploy')!;
    expect(deploy).toMatchObject({ op: 'deploy', method: 'POST', restful: false });
    expect(deploy.doc).toContain(':param distro_series:');
    const read = machine.actions.find((a) => a.name === 'read')!;
    expect(read).toMatchObject({ op: null, method: 'GET', restful: true });
    expect(d.resources.find((x) => x.name === 'MachinesHandler')!.anon!.name).toBe('AnonMachinesHandler');
    // Every documented action is routable: each POST op answers something other than "Unrecognised signature".
    for (const res of d.resources) {
      for (const a of res.auth?.actions ?? []) {
        if (a.op === null || !res.auth!.params.length) continue;
        const path = res.auth!.path.replace(/\{\w+\}/g, 'nosuchthing');
        const reply = await h.call(admin, a.method, `${path}?op=${a.op}`);
        expect(reply.text).not.toContain('Unrecognised signature');
      }
    }
  });

  it('answers unknown endpoints, ops and methods as MAAS does', async () => {
    const unknown = await h.call(admin, 'GET', '/MAAS/api/2.0/nonsense/');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('Unknown API endpoint: /MAAS/api/2.0/nonsense/.');
    const op = await h.call(admin, 'POST', '/MAAS/api/2.0/machines/?op=frobnicate');
    expect(op.status).toBe(400);
    expect(op.text).toBe('Unrecognised signature: method=POST op=frobnicate');
    const method = await h.call(admin, 'DELETE', '/MAAS/api/2.0/machines/');
    expect(method.status).toBe(405);
    // An empty op is no op (MAAS reads `op` with `or`): POST zones/?op= creates, as Juju's client sends it.
    const emptyOp = await h.call(admin, 'POST', '/MAAS/api/2.0/zones/?op=', { name: 'empty-op-zone' });
    expect(emptyOp.status).toBe(200);
    expect(emptyOp.json()).toMatchObject({ name: 'empty-op-zone' });
  });

  it('accepts op in the query, in the body and as an /op-<name> suffix, with and without trailing slashes', async () => {
    expect((await h.call(admin, 'GET', '/MAAS/api/2.0/users/?op=whoami')).status).toBe(200);
    expect((await h.call(admin, 'GET', '/MAAS/api/2.0/users?op=whoami')).status).toBe(200);
    expect((await h.call(admin, 'GET', '/MAAS/api/2.0/users/op-whoami')).status).toBe(200);
    const body = await h.call(admin, 'POST', '/MAAS/api/2.0/account/', { op: 'create_authorisation_token', name: 'via-body' });
    expect(body.status).toBe(200);
    expect(body.json()).toMatchObject({ name: 'via-body' });
  });

  describe('OAuth', () => {
    it('refuses anonymous access to authenticated resources with 401, WWW-Authenticate and Date', async () => {
      const r = await h.call(null, 'GET', '/MAAS/api/2.0/machines/');
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('OAuth realm="OAuth"');
      expect(Date.parse(r.headers.get('date')!)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('accepts the header forms of the maas CLI, python-libmaas and Go clients', async () => {
      for (const realm of [undefined, 'OAuth', 'MAAS+API']) {
        const r = await h.call(null, 'GET', '/MAAS/api/2.0/users/?op=whoami', undefined, {
          authorization: RegionHarness.oauthHeader(admin, { realm }),
        });
        expect(r.status).toBe(200);
      }
      // Go clients put the parameters in random order.
      const shuffled = `OAuth oauth_token="${admin.tokenKey}",oauth_nonce="123",oauth_signature="%26${admin.tokenSecret}",oauth_consumer_key="${admin.consumerKey}",oauth_signature_method="PLAINTEXT",oauth_timestamp="${Math.floor(Date.now() / 1000)}",realm="MAAS+API",oauth_version="1.0"`;
      expect((await h.call(null, 'GET', '/MAAS/api/2.0/users/?op=whoami', undefined, { authorization: shuffled })).status).toBe(200);
    });

    it('refuses a wrong secret, an unknown token, an old timestamp and a replayed nonce', async () => {
      const call = (authorization: string) => h.call(null, 'GET', '/MAAS/api/2.0/users/?op=whoami', undefined, { authorization });
      const wrong = await call(RegionHarness.oauthHeader(admin, { signature: '%26nope' }));
      expect(wrong.status).toBe(401);
      expect(wrong.text).toMatch(/^Authorization Error: /);
      const unknown = await call(RegionHarness.oauthHeader({ ...admin, tokenKey: 'NoSuchToken1234567' }));
      expect(unknown.status).toBe(401);
      expect(unknown.text).toContain('Invalid access token');
      const old = await call(RegionHarness.oauthHeader(admin, { timestamp: Math.floor(Date.now() / 1000) - 301 }));
      expect(old.status).toBe(401);
      expect(old.text).toContain('Expired timestamp');
      const header = RegionHarness.oauthHeader(admin, { nonce: 'replay-me' });
      expect((await call(header)).status).toBe(200);
      const replay = await call(header);
      expect(replay.status).toBe(401);
      expect(replay.text).toContain('Nonce already used');
      const badTs = await call(RegionHarness.oauthHeader(admin, { timestamp: 'abc' as unknown as number }));
      expect(badTs.status).toBe(400);
    });
  });

  it('decodes the maas CLI multipart body with base64 parts', async () => {
    const boundary = '===============8394773221873961742==';
    const part = (name: string, value: string) =>
      `--${boundary}\r\nContent-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${Buffer.from(value).toString('base64')}\r\n`;
    const raw = `${part('name', 'from-the-cli')}${part('description', 'made by the maas CLI')}--${boundary}--\r\n`;
    const r = await h.call(admin, 'POST', '/MAAS/api/2.0/zones/', { raw, contentType: `multipart/form-data; boundary="${boundary}"` });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ name: 'from-the-cli', description: 'made by the maas CLI', resource_uri: '/MAAS/api/2.0/zones/from-the-cli/' });
    // python-libmaas sends an empty multipart body when there are no parameters.
    const empty = await h.call(admin, 'POST', '/MAAS/api/2.0/account/?op=create_authorisation_token', {
      raw: `--B\r\n\r\n--B--`,
      contentType: 'multipart/form-data; boundary=B',
    });
    expect(empty.status).toBe(200);
  });

  it('answers malformed bodies with a 400 and never a stack trace', async () => {
    const cases = [
      { raw: '--X\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end', contentType: 'multipart/form-data; boundary=X' },
      { raw: '{"name": ', contentType: 'application/json' },
      { raw: 'a=%ZZ', contentType: 'application/x-www-form-urlencoded' },
      { raw: '\u0000\u0001binary', contentType: 'application/x-unknown' },
    ];
    for (const body of cases) {
      const r = await h.call(admin, 'POST', '/MAAS/api/2.0/zones/', body);
      expect(r.status).toBe(400);
      expect(r.text).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
    }
  });

  it('manages users, tokens and SSH keys; non-admins cannot create users', async () => {
    const created = await h.call(admin, 'POST', '/MAAS/api/2.0/users/', { username: 'carol', email: 'carol@example.com', password: 'x', is_superuser: '0' });
    expect(created.status).toBe(200);
    expect(created.json()).toMatchObject({ username: 'carol', is_superuser: false });
    const dup = await h.call(admin, 'POST', '/MAAS/api/2.0/users/', { username: 'carol', email: 'c@example.com', password: 'x', is_superuser: '0' });
    expect(dup.status).toBe(400);
    expect(dup.json()).toHaveProperty('username');
    const user = await h.createUser('dave', false);
    expect((await h.call(user, 'POST', '/MAAS/api/2.0/users/', { username: 'eve', email: 'e@x.y', password: 'x', is_superuser: '1' })).status).toBe(403);
    const tokens = (await h.call(user, 'GET', '/MAAS/api/2.0/account/?op=list_authorisation_tokens')).json() as { token: string }[];
    expect(tokens.map((t) => t.token)).toContain(`${user.consumerKey}:${user.tokenKey}:${user.tokenSecret}`);
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ2aWdodHdvcmRzdGhhdGFyZW5vdGFrZXk dave@laptop';
    const added = await h.call(user, 'POST', '/MAAS/api/2.0/account/prefs/sshkeys/', { key });
    expect(added.status).toBe(201);
    expect((await h.call(user, 'POST', '/MAAS/api/2.0/account/prefs/sshkeys/', { key: 'not a key' })).status).toBe(400);
    expect(((await h.call(user, 'GET', '/MAAS/api/2.0/account/prefs/sshkeys/')).json() as unknown[]).length).toBe(1);
  });

  it('logs in with a username and password the way python-libmaas does', async () => {
    await h.createUser('frank', false, 'secret-pw');
    const ok = await h.call(null, 'POST', '/MAAS/accounts/authenticate/', { username: 'frank', password: 'secret-pw', consumer: 'frank@laptop' });
    expect(ok.status).toBe(200);
    const key = ok.json() as { consumer_key: string; token_key: string; token_secret: string };
    const who = await h.call({ consumerKey: key.consumer_key, tokenKey: key.token_key, tokenSecret: key.token_secret, username: 'frank' }, 'GET', '/MAAS/api/2.0/users/?op=whoami');
    expect(who.json()).toMatchObject({ username: 'frank' });
    const bad = await h.call(null, 'POST', '/MAAS/accounts/authenticate/', { username: 'frank', password: 'wrong' });
    expect(bad.status).toBe(401);
  });
});
