// Real captures (STYLE habit 9): every fixtures/*.bin has a sibling .json with the expected decode.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectCodecLaws } from '../testing/codec-laws';
import { TftpPacket, tftpCodec } from './packet.codec';

const DIR = join(__dirname, 'fixtures');

const captures = readdirSync(DIR)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => f.slice(0, -'.bin'.length));

describe('captured TFTP packets', () => {
  it('there are captures to check', () => {
    expect(captures.length).toBeGreaterThanOrEqual(2);
  });

  it.each(captures)('%s decodes as its .json says and obeys the codec laws', (name) => {
    const bin = new Uint8Array(readFileSync(join(DIR, `${name}.bin`)));
    const fixture = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as {
      source: string;
      byteExact: boolean;
      packet: TftpPacket;
    };
    expect(fixture.source).toMatch(/capture/i);
    expectCodecLaws(tftpCodec, fixture.packet, bin, { byteExact: fixture.byteExact });
  });
});
