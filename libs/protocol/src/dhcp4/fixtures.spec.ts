// Real captures (STYLE habit 9): every fixtures/*.bin has a sibling .json with the expected
// decode. Byte arrays are written {"$hex": "..."} in the JSON.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectCodecLaws } from '../testing/codec-laws';
import { DHCLIENT_DISCOVER, UDHCPC_DISCOVER } from './fixtures/discover.goldens';
import { decodeDhcp4, Dhcp4Packet, dhcp4Codec, encodeDhcp4 } from './packet.codec';

const DIR = join(__dirname, 'fixtures');

interface Fixture {
  source: string;
  byteExact: boolean;
  packet: Dhcp4Packet;
}

function load(name: string): { bin: Uint8Array; fixture: Fixture } {
  const bin = new Uint8Array(readFileSync(join(DIR, `${name}.bin`)));
  const fixture = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'), (_key, v) =>
    v && typeof v === 'object' && typeof v.$hex === 'string' ? new Uint8Array(Buffer.from(v.$hex, 'hex')) : v,
  ) as Fixture;
  return { bin, fixture };
}

const captures = readdirSync(DIR)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => f.slice(0, -'.bin'.length));

describe('captured packets', () => {
  it('there are captures to check', () => {
    expect(captures.length).toBeGreaterThanOrEqual(2);
  });

  it.each(captures)('%s decodes as its .json says and obeys the codec laws', (name) => {
    const { bin, fixture } = load(name);
    expect(fixture.source).toMatch(/capture/i);
    expectCodecLaws(dhcp4Codec, fixture.packet, bin, { byteExact: fixture.byteExact });
  });
});

describe('the hand-assembled goldens match the captures', () => {
  it('udhcpc: identical apart from xid and MAC', () => {
    const { bin } = load('udhcpc-1.35.0-discover');
    const golden = Uint8Array.from(UDHCPC_DISCOVER);
    golden.set(bin.subarray(4, 8), 4); // xid
    golden.set(bin.subarray(28, 34), 28); // chaddr
    golden.set(bin.subarray(0x111, 0x117), 0x111); // the MAC inside option 61
    expect(Buffer.from(golden).toString('hex')).toBe(Buffer.from(bin).toString('hex'));
  });

  it('dhclient: identical apart from xid, MAC and host name', () => {
    const captured = decodeDhcp4(load('dhclient-4.4.3-discover').bin);
    const golden = decodeDhcp4(DHCLIENT_DISCOVER);
    const patched: Dhcp4Packet = {
      ...captured,
      xid: golden.xid,
      chaddr: golden.chaddr,
      options: { ...captured.options, hostname: golden.options.hostname },
    };
    expect(Buffer.from(encodeDhcp4(patched)).toString('hex')).toBe(Buffer.from(DHCLIENT_DISCOVER).toString('hex'));
  });
});
