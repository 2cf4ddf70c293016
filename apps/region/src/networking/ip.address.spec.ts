import { cidrContains, formatIp, parseCidr, parseIp, usableRange } from './ip.address';

describe('ip addresses', () => {
  it.each(['10.0.0.1', '255.255.255.255', '0.0.0.0', '2001:db8::1', '::', '::1', 'fe80::1:2:3:4', '::ffff:192.168.0.1', '1:2:3:4:5:6:7:8'])(
    'parses and formats %s canonically',
    (text) => {
      const ip = parseIp(text);
      expect(ip).not.toBeNull();
      expect(parseIp(formatIp(ip!))).toEqual(ip);
    },
  );

  it('formats IPv6 per RFC 5952', () => {
    expect(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
    expect(formatIp(parseIp('1:0:2:3:4:5:6:7')!)).toBe('1:0:2:3:4:5:6:7');
  });

  it.each(['256.0.0.1', '10.0.0', '10.0.0.01x', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '', '10.0.0.1/24'])('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });

  it('parses CIDRs, clearing host bits, and tests membership', () => {
    const c = parseCidr('10.1.2.3/24')!;
    expect(c.text).toBe('10.1.2.0/24');
    expect(cidrContains(c, parseIp('10.1.2.255')!)).toBe(true);
    expect(cidrContains(c, parseIp('10.1.3.0')!)).toBe(false);
    expect(cidrContains(c, parseIp('::1')!)).toBe(false);
    expect(parseCidr('2001:db8::5/64')!.text).toBe('2001:db8::/64');
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('10.0.0.0')).toBeNull();
    const u = usableRange(c);
    expect([formatIp({ family: 4, value: u.first }), formatIp({ family: 4, value: u.last })]).toEqual(['10.1.2.1', '10.1.2.254']);
  });
});
