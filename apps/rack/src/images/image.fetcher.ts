import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { nkeys } from 'nats';
import { HEADER_RACK_ID, HEADER_RACK_SIGNATURE, HEADER_RACK_SIGNED_AT, rackDownloadSigningString } from '@kiln/contracts';

export class ImageFetchError extends Error {
  constructor(
    message: string,
    /** 'digest': the bytes were wrong and are gone; 'transfer': cut or refused, the part is kept to resume. */
    readonly kind: 'digest' | 'transfer' | 'space',
  ) {
    super(message);
  }
}

/** Signs a download request with the rack's nkey (see rackDownloadSigningString). */
export function signedDownloadHeaders(rackId: string, nkeySeed: Uint8Array, path: string, now = Date.now()): Record<string, string> {
  const signature = nkeys.fromSeed(nkeySeed).sign(Buffer.from(rackDownloadSigningString('GET', path, now)));
  return { [HEADER_RACK_ID]: rackId, [HEADER_RACK_SIGNED_AT]: String(now), [HEADER_RACK_SIGNATURE]: Buffer.from(signature).toString('base64url') };
}

export interface FetchTarget {
  /** Full URL of the file on a region. */
  url: string;
  sha256: string;
  size: number;
  /** Where the partial copy lives (kept across failures and restarts). */
  partPath: string;
  /** Headers for a request of this URL's path (the signature; made fresh for every attempt). */
  headers: () => Record<string, string>;
  timeoutMs?: number;
}

/**
 * Downloads a file into its `.part`, resuming with an HTTP Range from what the part already
 * holds, and checks the sha256 of the whole once it is complete. A cut connection keeps the part
 * (the next attempt resumes); wrong bytes delete it. Never holds the file in memory.
 */
export async function fetchImageFile(t: FetchTarget): Promise<{ resumedFrom: number }> {
  let have = (await stat(t.partPath).catch(() => null))?.size ?? 0;
  if (have > t.size) {
    await unlink(t.partPath);
    have = 0;
  }
  const hash = createHash('sha256');
  if (have > 0) for await (const chunk of createReadStream(t.partPath, { end: have - 1 })) hash.update(chunk as Buffer);
  const resumedFrom = have;
  if (have < t.size) {
    const u = new URL(t.url);
    const client = u.protocol === 'https:' ? https : http;
    await new Promise<void>((resolve, reject) => {
      const req = client.get(u, { headers: { ...t.headers(), ...(have > 0 ? { range: `bytes=${have}-` } : {}) }, timeout: t.timeoutMs ?? 30_000 }, (res) => {
        const ok = have > 0 ? res.statusCode === 206 : res.statusCode === 200;
        if (!ok) {
          res.resume();
          return reject(new ImageFetchError(`region answered ${res.statusCode} for ${u.pathname}`, 'transfer'));
        }
        const out = createWriteStream(t.partPath, { flags: have > 0 ? 'a' : 'w' });
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          have += chunk.length;
        });
        res.on('aborted', () => out.destroy(new ImageFetchError(`connection cut after ${have} of ${t.size} bytes`, 'transfer')));
        res.on('error', (e) => out.destroy(new ImageFetchError(`download failed after ${have} of ${t.size} bytes: ${e.message}`, 'transfer')));
        res.pipe(out);
        out.on('finish', () => (res.complete ? resolve() : reject(new ImageFetchError(`connection cut after ${have} of ${t.size} bytes`, 'transfer'))));
        out.on('error', (e) => reject(e instanceof ImageFetchError ? e : new ImageFetchError(e.message, 'transfer')));
      });
      req.on('timeout', () => req.destroy(new ImageFetchError('download timed out', 'transfer')));
      req.on('error', (e) => reject(e instanceof ImageFetchError ? e : new ImageFetchError(`download failed: ${e.message}`, 'transfer')));
    });
  }
  const digest = hash.digest('hex');
  if (have !== t.size || digest !== t.sha256) {
    await unlink(t.partPath).catch(() => undefined);
    throw new ImageFetchError(`sha256 mismatch: expected ${t.sha256} (${t.size} bytes), got ${digest} (${have} bytes)`, 'digest');
  }
  return { resumedFrom };
}
