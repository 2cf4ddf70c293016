import { formatEventTime, formatHttpDate, formatRfc2822 } from './maas-time';

describe('formatEventTime', () => {
  it('formats like MAAS events', () => {
    expect(formatEventTime(new Date('2018-12-07T20:11:08Z'))).toBe('Fri, 07 Dec. 2018 20:11:08');
  });

  it.each([
    ['2018-01-05T00:00:00Z', 'Fri, 05 Jan. 2018 00:00:00'],
    ['2018-02-05T00:00:00Z', 'Mon, 05 Feb. 2018 00:00:00'],
    ['2018-03-05T00:00:00Z', 'Mon, 05 March 2018 00:00:00'],
    ['2018-04-05T00:00:00Z', 'Thu, 05 April 2018 00:00:00'],
    ['2018-05-05T00:00:00Z', 'Sat, 05 May 2018 00:00:00'],
    ['2018-06-05T00:00:00Z', 'Tue, 05 June 2018 00:00:00'],
    ['2018-07-05T00:00:00Z', 'Thu, 05 July 2018 00:00:00'],
    ['2018-08-05T00:00:00Z', 'Sun, 05 Aug. 2018 00:00:00'],
    ['2018-09-05T00:00:00Z', 'Wed, 05 Sept. 2018 00:00:00'],
    ['2018-10-05T00:00:00Z', 'Fri, 05 Oct. 2018 00:00:00'],
    ['2018-11-05T00:00:00Z', 'Mon, 05 Nov. 2018 00:00:00'],
    ['2018-12-31T23:59:59.999Z', 'Mon, 31 Dec. 2018 23:59:59'],
  ])('uses Django "N" month names: %p', (iso, expected) => {
    expect(formatEventTime(new Date(iso))).toBe(expected);
  });

  it('uses UTC regardless of the local time zone', () => {
    // 2018-12-07 23:30 in UTC-05:00 is the next day in UTC.
    expect(formatEventTime(new Date('2018-12-07T23:30:00-05:00'))).toBe('Sat, 08 Dec. 2018 04:30:00');
  });
});

describe('formatRfc2822', () => {
  it('formats like Python email.utils.formatdate', () => {
    expect(formatRfc2822(new Date('2018-12-06T21:26:18Z'))).toBe('Thu, 06 Dec 2018 21:26:18 -0000');
    expect(formatRfc2822(new Date('2021-09-01T01:02:03Z'))).toBe('Wed, 01 Sep 2021 01:02:03 -0000');
  });
});

describe('formatHttpDate', () => {
  it('formats RFC 1123 dates', () => {
    expect(formatHttpDate(new Date('2018-12-06T21:26:18Z'))).toBe('Thu, 06 Dec 2018 21:26:18 GMT');
  });
});

describe('invalid dates', () => {
  it.each([formatEventTime, formatRfc2822, formatHttpDate])('%p throws RangeError', (format) => {
    expect(() => format(new Date('nope'))).toThrow(RangeError);
  });
});
