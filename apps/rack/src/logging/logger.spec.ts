import { bindRootLogger, configureRootLogger, currentCorrelationId, log, withLogContext } from './logger';
import { CapturedLines, repeatedKeys, topLevelKeys } from './testing/log-lines';

describe('rack logs', () => {
  afterAll(() => configureRootLogger('silent'));

  it('reads the top-level keys of a line, repeats included', () => {
    expect(topLevelKeys('{"a":1,"b":{"a":2,"c":[{"d":"}"}]},"e":"x\\"y","a":3}')).toEqual(['a', 'b', 'e', 'a']);
    expect(repeatedKeys('{"rackId":"r1","msg":"m","rackId":"r1"}')).toEqual(['rackId']);
    expect(repeatedKeys('{"rackId":"r1","msg":"m"}')).toEqual([]);
  });

  it('binds each key once per line, however often a context binds it again', () => {
    const out = new CapturedLines();
    configureRootLogger('info', { rackId: 'r-0' }, out);
    bindRootLogger({ rackId: 'r-1' });
    bindRootLogger({ rackId: 'r-1', component: 'x' });
    withLogContext({ rackId: 'r-1', correlationId: 'c-1' }, () => {
      withLogContext({ correlationId: 'c-2', mac: '52:54:00:00:00:01' }, () => {
        expect(currentCorrelationId()).toBe('c-2');
        log().info({ systemId: 's1' }, 'inner');
      });
      expect(currentCorrelationId()).toBe('c-1');
      log().info('outer');
    });
    expect(currentCorrelationId()).toBeUndefined();
    log().info('root');
    expect(out.lines).toHaveLength(3);
    for (const line of out.lines) expect(repeatedKeys(line)).toEqual([]);
    const [inner, outer, root] = out.parsed();
    expect(inner).toMatchObject({ rackId: 'r-1', component: 'x', correlationId: 'c-2', mac: '52:54:00:00:00:01', systemId: 's1', msg: 'inner' });
    expect(outer).toMatchObject({ rackId: 'r-1', correlationId: 'c-1', msg: 'outer' });
    expect(outer).not.toHaveProperty('mac');
    expect(root).toMatchObject({ rackId: 'r-1', msg: 'root' });
    expect(root).not.toHaveProperty('correlationId');
  });
});
