import { encodeBson } from './bson.encoder';

describe('encodeBson', () => {
  it('encodes the details document of a machine without commissioning output', () => {
    // int32 length 17, 0x0A "lshw\0", 0x0A "lldp\0", terminator.
    expect(encodeBson({ lshw: null, lldp: null }).toString('hex')).toBe('11000000' + '0a6c73687700' + '0a6c6c647000' + '00');
  });

  it('encodes binary, strings, booleans and 32-bit integers as bsonspec.org describes them', () => {
    expect(encodeBson({}).toString('hex')).toBe('0500000000');
    expect(encodeBson({ a: Buffer.from('hi') }).toString('hex')).toBe('0f000000' + '056100' + '02000000' + '00' + '6869' + '00');
    expect(encodeBson({ s: 'é' }).toString('hex')).toBe('0f000000' + '027300' + '03000000' + 'c3a900' + '00');
    expect(encodeBson({ t: true, n: -1 }).toString('hex')).toBe('10000000' + '087400' + '01' + '106e00' + 'ffffffff' + '00');
    expect(() => encodeBson({ big: 2 ** 40 })).toThrow(/32-bit/);
  });
});
