import { decodeDomainSearch, encodeDomainSearch } from './domain-search';

describe('option 119 (domain search)', () => {
  it('encodes names in DNS wire format, as RFC 3397 shows', () => {
    expect(Buffer.from(encodeDomainSearch(['eng.apple.com', 'marketing.apple.com.'])).toString('hex')).toBe(
      '03656e67056170706c6503636f6d00' + '096d61726b6574696e67056170706c6503636f6d00',
    );
    expect(decodeDomainSearch(encodeDomainSearch(['a.example', 'b.example']))).toEqual(['a.example', 'b.example']);
  });

  it('decodes the compressed form of RFC 3397 section 3', () => {
    const rfc = Buffer.from('03656e67056170706c6503636f6d00' + '096d61726b6574696e67c004', 'hex');
    expect(decodeDomainSearch(rfc)).toEqual(['eng.apple.com', 'marketing.apple.com']);
  });

  it('refuses what one option cannot carry', () => {
    expect(() => encodeDomainSearch(['a..b'])).toThrow(TypeError);
    expect(() => encodeDomainSearch([`${'x'.repeat(64)}.example`])).toThrow(TypeError);
    expect(() => encodeDomainSearch(Array.from({ length: 30 }, (_, i) => `name${i}.example.com`))).toThrow(/more than one option/);
  });
});
