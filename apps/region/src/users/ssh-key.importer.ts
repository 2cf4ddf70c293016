import { Inject, Injectable } from '@nestjs/common';
import { REGION_CONFIG, RegionConfig } from '../config/region.config';
import { invalid, unavailable } from '../common/domain.error';

/** A `keysource` of `sshkeys op=import`: `lp:<user>` (Launchpad) or `gh:<user>` (GitHub). */
export interface KeySource {
  protocol: 'lp' | 'gh';
  authId: string;
}

const SOURCE_NAMES: Record<KeySource['protocol'], string> = { lp: 'Launchpad', gh: 'GitHub' };
const AUTH_ID = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;

/** `lp:alice` → {lp, alice}; a bare `alice` is Launchpad's, as in MAAS; anything else is refused naming the field. */
export function parseKeySource(raw: string | undefined): KeySource {
  const v = (raw ?? '').trim();
  if (!v) throw invalid({ keysource: ['This field is required.'] });
  const m = /^(lp|gh):(.*)$/.exec(v.includes(':') ? v : `lp:${v}`);
  if (!m || !AUTH_ID.test(m[2])) throw invalid({ keysource: [`Invalid keysource "${v}": expected lp:<user> or gh:<user>.`] });
  return { protocol: m[1] as KeySource['protocol'], authId: m[2] };
}

export const keySourceString = (s: KeySource): string => `${s.protocol}:${s.authId}`;

/**
 * Fetches a user's public SSH keys from Launchpad or GitHub, at the base URLs of the region's
 * config, with a timeout and a cap on the answer's size. Returns the candidate key lines as the
 * source gave them; the caller validates each one.
 */
@Injectable()
export class SshKeyImporter {
  constructor(@Inject(REGION_CONFIG) private readonly config: RegionConfig) {}

  async fetchKeys(source: KeySource): Promise<string[]> {
    const { launchpadUrl, githubUrl } = this.config.sshKeyImport;
    const user = encodeURIComponent(source.authId);
    const url = source.protocol === 'lp' ? `${launchpadUrl}/~${user}/+sshkeys` : `${githubUrl}/users/${user}/keys`;
    const body = await this.get(source, url);
    if (source.protocol === 'lp') return body.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw unavailable(`GitHub answered with something that is not JSON for user ${source.authId}.`);
    }
    if (!Array.isArray(parsed)) throw unavailable(`GitHub answered with an unexpected document for user ${source.authId}.`);
    return parsed.map((k: unknown) => (k && typeof k === 'object' && typeof (k as { key?: unknown }).key === 'string' ? (k as { key: string }).key.trim() : '')).filter((k) => k !== '');
  }

  private async get(source: KeySource, url: string): Promise<string> {
    const { timeoutMs, maxBytes } = this.config.sshKeyImport;
    const name = SOURCE_NAMES[source.protocol];
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(url, { signal: ctl.signal, redirect: 'follow', headers: { accept: source.protocol === 'gh' ? 'application/vnd.github+json' : 'text/plain' } });
      } catch (e) {
        const why = ctl.signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message;
        throw unavailable(`Unable to import SSH keys from ${name}: ${why}.`);
      }
      if (res.status === 404) {
        await res.body?.cancel();
        // MAAS answers 400 here (the keysource is wrong, not the URL the client called).
        throw invalid({ keysource: [`Unable to import SSH keys: ${name} has no user "${source.authId}".`] });
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw unavailable(`Unable to import SSH keys from ${name}: it answered HTTP ${res.status}.`);
      }
      return await readCapped(res, maxBytes, name, ctl.signal, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function readCapped(res: Response, maxBytes: number, name: string, signal: AbortSignal, timeoutMs: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw unavailable(`Unable to import SSH keys from ${name}: the answer is larger than ${maxBytes} bytes.`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw unavailable(`Unable to import SSH keys from ${name}: the answer is larger than ${maxBytes} bytes.`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (signal.aborted) throw unavailable(`Unable to import SSH keys from ${name}: no answer within ${timeoutMs} ms.`);
    throw e;
  }
  return Buffer.concat(chunks).toString('utf8');
}
