// The TFTP server against real clients (tftp-hpa, curl) and a raw RFC 7440 client, on 127.0.0.1
// and an ephemeral port, with a TFTP root made in a temp dir.
import { createSocket } from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTftp, encodeTftp, TftpErrorCode, TftpOpcode, TftpPacket } from '@kiln/protocol';
import { pollUntil } from '@kiln/testing';
import { InMemoryBootFiles } from './boot-files.fake';
import { capturedLogger, CapturedLog } from './testing/captured.logger';
import { rawTftpGet } from './testing/raw-tftp.client';
import { runProcess } from './testing/run.process';
import { TftpServer, TftpServerConfig } from './tftp.server';
import { RecordingTransferEvents } from './transfer-events.fake';

jest.setTimeout(30_000);

let dir: string;
let root: string;
const files = {
  big: randomBytes(700_000),
  exact: randomBytes(1468 * 4), // a multiple of both 512 and 1468: ends with an empty block
  text: Buffer.from('line one\nline two\r\nthree\rfour\n'),
};

interface Running {
  server: TftpServer;
  port: number;
  events: RecordingTransferEvents;
  bootFiles: InMemoryBootFiles;
  logs: CapturedLog;
}
const running: Running[] = [];

async function start(overrides: Partial<TftpServerConfig> = {}): Promise<Running> {
  const events = new RecordingTransferEvents();
  const bootFiles = new InMemoryBootFiles()
    .match(/^pxelinux\.cfg\/01-/, (r) => `DEFAULT kiln\nLABEL kiln\n  APPEND BOOTIF=${r.mac} client=${r.client.address}\n`)
    .match(/^grub\/grub\.cfg-/, (r) => ({ content: Buffer.from(`set default=0\n# ${r.mac}\n`), mac: r.mac, systemId: 'abc123' }))
    .set('ipxe/boot.ipxe', '#!ipxe\nchain http://127.0.0.1:5248/ipxe/${net0/mac}.ipxe\n');
  const logs = capturedLogger();
  const server = new TftpServer(
    { address: '127.0.0.1', port: 0, root, retransmitMs: 100, maxRetries: 3, workers: 0, ...overrides },
    { bootFiles, events, log: logs.log },
  );
  const { port } = await server.listen();
  const r = { server, port, events, bootFiles, logs };
  running.push(r);
  return r;
}

let s: Running;

/** Jest's toEqual walks a Buffer element by element (seconds for 700 kB): compare digests. */
function expectBytes(actual: Buffer, expected: Buffer): void {
  const digest = (b: Buffer) => `${b.length} bytes, sha256 ${createHash('sha256').update(b).digest('hex')}`;
  expect(digest(actual)).toBe(digest(expected));
}

function printed(r: { stdout: Buffer; stderr: string }): string {
  return r.stdout.toString() + r.stderr;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-tftp-'));
  root = join(dir, 'root');
  await mkdir(join(root, 'efi'), { recursive: true });
  await writeFile(join(root, 'big.bin'), files.big);
  await writeFile(join(root, 'exact.bin'), files.exact);
  await writeFile(join(root, 'empty.bin'), Buffer.alloc(0));
  await writeFile(join(root, 'notes.txt'), files.text);
  await writeFile(join(root, 'efi', 'grubx64.efi'), Buffer.from('grub image'));
  await writeFile(join(dir, 'secret'), 'not for clients');
  await symlink(join(dir, 'secret'), join(root, 'escape-link'));
  await symlink('efi/grubx64.efi', join(root, 'inside-link'));
  s = await start();
});

afterAll(async () => {
  for (const r of running) await r.server.close();
  await rm(dir, { recursive: true, force: true });
});

async function tftpHpa(args: string[], mode: 'binary' | 'netascii' = 'binary') {
  return runProcess('tftp', ['-m', mode, '127.0.0.1', String(s.port), '-c', ...args], { cwd: dir });
}

function curlArgs(path: string, ...extra: string[]): string[] {
  return ['-s', '-S', '--max-time', '15', ...extra, `tftp://127.0.0.1:${s.port}/${path}`];
}

describe('static files with real clients', () => {
  it('tftp-hpa gets a file in octet mode, lock-step 512-byte blocks', async () => {
    const r = await tftpHpa(['get', 'big.bin', 'out-hpa.bin']);
    expect(r.stderr).toBe('');
    expectBytes(await readFile(join(dir, 'out-hpa.bin')), files.big);
    const ev = await pollUntil(() => s.events.servedEvents.find((e) => e.file === 'big.bin'), Boolean, { what: 'served event' });
    expect(ev).toMatchObject({
      protocol: 'tftp',
      source: 'static',
      bytes: files.big.length,
      size: files.big.length,
      client: { address: '127.0.0.1' },
      tftp: { blksize: 512, windowsize: 1, mode: 'octet' },
    });
    expect(ev!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('tftp-hpa gets a text file in netascii mode and converts it back', async () => {
    const r = await tftpHpa(['get', 'notes.txt', 'out-notes.txt'], 'netascii');
    expect(r.stderr).toBe('');
    expectBytes(await readFile(join(dir, 'out-notes.txt')), files.text);
  });

  it('curl gets a file without blksize (512) and with tsize', async () => {
    const r = await runProcess('curl', curlArgs('big.bin'));
    expect(r.code).toBe(0);
    expectBytes(r.stdout, files.big);
  });

  it('curl gets a file with --tftp-blksize 1468', async () => {
    const before = s.events.servedEvents.length;
    const r = await runProcess('curl', curlArgs('big.bin', '--tftp-blksize', '1468'));
    expect(r.code).toBe(0);
    expectBytes(r.stdout, files.big);
    const ev = await pollUntil(() => s.events.servedEvents.slice(before).find((e) => e.file === 'big.bin'), Boolean);
    expect(ev!.tftp).toMatchObject({ blksize: 1468, windowsize: 1 });
  });

  it('curl asking for a blksize above the MTU gets the server maximum', async () => {
    const before = s.events.servedEvents.length;
    const r = await runProcess('curl', curlArgs('big.bin', '--tftp-blksize', '8192'));
    expect(r.code).toBe(0);
    expectBytes(r.stdout, files.big);
    const ev = await pollUntil(() => s.events.servedEvents.slice(before).find((e) => e.file === 'big.bin'), Boolean);
    expect(ev!.tftp!.blksize).toBe(1468);
  });

  it('ends a file whose size is a multiple of the block size with an empty block', async () => {
    for (const blksize of ['512', '1468']) {
      const r = await runProcess('curl', curlArgs('exact.bin', '--tftp-blksize', blksize));
      expect(r.code).toBe(0);
      expectBytes(r.stdout, files.exact);
    }
    const raw = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'empty.bin' });
    expect(raw.error).toBeUndefined();
    expect(raw.data.length).toBe(0);
  });

  it('follows a symlink that stays inside the root, and accepts an absolute path under it', async () => {
    const r = await runProcess('curl', curlArgs('inside-link'));
    expect(r.stdout.toString()).toBe('grub image');
    const abs = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: `${root}/efi/grubx64.efi` });
    expect(abs.data.toString()).toBe('grub image');
    const slash = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: '/efi/grubx64.efi' });
    expect(slash.data.toString()).toBe('grub image');
  });
});

describe('options (RFC 2347/2348/2349/7440)', () => {
  it('answers tsize with the file size and blksize in the OACK', async () => {
    const r = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'big.bin', options: { tsize: 0, blksize: 1024 } });
    expect(r.oack).toEqual({ blksize: 1024, tsize: files.big.length });
    expectBytes(r.data, files.big);
    expect(r.serverPort).not.toBe(s.port); // a new TID, not the listen port
  });

  it('sends windows of 8 blocks and gets one ACK per window', async () => {
    const r = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'big.bin', options: { blksize: 1468, windowsize: 8 } });
    expect(r.oack).toEqual({ blksize: 1468, windowsize: 8 });
    expectBytes(r.data, files.big);
    const blocks = Math.ceil((files.big.length + 1) / 1468);
    expect(r.acksSent).toBeLessThanOrEqual(Math.ceil(blocks / 8) + 2);
  });

  it('caps windowsize at the server maximum', async () => {
    const r = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'big.bin', options: { windowsize: 1000 } });
    expect(r.oack).toEqual({ windowsize: 64 });
    expectBytes(r.data, files.big);
  });

  it('recovers a block lost inside a window (the client ACKs the last block in order)', async () => {
    const r = await rawTftpGet({
      host: '127.0.0.1',
      port: s.port,
      file: 'big.bin',
      options: { blksize: 1024, windowsize: 16 },
      loseData: (block, seen) => (block === 5 || block === 200) && seen === 1,
    });
    expectBytes(r.data, files.big);
    const ev = await pollUntil(
      () => s.events.servedEvents.find((e) => e.client.port !== 0 && e.tftp?.windowsize === 16),
      Boolean,
    );
    expect(ev!.tftp!.retransmits).toBeGreaterThan(0);
  });

  it('retransmits a lost DATA block in lock-step after its timeout', async () => {
    const t0 = Date.now();
    const r = await rawTftpGet({
      host: '127.0.0.1',
      port: s.port,
      file: 'notes.txt',
      timeoutMs: 5_000, // the client stays quiet: only the server's timer can recover
      loseData: (block, seen) => block === 1 && seen === 1,
    });
    expectBytes(r.data, files.text);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  });

  it('does not answer a duplicate ACK with a duplicate DATA (Sorcerer\'s Apprentice)', async () => {
    const r = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'big.bin', duplicateAcks: true, timeoutMs: 5_000 });
    expectBytes(r.data, files.big);
    expect(r.duplicateData).toBe(0);
  });

  it('rolls the block number over past 65535', async () => {
    const blob = randomBytes(8 * 70_000 + 3);
    await writeFile(join(root, 'rollover.bin'), blob);
    const r = await rawTftpGet({
      host: '127.0.0.1',
      port: s.port,
      file: 'rollover.bin',
      options: { blksize: 8, windowsize: 64 },
      deadlineMs: 25_000,
    });
    expectBytes(r.data, blob);
  });
});

describe('rendered per-MAC files', () => {
  it('serves a PXELINUX config rendered for the MAC in the path', async () => {
    const r = await runProcess('curl', curlArgs('pxelinux.cfg/01-52-54-00-12-34-56'));
    expect(r.stdout.toString()).toBe('DEFAULT kiln\nLABEL kiln\n  APPEND BOOTIF=52:54:00:12:34:56 client=127.0.0.1\n');
    const req = s.bootFiles.requests.find((q) => q.path === 'pxelinux.cfg/01-52-54-00-12-34-56');
    expect(req).toMatchObject({ protocol: 'tftp', mac: '52:54:00:12:34:56', client: { address: '127.0.0.1' } });
    const ev = await pollUntil(() => s.events.servedEvents.find((e) => e.file.startsWith('pxelinux.cfg/')), Boolean);
    expect(ev).toMatchObject({ source: 'rendered', mac: '52:54:00:12:34:56', bytes: r.stdout.length });
  });

  it('serves GRUB and iPXE configs; the source can name the machine', async () => {
    // (tftp-hpa would read "grub/grub.cfg-52:..." as host:file, so curl fetches this one.)
    const grub = await runProcess('curl', curlArgs('grub/grub.cfg-52:54:00:ab:cd:ef'));
    expect(grub.stdout.toString()).toBe('set default=0\n# 52:54:00:ab:cd:ef\n');
    const ev = await pollUntil(() => s.events.servedEvents.find((e) => e.file.startsWith('grub/')), Boolean);
    expect(ev).toMatchObject({ mac: '52:54:00:ab:cd:ef', systemId: 'abc123' });
    const ipxe = await runProcess('curl', curlArgs('ipxe/boot.ipxe'));
    expect(ipxe.stdout.toString()).toContain('#!ipxe');
  });

  it('answers ERROR 0 when the source cannot render now, and keeps serving', async () => {
    const r2 = await start();
    r2.bootFiles.failWith = new Error('region unreachable');
    const r = await rawTftpGet({ host: '127.0.0.1', port: r2.port, file: 'pxelinux.cfg/01-52-54-00-00-00-01' });
    expect(r.error).toMatchObject({ code: TftpErrorCode.NOT_DEFINED });
    const ev = await pollUntil(() => r2.events.failedEvents[0], Boolean);
    expect(ev).toMatchObject({ reason: 'unavailable', mac: '52:54:00:00:00:01' });
    r2.bootFiles.failWith = undefined;
    const ok = await rawTftpGet({ host: '127.0.0.1', port: r2.port, file: 'notes.txt' });
    expectBytes(ok.data, files.text);
  });
});

describe('refusals', () => {
  it('refuses ../ with an access violation (tftp-hpa and curl --path-as-is)', async () => {
    const hpa = await tftpHpa(['get', '../secret', 'out-secret']);
    expect(printed(hpa)).toMatch(/Error code 2/);
    const curl = await runProcess('curl', ['--path-as-is', ...curlArgs('../secret')]);
    expect(curl.code).not.toBe(0);
    expect(curl.stdout.toString()).not.toContain('not for clients');
    const raw = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'efi/../../secret' });
    expect(raw.error).toMatchObject({ code: TftpErrorCode.ACCESS_VIOLATION });
    const back = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'efi\\..\\..\\secret' });
    expect(back.error).toMatchObject({ code: TftpErrorCode.ACCESS_VIOLATION });
  });

  it('never serves an absolute path outside the root', async () => {
    const r = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: join(dir, 'secret') });
    expect(r.error).toBeDefined();
    expect(r.data.length).toBe(0);
    const passwd = await runProcess('curl', curlArgs('/etc/passwd'));
    expect(passwd.code).not.toBe(0);
    expect(passwd.stdout.length).toBe(0);
  });

  it('refuses a symlink that points out of the root', async () => {
    const r = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'escape-link' });
    expect(r.error).toEqual({ code: TftpErrorCode.ACCESS_VIOLATION, message: 'Access violation: outside the TFTP root' });
    const ev = await pollUntil(() => s.events.failedEvents.find((e) => e.file === 'escape-link'), Boolean);
    expect(ev).toMatchObject({ reason: 'refused', tftp: { errorCode: TftpErrorCode.ACCESS_VIOLATION } });
  });

  it('refuses a directory, answers a missing file with ERROR 1, and refuses uploads', async () => {
    expect((await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'efi' })).error?.code).toBe(TftpErrorCode.ACCESS_VIOLATION);
    expect((await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'nope.bin' })).error?.code).toBe(TftpErrorCode.FILE_NOT_FOUND);
    const ev = await pollUntil(() => s.events.failedEvents.find((e) => e.file === 'nope.bin'), Boolean);
    expect(ev!.reason).toBe('not-found');
    await writeFile(join(dir, 'upload.bin'), 'data');
    const put = await tftpHpa(['put', 'upload.bin', 'upload.bin']);
    expect(printed(put)).toMatch(/Error code 2/);
  });
});

describe('clients that stop, abort or repeat', () => {
  it('gives up on a client that stops answering, and reports a timeout', async () => {
    const before = s.events.failedEvents.length;
    const r = await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'big.bin', stopAfterBlocks: 10 });
    expect(r.stopped).toMatch(/stopped/);
    const ev = await pollUntil(() => s.events.failedEvents.slice(before).find((e) => e.reason === 'timeout'), Boolean, {
      timeoutMs: 5_000,
    });
    expect(ev).toMatchObject({ file: 'big.bin', bytes: 9 * 512 });
    expect(ev!.tftp!.retransmits).toBe(3);
    await pollUntil(() => s.server.stats().active, (n) => n === 0);
  });

  it('ends a transfer at once when the client port goes away (ICMP port unreachable)', async () => {
    const before = s.events.failedEvents.length;
    const t0 = Date.now();
    await rawTftpGet({ host: '127.0.0.1', port: s.port, file: 'big.bin', stopAfterBlocks: 10, stopMode: 'close' });
    const ev = await pollUntil(() => s.events.failedEvents.slice(before)[0], Boolean);
    expect(ev).toMatchObject({ reason: 'aborted', message: 'client port unreachable (client went away)' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('treats an ERROR after the OACK (a tsize probe) as an abort, not a warning', async () => {
    const before = s.events.failedEvents.length;
    const r = await rawTftpGet({
      host: '127.0.0.1',
      port: s.port,
      file: 'big.bin',
      options: { tsize: 0 },
      errorAfterOack: { code: 0, message: 'TFTP Aborted' },
    });
    expect(r.oack).toEqual({ tsize: files.big.length });
    const ev = await pollUntil(() => s.events.failedEvents.slice(before).find((e) => e.reason === 'aborted'), Boolean);
    expect(ev!.tftp!.errorCode).toBe(0);
    const line = s.logs.lines.find((l) => l.msg === 'tftp transfer failed' && /after OACK/.test(String(l.message)));
    expect(line?.level).toBe(30);
  });

  it('starts one transfer for a repeated request from the same client port', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const rrq = encodeTftp({ opcode: TftpOpcode.RRQ, filename: 'notes.txt', mode: 'octet', options: {} });
    const from = new Set<number>();
    sock.on('message', (_m, rinfo) => from.add(rinfo.port));
    const before = s.server.stats().duplicateRequests;
    sock.send(rrq, s.port, '127.0.0.1');
    sock.send(rrq, s.port, '127.0.0.1');
    await pollUntil(() => from.size, (n) => n >= 1);
    expect(s.server.stats().duplicateRequests).toBe(before + 1);
    expect(from.size).toBe(1);
    sock.close();
  });

  it('answers ERROR 0 "busy" beyond maxTransfers', async () => {
    const r2 = await start({ maxTransfers: 1, retransmitMs: 2_000 });
    const holder = rawTftpGet({ host: '127.0.0.1', port: r2.port, file: 'big.bin', stopAfterBlocks: 1 });
    await pollUntil(() => r2.server.stats().active, (n) => n === 1);
    const r = await rawTftpGet({ host: '127.0.0.1', port: r2.port, file: 'notes.txt' });
    expect(r.error).toEqual({ code: 0, message: 'Server busy, try again' });
    await holder;
    await r2.server.close();
  });
});

describe('bad input', () => {
  function ask(port: number, packets: Buffer[]): Promise<TftpPacket[]> {
    // Sends datagrams from one socket and collects what comes back until 300 ms of quiet.
    return new Promise((resolve) => {
      const sock = createSocket('udp4');
      const got: TftpPacket[] = [];
      let quiet: NodeJS.Timeout;
      const settle = () => {
        clearTimeout(quiet);
        quiet = setTimeout(() => {
          sock.close();
          resolve(got);
        }, 300);
      };
      sock.on('message', (m) => {
        got.push(decodeTftp(m));
        settle();
      });
      sock.bind(0, '127.0.0.1', () => {
        for (const p of packets) sock.send(p, port, '127.0.0.1');
        settle();
      });
    });
  }

  it('keeps serving a real client through a flood of malformed packets, counting each kind', async () => {
    const r2 = await start();
    const garbage: Buffer[] = [];
    for (let i = 0; i < 200; i++) garbage.push(Buffer.concat([Buffer.from([0, 7 + (i % 200)]), randomBytes(i % 40)]));
    garbage.push(Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 1, 0x61])); // empty, 1 byte, truncated RRQ
    garbage.push(Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(4000, 0x61), Buffer.from([0])])); // oversized
    garbage.push(encodeTftp({ opcode: TftpOpcode.ACK, block: 1 }));
    garbage.push(encodeTftp({ opcode: TftpOpcode.DATA, block: 1, data: Buffer.from('x') }));
    garbage.push(encodeTftp({ opcode: TftpOpcode.ERROR, code: 0, message: 'hello' }));
    garbage.push(Buffer.from('\x00\x01file\x00binary\x00', 'latin1')); // bad mode
    garbage.push(Buffer.from('\x00\x01file\x00octet\x00blksize\x00512\x00BLKSIZE\x00512\x00', 'latin1')); // duplicate option

    const flood = (async () => {
      for (let round = 0; round < 10; round++) await ask(r2.port, garbage);
    })();
    const transfer = runProcess('curl', ['-s', '-S', '--max-time', '20', `tftp://127.0.0.1:${r2.port}/big.bin`]);
    const [, got] = await Promise.all([flood, transfer]);
    expect(got.code).toBe(0);
    expectBytes(got.stdout, files.big);

    const bad = r2.server.stats().badInput;
    expect(bad['malformed:bad-opcode']).toBe(2000);
    expect(bad['malformed:truncated']).toBe(30);
    expect(bad['oversized']).toBe(10);
    expect(bad['malformed:bad-mode']).toBe(10);
    expect(bad['malformed:duplicate-option']).toBe(10);
    expect(bad['unexpected:ack']).toBe(10);
    expect(bad['unexpected:data']).toBe(10);
    expect(bad['unexpected:error']).toBe(10);
    // Logged once per kind, not once per packet.
    const warned = r2.logs.lines.filter((l) => l.msg === 'bad input');
    const kinds = warned.map((l) => l.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(kinds).toEqual(expect.arrayContaining(['malformed:bad-opcode', 'oversized', 'unexpected:ack']));
  });

  it('answers a malformed request with ERROR 4, and DATA to the listen port with ERROR 5', async () => {
    const r2 = await start();
    const got = await ask(r2.port, [Buffer.from('\x00\x01file\x00binary\x00', 'latin1')]);
    expect(got).toEqual([{ opcode: TftpOpcode.ERROR, code: TftpErrorCode.ILLEGAL_OPERATION, message: 'Malformed request: bad-mode' }]);
    const tid = await ask(r2.port, [encodeTftp({ opcode: TftpOpcode.DATA, block: 1, data: Buffer.from('x') })]);
    expect(tid).toEqual([{ opcode: TftpOpcode.ERROR, code: TftpErrorCode.UNKNOWN_TID, message: 'Unknown transfer ID' }]);
    // Garbage without a request opcode gets no answer at all.
    expect(await ask(r2.port, [Buffer.from([0, 9, 1, 2, 3])])).toEqual([]);
  });

  it('rate-limits ERROR answers to malformed requests', async () => {
    const r2 = await start({ errorRepliesPerSecond: 5 });
    const bad = Buffer.from('\x00\x01file\x00binary\x00', 'latin1');
    const got = await ask(r2.port, Array.from({ length: 50 }, () => bad));
    expect(got.length).toBeGreaterThanOrEqual(5);
    expect(got.length).toBeLessThan(15);
    expect(r2.server.stats().badInput['malformed:bad-mode']).toBe(50);
  });
});

describe('on worker threads', () => {
  let w: Running;
  beforeAll(async () => {
    w = await start({ workers: 2 });
  });

  it('serves real clients, static and rendered, with and without windowsize', async () => {
    const [hpa, curl, win, pxe] = await Promise.all([
      runProcess('tftp', ['-m', 'binary', '127.0.0.1', String(w.port), '-c', 'get', 'big.bin', 'out-w-hpa.bin'], { cwd: dir }),
      runProcess('curl', ['-s', '-S', '--tftp-blksize', '1468', `tftp://127.0.0.1:${w.port}/big.bin`]),
      rawTftpGet({
        host: '127.0.0.1',
        port: w.port,
        file: 'big.bin',
        options: { blksize: 1468, windowsize: 8, tsize: 0 },
        loseData: (block, seen) => block === 7 && seen === 1,
      }),
      runProcess('curl', ['-s', '-S', `tftp://127.0.0.1:${w.port}/pxelinux.cfg/01-52-54-00-00-00-02`]),
    ]);
    expect(printed(hpa)).toBe('');
    expectBytes(await readFile(join(dir, 'out-w-hpa.bin')), files.big);
    expectBytes(curl.stdout, files.big);
    expectBytes(win.data, files.big);
    expect(win.oack).toEqual({ blksize: 1468, tsize: files.big.length, windowsize: 8 });
    expect(pxe.stdout.toString()).toContain('BOOTIF=52:54:00:00:00:02');
    await pollUntil(() => w.events.servedEvents.length, (n) => n === 4);
    expect(w.events.servedEvents.find((e) => e.mac === '52:54:00:00:00:02')).toMatchObject({ source: 'rendered' });
    expect(w.server.stats()).toMatchObject({ active: 0, served: 4, bytesServed: 3 * files.big.length + pxe.stdout.length });
  });

  it('counts bad input a client sends to its transfer socket, and still finishes', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const got: Array<{ p: TftpPacket; port: number }> = [];
    sock.on('message', (m, rinfo) => got.push({ p: decodeTftp(m), port: rinfo.port }));
    sock.send(encodeTftp({ opcode: TftpOpcode.RRQ, filename: 'notes.txt', mode: 'octet', options: {} }), w.port, '127.0.0.1');
    const first = await pollUntil(() => got[0], Boolean);
    expect(first.p).toMatchObject({ opcode: TftpOpcode.DATA, block: 1 });
    sock.send(Buffer.from([0, 9, 9]), first.port, '127.0.0.1');
    sock.send(encodeTftp({ opcode: TftpOpcode.ACK, block: 1 }), first.port, '127.0.0.1');
    await pollUntil(() => w.server.stats().served, (n) => n === 5);
    expect(w.server.stats().badInput['transfer-malformed:bad-opcode']).toBe(1);
    sock.close();
  });

  it('times out a silent client and aborts transfers when the server closes', async () => {
    const before = w.events.failedEvents.length;
    await rawTftpGet({ host: '127.0.0.1', port: w.port, file: 'big.bin', stopAfterBlocks: 3 });
    const ev = await pollUntil(() => w.events.failedEvents.slice(before)[0], Boolean, { timeoutMs: 5_000 });
    expect(ev).toMatchObject({ reason: 'timeout', bytes: 2 * 512 });

    const holder = rawTftpGet({ host: '127.0.0.1', port: w.port, file: 'big.bin', stopAfterBlocks: 1, silentMs: 10_000 });
    await pollUntil(() => w.server.stats().active, (n) => n === 1);
    await w.server.close();
    expect(w.server.stats().active).toBe(0);
    expect(w.events.failedEvents.at(-1)).toMatchObject({ reason: 'aborted' });
    await holder;
  });
});
