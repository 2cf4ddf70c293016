import { parseByteRange } from './byte-range.parser';

describe('parseByteRange', () => {
  it.each([
    ['bytes=0-99', 1000, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', 1000, { kind: 'partial', start: 100, end: 999 }],
    ['bytes=-100', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', 1000, { kind: 'partial', start: 0, end: 999 }],
    ['bytes=900-5000', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['BYTES = 5-5', 1000, { kind: 'partial', start: 5, end: 5 }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=2000-3000', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-9', 1000, { kind: 'whole', ignored: 'multiple' }],
    ['bytes=5-1', 1000, { kind: 'whole', ignored: 'syntax' }],
    ['bytes=abc', 1000, { kind: 'whole', ignored: 'syntax' }],
    ['bytes=-', 1000, { kind: 'whole', ignored: 'syntax' }],
    ['bytes=', 1000, { kind: 'whole', ignored: 'syntax' }],
    ['items=0-5', 1000, { kind: 'whole', ignored: 'unit' }],
    ['0-5', 1000, { kind: 'whole', ignored: 'syntax' }],
    ['bytes=99999999999999999999-', 1000, { kind: 'whole', ignored: 'syntax' }],
  ])('%s of %d bytes', (header, size, expected) => {
    expect(parseByteRange(header, size)).toEqual(expected);
  });

  it('sends the whole resource without a Range header', () => {
    expect(parseByteRange(undefined, 10)).toEqual({ kind: 'whole' });
  });
});
