import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { borrowedFdSource, BufferReader, fileHandleSource, FileReader, toNetascii } from './payload.reader';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-payload-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function drain(r: { ensure(n: number): Promise<void>; take(d: Buffer, at: number, n: number): number; available: number; ended: boolean }, step: number, onStep?: () => void) {
  const out: Buffer[] = [];
  for (;;) {
    await r.ensure(step);
    const b = Buffer.alloc(Math.min(step, r.available));
    r.take(b, 0, b.length);
    out.push(b);
    onStep?.();
    if (b.length < step && r.ended && r.available === 0) break;
  }
  return Buffer.concat(out);
}

describe('toNetascii', () => {
  it('turns LF into CR LF and CR into CR NUL', () => {
    expect(toNetascii(Buffer.from('a\nb\rc'))).toEqual(Buffer.from('a\r\nb\r\0c', 'latin1'));
    const plain = Buffer.from('no line ends');
    expect(toNetascii(plain)).toBe(plain);
  });
});

describe('FileReader', () => {
  it('streams a file in chunks, never holding much more than two chunks', async () => {
    const data = randomBytes(1_000_003);
    const path = join(dir, 'f.bin');
    await writeFile(path, data);
    const r = new FileReader(fileHandleSource(await open(path, 'r')), { chunkSize: 16 * 1024 });
    let peak = 0;
    const got = await drain(r, 1468, () => (peak = Math.max(peak, r.available)));
    await r.close();
    expect(got.equals(data)).toBe(true);
    expect(peak).toBeLessThanOrEqual(2 * 16 * 1024);
  });

  it('applies the netascii transform chunk by chunk', async () => {
    const text = 'x\n'.repeat(50_000);
    const path = join(dir, 't.txt');
    await writeFile(path, text);
    const r = new FileReader(fileHandleSource(await open(path, 'r')), { chunkSize: 4096, transform: toNetascii });
    const got = await drain(r, 512);
    await r.close();
    expect(got.toString()).toBe('x\r\n'.repeat(50_000));
  });

  it('rejects ensure() when the read fails', async () => {
    const path = join(dir, 'e.bin');
    await writeFile(path, randomBytes(10));
    const fh = await open(path, 'r');
    await fh.close(); // reads on a closed handle fail
    const r = new FileReader(fileHandleSource(fh), { chunkSize: 4096 });
    await expect(r.ensure(512)).rejects.toThrow();
  });

  it('reads a borrowed descriptor and leaves it open', async () => {
    const data = randomBytes(100_000);
    const path = join(dir, 'b.bin');
    await writeFile(path, data);
    const fh = await open(path, 'r');
    const r = new FileReader(borrowedFdSource(fh.fd), { chunkSize: 8192 });
    expect((await drain(r, 512)).equals(data)).toBe(true);
    await r.close();
    expect((await fh.stat()).size).toBe(data.length); // still open
    await fh.close();
  });
});

describe('BufferReader', () => {
  it('hands out a rendered buffer', async () => {
    const r = new BufferReader(Buffer.from('hello world'));
    expect((await drain(r, 4)).toString()).toBe('hello world');
  });
});
