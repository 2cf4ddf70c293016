import { cnameConflict, domainNameError, resourceNameError, rrdataError, rrtypeOf, separateFqdn, ttlValue } from './dns.rules';

describe('DNS rules (MAAS domain, dnsresource and dnsdata validation)', () => {
  it('checks domain and resource names', () => {
    expect(domainNameError('example.com')).toBeNull();
    expect(domainNameError('lab')).toBeNull();
    expect(domainNameError('bad_name.com')).toBe('Invalid domain name: bad_name.com.');
    expect(domainNameError('-x.com')).toBe('Invalid domain name: -x.com.');
    expect(resourceNameError('www')).toBeNull();
    expect(resourceNameError('@')).toBeNull();
    expect(resourceNameError('_sip._tcp')).toBeNull();
    expect(resourceNameError('a b')).toBe('Invalid dnsresource name: a b.');
  });

  it('checks each record type as MAAS does', () => {
    expect(rrtypeOf('mx')).toEqual({ rrtype: 'MX' });
    expect(rrtypeOf('A').error).toBe('A is not one of CNAME MX NS SRV SSHFP TXT.');
    expect(rrdataError('MX', '10 mail.example.com')).toBeNull();
    expect(rrdataError('MX', '70000 mail.example.com')).toMatch(/^Invalid MX/);
    expect(rrdataError('MX', 'mail')).toMatch(/^Invalid MX/);
    expect(rrdataError('SRV', '0 5 5060 sip.example.com')).toBeNull();
    expect(rrdataError('SRV', '0 5 5060 .')).toBeNull();
    expect(rrdataError('SRV', '0 5 sip')).toMatch(/^Invalid SRV/);
    expect(rrdataError('CNAME', 'target.example.com.')).toBeNull();
    expect(rrdataError('CNAME', 'not a name')).toMatch(/^Invalid CNAME/);
    expect(rrdataError('SSHFP', '1 2 abcdef')).toBeNull();
    expect(rrdataError('SSHFP', 'x')).toMatch(/^Invalid SSHFP/);
    expect(rrdataError('NS', 'ns1.example.com')).toBeNull();
    expect(rrdataError('TXT', 'anything at all')).toBeNull();
  });

  it('keeps a CNAME alone on its name', () => {
    expect(cnameConflict('CNAME', { cnames: 0, others: 0 })).toBeNull();
    expect(cnameConflict('CNAME', { cnames: 0, others: 1 })).toMatch(/cannot coexist/);
    expect(cnameConflict('CNAME', { cnames: 1, others: 0 })).toMatch(/Only one CNAME/);
    expect(cnameConflict('TXT', { cnames: 1, others: 0 })).toMatch(/cannot coexist/);
  });

  it('splits FQDNs and parses TTLs', () => {
    const isDomain = (n: string) => n === 'example.com';
    expect(separateFqdn('www.example.com', 'A', isDomain)).toEqual({ name: 'www', domain: 'example.com' });
    expect(separateFqdn('example.com.', undefined, isDomain)).toEqual({ name: '@', domain: 'example.com' });
    expect(separateFqdn('_sip._tcp.example.com', 'SRV', isDomain)).toEqual({ name: '_sip._tcp', domain: 'example.com' });
    expect(ttlValue('')).toEqual({ ttl: null });
    expect(ttlValue('300')).toEqual({ ttl: 300 });
    expect(ttlValue('-1').error).toBeDefined();
    expect(ttlValue(undefined)).toEqual({});
  });
});
