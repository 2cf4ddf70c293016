import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TftpErrorCode, TftpOpcode, TftpOptions, TftpRequestPacket } from '@kiln/protocol';
import { InMemoryBootFiles } from './boot-files.fake';
import { releasePayload, TftpAccepted, TftpDecision, TftpHandler } from './tftp.handler';

let dir: string;
let root: string;
const client = { address: '10.0.0.5', port: 2070 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-tftp-handler-'));
  root = join(dir, 'root');
  await mkdir(join(root, 'sub'), { recursive: true });
  await writeFile(join(root, 'lpxelinux.0'), Buffer.alloc(4242, 1));
  await writeFile(join(root, 'notes.txt'), 'a\nb\n');
  await writeFile(join(dir, 'outside'), 'secret');
  await symlink(join(dir, 'outside'), join(root, 'sub', 'out'));
  await symlink(dir, join(root, 'dirlink'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function rrq(filename: string, options: TftpOptions = {}, mode: TftpRequestPacket['mode'] = 'octet'): TftpRequestPacket {
  return { opcode: TftpOpcode.RRQ, filename, mode, options };
}

async function handle(h: TftpHandler, req: TftpRequestPacket): Promise<TftpDecision> {
  const d = await h.handle(req, client);
  if (d.ok) await releasePayload(d.payload);
  return d;
}

function handler(bootFiles = new InMemoryBootFiles()): TftpHandler {
  return new TftpHandler({ root, maxBlksize: 1468, maxWindowsize: 16 }, bootFiles);
}

describe('TftpHandler', () => {
  it('opens a static file and negotiates blksize, windowsize and tsize within the limits', async () => {
    const d = (await handle(handler(), rrq('lpxelinux.0', { blksize: 9000, windowsize: 64, tsize: 0, timeout: 3 }))) as TftpAccepted;
    expect(d).toMatchObject({ ok: true, path: 'lpxelinux.0', source: 'static', size: 4242 });
    expect(d.negotiation).toMatchObject({ accepted: { blksize: 1468, windowsize: 16, tsize: 4242, timeout: 3 }, sendOack: true });
    expect(d.payload.kind).toBe('file');
  });

  it('gives no tsize for a static file in netascii mode, whose converted size is unknown', async () => {
    const d = (await handle(handler(), rrq('notes.txt', { tsize: 0 }, 'netascii'))) as TftpAccepted;
    expect(d.negotiation.accepted).toEqual({});
    expect(d.size).toBeUndefined();
    expect(d.payload).toMatchObject({ kind: 'file', netascii: true });
  });

  it('renders through the port first, converting to netascii when asked', async () => {
    const files = new InMemoryBootFiles().set('pxelinux.cfg/01-52-54-00-00-00-09', 'x\ny\n');
    const d = (await handle(handler(files), rrq('/pxelinux.cfg/01-52-54-00-00-00-09', { tsize: 0 }, 'netascii'))) as TftpAccepted;
    expect(d).toMatchObject({ ok: true, source: 'rendered', mac: '52:54:00:00:00:09', size: 6 });
    expect(d.payload).toEqual({ kind: 'buffer', content: Buffer.from('x\r\ny\r\n') });
    expect(files.requests[0]).toEqual({ protocol: 'tftp', path: 'pxelinux.cfg/01-52-54-00-00-00-09', client, mac: '52:54:00:00:00:09' });
  });

  it('never asks the port about a path that escapes the root', async () => {
    const files = new InMemoryBootFiles();
    const d = await handle(handler(files), rrq('../etc/passwd'));
    expect(d).toMatchObject({ ok: false, code: TftpErrorCode.ACCESS_VIOLATION, reason: 'refused' });
    expect(files.requests).toEqual([]);
  });

  it.each([
    ['sub/out', TftpErrorCode.ACCESS_VIOLATION, 'refused'],
    ['dirlink/outside', TftpErrorCode.ACCESS_VIOLATION, 'refused'],
    ['sub', TftpErrorCode.ACCESS_VIOLATION, 'refused'],
    ['missing', TftpErrorCode.FILE_NOT_FOUND, 'not-found'],
    ['lpxelinux.0/x', TftpErrorCode.FILE_NOT_FOUND, 'not-found'],
    ['/', TftpErrorCode.FILE_NOT_FOUND, 'not-found'],
    ['a\\..\\..\\outside', TftpErrorCode.ACCESS_VIOLATION, 'refused'],
  ])('%s -> error %d (%s)', async (name, code, reason) => {
    expect(await handle(handler(), rrq(name))).toMatchObject({ ok: false, code, reason });
  });

  it('refuses writes and mail mode', async () => {
    expect(await handle(handler(), { ...rrq('x'), opcode: TftpOpcode.WRQ })).toMatchObject({ ok: false, code: TftpErrorCode.ACCESS_VIOLATION, reason: 'bad-request' });
    expect(await handle(handler(), rrq('lpxelinux.0', {}, 'mail'))).toMatchObject({ ok: false, code: TftpErrorCode.ILLEGAL_OPERATION });
  });

  it('answers ERROR 0 when the port fails, keeping the cause for the log', async () => {
    const files = new InMemoryBootFiles();
    files.failWith = new Error('region unreachable');
    const d = await handle(handler(files), rrq('grub/grub.cfg-52:54:00:00:00:01'));
    expect(d).toMatchObject({ ok: false, code: TftpErrorCode.NOT_DEFINED, reason: 'unavailable', mac: '52:54:00:00:00:01' });
    expect((d as { cause: Error }).cause.message).toBe('region unreachable');
  });
});
