import { blksizeForMtu, negotiateOptions, TftpLimits } from './options';
import { TftpOptions } from './packet.codec';

const LIMITS: TftpLimits = { maxBlksize: 1468, maxWindowsize: 16, tsize: 8_388_608 };

describe('negotiateOptions', () => {
  it('no options: no OACK, RFC 1350 defaults', () => {
    expect(negotiateOptions({}, LIMITS)).toEqual({ accepted: {}, sendOack: false, blksize: 512, windowsize: 1 });
  });

  it('iPXE: blksize 1432 and tsize 0 -> both acknowledged, tsize is the real size', () => {
    expect(negotiateOptions({ blksize: 1432, tsize: 0 }, LIMITS)).toEqual({
      accepted: { blksize: 1432, tsize: 8_388_608 },
      sendOack: true,
      blksize: 1432,
      windowsize: 1,
      tsize: 8_388_608,
    });
  });

  it.each<[string, TftpOptions, TftpOptions]>([
    // blksize (RFC 2348: 8..65464; the server may answer with less, never more)
    ['blksize below 8 is refused', { blksize: 7 }, {}],
    ['blksize 8 is the minimum', { blksize: 8 }, { blksize: 8 }],
    ['blksize above our max is clamped', { blksize: 65464 }, { blksize: 1468 }],
    ['blksize above 65464 is clamped (tftp-hpa)', { blksize: 70000 }, { blksize: 1468 }],
    ['blksize equal to max', { blksize: 1468 }, { blksize: 1468 }],
    // timeout (RFC 2349: 1..255 seconds, echoed unchanged or not at all)
    ['timeout 0 is refused', { timeout: 0 }, {}],
    ['timeout 1', { timeout: 1 }, { timeout: 1 }],
    ['timeout 255', { timeout: 255 }, { timeout: 255 }],
    ['timeout 256 is refused, not clamped', { timeout: 256 }, {}],
    // windowsize (RFC 7440: 1..65535, the server may lower it)
    ['windowsize 0 is refused', { windowsize: 0 }, {}],
    ['windowsize 1', { windowsize: 1 }, { windowsize: 1 }],
    ['windowsize clamped to our max', { windowsize: 64 }, { windowsize: 16 }],
    ['windowsize above 65535 clamped', { windowsize: 100000 }, { windowsize: 16 }],
    // tsize (RFC 2349)
    ['tsize in a WRQ-style request still answers with the size we pass', { tsize: 5 }, { tsize: 8_388_608 }],
    // unknown options are never acknowledged
    ['unknown options ignored', { unknown: [{ name: 'multicast', value: '' }] }, {}],
  ])('%s', (_name, requested, accepted) => {
    expect(negotiateOptions(requested, LIMITS).accepted).toEqual(accepted);
  });

  it('effective parameters follow what was accepted', () => {
    const n = negotiateOptions({ blksize: 9000, windowsize: 8, timeout: 3, tsize: 0 }, LIMITS);
    expect(n).toMatchObject({ sendOack: true, blksize: 1468, windowsize: 8, timeout: 3, tsize: 8_388_608 });
  });

  it('tsize is not acknowledged when the server does not know the size', () => {
    expect(negotiateOptions({ tsize: 0 }, { maxBlksize: 1468 }).sendOack).toBe(false);
  });

  it('windowsize defaults to lock-step unless the server allows more', () => {
    expect(negotiateOptions({ windowsize: 8 }, { maxBlksize: 1468 })).toMatchObject({ accepted: { windowsize: 1 }, windowsize: 1 });
  });

  it('a narrower server timeout range refuses what lies outside it', () => {
    const limits = { ...LIMITS, timeout: { min: 2, max: 10 } };
    expect(negotiateOptions({ timeout: 1 }, limits).accepted).toEqual({});
    expect(negotiateOptions({ timeout: 10 }, limits).accepted).toEqual({ timeout: 10 });
  });

  it('rejects impossible limits (programming error)', () => {
    expect(() => negotiateOptions({}, { maxBlksize: 7 })).toThrow(RangeError);
    expect(() => negotiateOptions({}, { maxBlksize: 65465 })).toThrow(RangeError);
    expect(() => negotiateOptions({}, { maxBlksize: 512, maxWindowsize: 0 })).toThrow(RangeError);
    expect(() => negotiateOptions({ tsize: 0 }, { maxBlksize: 512, tsize: -1 })).toThrow(RangeError);
  });
});

describe('blksizeForMtu', () => {
  it('subtracts IPv4, UDP and TFTP headers', () => {
    expect(blksizeForMtu(1500)).toBe(1468);
    expect(blksizeForMtu(9000)).toBe(8968);
    expect(blksizeForMtu(576)).toBe(544);
    expect(blksizeForMtu(20)).toBe(8);
    expect(blksizeForMtu(100_000)).toBe(65464);
  });
});
