import { actionDoc, ApiRegistry } from './api.registry';
import { HandlerDef } from './api.types';

const handler = (name: string, path: string, ops: [string | null, 'GET' | 'POST'][]): HandlerDef => ({
  name,
  doc: `${name} doc`,
  path,
  actions: ops.map(([op, method]) => ({ name: op ?? (method === 'GET' ? 'read' : 'create'), op, method, title: op ?? 'crud', run: () => name })),
});

describe('ApiRegistry', () => {
  const reg = new ApiRegistry();
  reg.register(
    { auth: handler('ThingsHandler', '/MAAS/api/2.0/things/', [[null, 'GET']]), anon: handler('AnonThingsHandler', '/MAAS/api/2.0/things/', [[null, 'POST']]) },
    { auth: handler('ThingHandler', '/MAAS/api/2.0/things/{id}/', [[null, 'GET'], ['poke', 'POST']]) },
    { auth: handler('ThingSpecialHandler', '/MAAS/api/2.0/things/special/', [[null, 'GET']]) },
    { auth: handler('PartHandler', '/MAAS/api/2.0/things/{thing_id}/parts/{id}/', [[null, 'GET']]) },
  );

  it('routes with and without trailing slash, fixed words before placeholders, decoding parameters', () => {
    expect(reg.match('/MAAS/api/2.0/things')?.auth?.name).toBe('ThingsHandler');
    expect(reg.match('/MAAS/api/2.0/things/')?.anon?.name).toBe('AnonThingsHandler');
    expect(reg.match('/MAAS/api/2.0/things/special/')?.auth?.name).toBe('ThingSpecialHandler');
    const item = reg.match('/MAAS/api/2.0/things/a%20b/');
    expect(item?.auth?.name).toBe('ThingHandler');
    expect(item?.pathParams).toEqual({ id: 'a b' });
    expect(reg.match('/MAAS/api/2.0/things/7/parts/9')?.pathParams).toEqual({ thing_id: '7', id: '9' });
    expect(reg.match('/MAAS/api/2.0/nothing/')).toBeNull();
  });

  it('finds actions by method and op', () => {
    const h = reg.match('/MAAS/api/2.0/things/1/')!.auth;
    expect(ApiRegistry.findAction(h, 'POST', 'poke')?.name).toBe('poke');
    expect(ApiRegistry.findAction(h, 'GET', 'poke')).toBeUndefined();
    expect(ApiRegistry.findAction(h, 'GET', null)?.name).toBe('read');
  });

  it('describes every resource sorted, with params, absolute uris and a stable hash', () => {
    const a = reg.describe('http://x:5240');
    const b = reg.describe('http://y:5240');
    expect(a.hash).toBe(b.hash);
    const doc = a.doc as { resources: { name: string; auth: { uri: string; params: string[] } | null; anon: unknown }[] };
    expect(doc.resources.map((r) => r.name)).toEqual(['PartHandler', 'ThingHandler', 'ThingSpecialHandler', 'ThingsHandler']);
    const part = doc.resources[0].auth!;
    expect(part.params).toEqual(['thing_id', 'id']);
    expect(part.uri).toBe('http://x:5240/MAAS/api/2.0/things/{thing_id}/parts/{id}/');
    expect(doc.resources[3].anon).toMatchObject({ name: 'AnonThingsHandler' });
  });

  it('routes undescribed actions but leaves them out of describe/, and refuses two described actions of a name', () => {
    const r = new ApiRegistry();
    const h = handler('StuffHandler', '/MAAS/api/2.0/stuff/', [[null, 'GET']]);
    h.actions.push({ name: 'read', op: 'read', method: 'GET', title: 'old read', undescribed: true, run: () => 'old' });
    r.register({ auth: h });
    expect(ApiRegistry.findAction(r.match('/MAAS/api/2.0/stuff/')!.auth, 'GET', 'read')?.title).toBe('old read');
    const doc = r.describe('').doc as { resources: { auth: { actions: { name: string; op: string | null }[] } }[] };
    expect(doc.resources[0].auth.actions).toEqual([expect.objectContaining({ name: 'read', op: null })]);

    const twice = handler('TwiceHandler', '/MAAS/api/2.0/twice/', [[null, 'GET'], ['read', 'GET']]);
    expect(() => new ApiRegistry().register({ auth: twice })).toThrow(/TwiceHandler describes two actions named 'read'/);
  });

  it('writes :param and :type lines the maas CLI needs', () => {
    const doc = actionDoc({
      name: 'deploy',
      op: 'deploy',
      method: 'POST',
      title: 'Deploy',
      description: 'Deploys.',
      params: [{ name: 'distro_series', doc: 'The series.' }, { name: 'count', type: 'Int', required: true, doc: 'How many.' }],
      run: () => null,
    });
    expect(doc).toBe(
      'Deploy\n\nDeploys.\n\n:param distro_series: Optional. The series.\n:type distro_series: String\n\n:param count: Required. How many.\n:type count: Int\n\n',
    );
  });
});
