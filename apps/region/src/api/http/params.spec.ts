import { parseBool, RequestParams } from './params';

describe('RequestParams', () => {
  it('keeps ordered multi-valued params', () => {
    const params = RequestParams.from([
      ['tags', 'a'],
      ['hostname', 'node1'],
      ['tags', 'b'],
    ]);
    expect(params.get('tags')).toBe('a');
    expect(params.getAll('tags')).toEqual(['a', 'b']);
    expect(params.get('hostname')).toBe('node1');
    expect(params.names()).toEqual(['tags', 'hostname']);
    expect(params.has('tags')).toBe(true);
    expect(params.has('missing')).toBe(false);
    expect(params.get('missing')).toBeUndefined();
    expect(params.getAll('missing')).toEqual([]);
    expect(params.size).toBe(2);
    expect(params.entries()).toEqual([
      ['tags', ['a', 'b']],
      ['hostname', ['node1']],
    ]);
  });

  it('builds from an object with array values', () => {
    const params = RequestParams.from({ a: '1', b: ['2', '3'] });
    expect(params.getAll('b')).toEqual(['2', '3']);
    expect(params.toObject()).toEqual({ a: ['1'], b: ['2', '3'] });
  });

  it('returns copies from getAll', () => {
    const params = RequestParams.from([['a', '1']]);
    params.getAll('a').push('x');
    expect(params.getAll('a')).toEqual(['1']);
  });

  it('treats __proto__ and friends as ordinary names', () => {
    const params = RequestParams.from([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
    expect(params.get('__proto__')).toBe('x');
    expect(params.get('constructor')).toBe('y');
    expect(params.has('toString')).toBe(false);
    expect(Object.getPrototypeOf(params.toObject())).toBeNull();
  });

  it('merges query before body', () => {
    const query = RequestParams.from([
      ['op', 'deploy'],
      ['tags', 'q'],
    ]);
    const body = RequestParams.from([
      ['op', 'signal'],
      ['tags', 'b'],
      ['status', 'OK'],
    ]);
    body.addFile('out', { filename: 'out', contentType: 'application/octet-stream', data: Buffer.from('x') });
    const merged = RequestParams.merge(query, body);
    expect(merged.get('op')).toBe('deploy');
    expect(merged.getAll('op')).toEqual(['deploy', 'signal']);
    expect(merged.getAll('tags')).toEqual(['q', 'b']);
    expect(merged.get('status')).toBe('OK');
    expect(merged.files.get('out')?.data.toString()).toBe('x');
    // Inputs untouched.
    expect(query.getAll('op')).toEqual(['deploy']);
    expect(query.files.size).toBe(0);
  });

  it('keeps the first file of a name', () => {
    const params = new RequestParams();
    params.addFile('f', { filename: 'a', contentType: 'text/plain', data: Buffer.from('1') });
    params.addFile('f', { filename: 'b', contentType: 'text/plain', data: Buffer.from('2') });
    expect(params.files.get('f')?.filename).toBe('a');
    expect(params.has('f')).toBe(false);
  });
});

describe('parseBool', () => {
  it.each(['true', 'True', 'TRUE', '1', 'on', 'On', 'yes', 'YES', ' true '])('%p is true', (value) => {
    expect(parseBool(value)).toBe(true);
  });
  it.each(['false', 'False', '0', 'off', 'OFF', 'no', 'No'])('%p is false', (value) => {
    expect(parseBool(value)).toBe(false);
  });
  it.each(['', 'maybe', '2', 'y', 'n', 't', 'truee', '01'])('%p is undefined', (value) => {
    expect(parseBool(value)).toBeUndefined();
  });
  it('handles missing values', () => {
    expect(parseBool(undefined)).toBeUndefined();
    expect(parseBool(null)).toBeUndefined();
  });
});
