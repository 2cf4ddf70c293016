import { MalformedPacketError } from '../errors';
import { expectCodecLaws } from '../testing/codec-laws';
import {
  decodeTftp,
  encodeTftp,
  TftpErrorCode,
  TftpOpcode,
  TftpPacket,
  tftpCodec,
  writeTftpDataHeader,
} from './packet.codec';

/** Bytes of NUL-terminated strings, after a two-byte opcode. */
function packet(opcode: number, ...strings: string[]): Uint8Array {
  return Uint8Array.from([0, opcode, ...strings.flatMap((s) => [...Buffer.from(s, 'utf8'), 0])]);
}

function malformedKind(buf: Uint8Array): string {
  try {
    decodeTftp(buf);
  } catch (e) {
    if (e instanceof MalformedPacketError) return e.kind;
    throw e;
  }
  return 'decoded';
}

describe('golden requests', () => {
  it('iPXE RRQ (lab wire log: "boot.ipxe" octet blksize 1432 tsize 0), byte for byte', () => {
    const golden = Uint8Array.from([
      0x00, 0x01, // RRQ
      ...Buffer.from('boot.ipxe'), 0x00, // filename
      ...Buffer.from('octet'), 0x00, // mode
      ...Buffer.from('blksize'), 0x00, ...Buffer.from('1432'), 0x00, // RFC 2348
      ...Buffer.from('tsize'), 0x00, ...Buffer.from('0'), 0x00, // RFC 2349: "tell me the size"
    ]);
    expectCodecLaws(
      tftpCodec,
      { opcode: TftpOpcode.RRQ, filename: 'boot.ipxe', mode: 'octet', options: { blksize: 1432, tsize: 0 } },
      golden,
    );
  });

  it('tftp-hpa client RRQ (tftp -m binary ... -c get vmlinuz): no options', () => {
    expectCodecLaws(
      tftpCodec,
      { opcode: TftpOpcode.RRQ, filename: 'vmlinuz', mode: 'octet', options: {} },
      packet(1, 'vmlinuz', 'octet'),
    );
  });

  it('curl RRQ: tsize, blksize, timeout in its own order (as captured, see fixtures/); re-encoded in canonical order', () => {
    const golden = packet(1, 'vmlinuz', 'octet', 'tsize', '0', 'blksize', '1468', 'timeout', '6');
    const value: TftpPacket = {
      opcode: TftpOpcode.RRQ,
      filename: 'vmlinuz',
      mode: 'octet',
      options: { blksize: 1468, timeout: 6, tsize: 0 },
    };
    expectCodecLaws(tftpCodec, value, golden, { byteExact: false });
    expect(encodeTftp(value)).toEqual(Buffer.from(packet(1, 'vmlinuz', 'octet', 'blksize', '1468', 'timeout', '6', 'tsize', '0')));
  });

  it('atftp RRQ with RFC 7440 windowsize', () => {
    expectCodecLaws(
      tftpCodec,
      { opcode: TftpOpcode.RRQ, filename: 'boot32m.bin', mode: 'octet', options: { blksize: 1468, windowsize: 8 } },
      packet(1, 'boot32m.bin', 'octet', 'blksize', '1468', 'windowsize', '8'),
    );
  });
});

describe('every packet type round-trips', () => {
  it.each<[string, TftpPacket]>([
    ['WRQ netascii', { opcode: TftpOpcode.WRQ, filename: 'logs/node01.txt', mode: 'netascii', options: { tsize: 1234 } }],
    ['RRQ mail', { opcode: TftpOpcode.RRQ, filename: 'root', mode: 'mail', options: {} }],
    ['RRQ UTF-8 name', { opcode: TftpOpcode.RRQ, filename: 'grub/fonts/ünicode.pf2', mode: 'octet', options: {} }],
    ['RRQ unknown options kept in order', {
      opcode: TftpOpcode.RRQ,
      filename: 'pxelinux.0',
      mode: 'octet',
      options: { blksize: 512, unknown: [{ name: 'utimeout', value: '500000' }, { name: 'multicast', value: '' }] },
    }],
    ['DATA first block', { opcode: TftpOpcode.DATA, block: 1, data: Uint8Array.from({ length: 512 }, (_, i) => i & 0xff) }],
    ['DATA final empty block', { opcode: TftpOpcode.DATA, block: 65535, data: new Uint8Array(0) }],
    ['DATA after rollover', { opcode: TftpOpcode.DATA, block: 0, data: Uint8Array.from([1, 2, 3]) }],
    ['ACK 0 (WRQ accepted)', { opcode: TftpOpcode.ACK, block: 0 }],
    ['ACK 65535', { opcode: TftpOpcode.ACK, block: 65535 }],
    ['ERROR file not found', { opcode: TftpOpcode.ERROR, code: TftpErrorCode.FILE_NOT_FOUND, message: 'File not found' }],
    ['ERROR empty message', { opcode: TftpOpcode.ERROR, code: TftpErrorCode.OPTION_NEGOTIATION, message: '' }],
    ['ERROR outside RFC codes', { opcode: TftpOpcode.ERROR, code: 4242, message: 'custom' }],
    ['OACK', { opcode: TftpOpcode.OACK, options: { blksize: 1468, timeout: 3, tsize: 8_388_608, windowsize: 8 } }],
    ['OACK large tsize', { opcode: TftpOpcode.OACK, options: { tsize: 2 ** 40 } }],
    ['OACK empty', { opcode: TftpOpcode.OACK, options: {} }],
  ])('%s', (_name, value) => {
    expectCodecLaws(tftpCodec, value);
  });

  it('names the RFC 1350 + 2347 error codes', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((c) => TftpErrorCode[c])).toEqual([
      'NOT_DEFINED',
      'FILE_NOT_FOUND',
      'ACCESS_VIOLATION',
      'DISK_FULL',
      'ILLEGAL_OPERATION',
      'UNKNOWN_TID',
      'FILE_EXISTS',
      'NO_SUCH_USER',
      'OPTION_NEGOTIATION',
    ]);
  });
});

describe('decoding leniency', () => {
  it('mode and known option names are case-insensitive; unknown names keep their case', () => {
    expect(decodeTftp(packet(1, 'f', 'OcTeT', 'BLKSIZE', '1024', 'X-Foo', 'Bar'))).toEqual({
      opcode: TftpOpcode.RRQ,
      filename: 'f',
      mode: 'octet',
      options: { blksize: 1024, unknown: [{ name: 'X-Foo', value: 'Bar' }] },
    });
  });

  it('a known option with a non-numeric value is kept unknown, so it is never negotiated', () => {
    const p = decodeTftp(packet(1, 'f', 'octet', 'blksize', 'big', 'tsize', '-1', 'timeout', '1e3'));
    expect(p).toEqual({
      opcode: TftpOpcode.RRQ,
      filename: 'f',
      mode: 'octet',
      options: {
        unknown: [
          { name: 'blksize', value: 'big' },
          { name: 'tsize', value: '-1' },
          { name: 'timeout', value: '1e3' },
        ],
      },
    });
    expectCodecLaws(tftpCodec, p);
  });

  it('ignores NUL padding after the last option (some PXE ROMs pad)', () => {
    const buf = Uint8Array.from([...packet(1, 'pxelinux.0', 'octet', 'tsize', '0'), 0, 0, 0, 0]);
    expect(decodeTftp(buf)).toEqual({ opcode: TftpOpcode.RRQ, filename: 'pxelinux.0', mode: 'octet', options: { tsize: 0 } });
  });

  it('ERROR without its terminating NUL; ACK with trailing bytes', () => {
    expect(decodeTftp(Uint8Array.from([0, 5, 0, 1, ...Buffer.from('gone')]))).toEqual({
      opcode: TftpOpcode.ERROR,
      code: 1,
      message: 'gone',
    });
    expect(decodeTftp(Uint8Array.from([0, 4, 0, 7, 0, 0]))).toEqual({ opcode: TftpOpcode.ACK, block: 7 });
  });

  it('DATA payload is a copy, not a view of the datagram', () => {
    const buf = Buffer.from([0, 3, 0, 1, 9, 9]);
    const p = decodeTftp(buf) as { data: Uint8Array };
    buf[4] = 0;
    expect(Array.from(p.data)).toEqual([9, 9]);
    expect(Buffer.isBuffer(p.data)).toBe(false);
  });
});

describe('writeTftpDataHeader', () => {
  it.each([0, 1, 255, 256, 65535])('writes the same bytes as encodeTftp for block %d', (block) => {
    const payload = Buffer.from('payload');
    const out = Buffer.alloc(4 + payload.length);
    payload.copy(out, 4);
    writeTftpDataHeader(out, block);
    expect(out).toEqual(encodeTftp({ opcode: TftpOpcode.DATA, block, data: payload }));
    expect(decodeTftp(out)).toEqual({ opcode: TftpOpcode.DATA, block, data: Uint8Array.from(payload) });
  });

  it('refuses a block number out of range and a buffer too short', () => {
    expect(() => writeTftpDataHeader(Buffer.alloc(4), 65536)).toThrow(RangeError);
    expect(() => writeTftpDataHeader(Buffer.alloc(3), 1)).toThrow(RangeError);
  });
});

describe('malformed input', () => {
  it.each<{ name: string; buf: Uint8Array; kind: string }>([
    { name: 'empty', buf: new Uint8Array(0), kind: 'truncated' },
    { name: 'one byte', buf: Uint8Array.from([0]), kind: 'truncated' },
    { name: 'opcode 0', buf: Uint8Array.from([0, 0]), kind: 'bad-opcode' },
    { name: 'opcode 7', buf: Uint8Array.from([0, 7, 1, 2]), kind: 'bad-opcode' },
    { name: 'opcode 0x0101', buf: Uint8Array.from([1, 1]), kind: 'bad-opcode' },
    { name: 'RRQ without filename NUL', buf: Uint8Array.from([0, 1, 0x61, 0x62]), kind: 'truncated' },
    { name: 'RRQ without mode', buf: packet(1, 'file'), kind: 'truncated' },
    { name: 'RRQ mode binary', buf: packet(1, 'file', 'binary'), kind: 'bad-mode' },
    { name: 'RRQ option without value', buf: packet(1, 'file', 'octet', 'blksize'), kind: 'bad-option-pair' },
    { name: 'RRQ value without NUL', buf: Uint8Array.from([...packet(1, 'f', 'octet', 'blksize'), 0x31]), kind: 'truncated' },
    { name: 'RRQ empty option name', buf: packet(1, 'f', 'octet', '', '1'), kind: 'bad-option-pair' },
    { name: 'RRQ duplicate option', buf: packet(1, 'f', 'octet', 'blksize', '512', 'BlkSize', '1024'), kind: 'duplicate-option' },
    { name: 'RRQ filename not UTF-8', buf: Uint8Array.from([0, 1, 0xff, 0xfe, 0, ...Buffer.from('octet'), 0]), kind: 'bad-string' },
    { name: 'DATA without block', buf: Uint8Array.from([0, 3, 0]), kind: 'truncated' },
    { name: 'ACK without block', buf: Uint8Array.from([0, 4, 0]), kind: 'truncated' },
    { name: 'ERROR without code', buf: Uint8Array.from([0, 5, 0]), kind: 'truncated' },
    { name: 'OACK odd strings', buf: packet(6, 'blksize', '512', 'tsize'), kind: 'bad-option-pair' },
  ])('$name -> $kind', ({ buf, kind }) => {
    expect(malformedKind(buf)).toBe(kind);
  });
});

describe('encoding errors are programming errors', () => {
  it.each<[string, TftpPacket]>([
    ['NUL in filename', { opcode: TftpOpcode.RRQ, filename: 'a\0b', mode: 'octet', options: {} }],
    ['bad mode', { opcode: TftpOpcode.RRQ, filename: 'a', mode: 'binary' as 'octet', options: {} }],
    ['block out of range', { opcode: TftpOpcode.ACK, block: 65536 }],
    ['negative option', { opcode: TftpOpcode.OACK, options: { blksize: -1 } }],
    ['known option twice', { opcode: TftpOpcode.OACK, options: { blksize: 512, unknown: [{ name: 'BLKSIZE', value: 'x' }] } }],
    ['NUL in error message', { opcode: TftpOpcode.ERROR, code: 0, message: 'a\0' }],
    ['non-latin1 error message', { opcode: TftpOpcode.ERROR, code: 0, message: '☃' }],
  ])('%s', (_name, p) => {
    expect(() => encodeTftp(p)).toThrow(expect.objectContaining({ name: expect.stringMatching(/TypeError|RangeError/) }));
  });
});
