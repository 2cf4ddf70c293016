import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The manifest tools/images/build-ephemeral.sh writes beside the image. */
export interface ImageManifest {
  /** 'deployable' for build-deployable.sh's root tarball; absent for the ephemeral image. */
  kind?: string;
  os: string;
  series: string;
  architecture: string;
  kernel?: string;
  inputsHash: string;
  files: Record<string, { sha256: string; size: number }>;
}

/** The image's files and the boot resource file types they become. */
export const IMAGE_FILES = [
  { file: 'vmlinuz', filetype: 'boot-kernel' },
  { file: 'initrd.img', filetype: 'boot-initrd' },
  { file: 'filesystem.squashfs', filetype: 'squashfs' },
] as const;

/** A deployable image's file (tools/images/build-deployable.sh). */
export const DEPLOYABLE_IMAGE_FILES = [{ file: 'root.tgz', filetype: 'root-tgz' }] as const;

/** The files an image directory holds, by its manifest's kind. */
export function imageFilesOf(manifest: ImageManifest): ReadonlyArray<{ file: string; filetype: string }> {
  return manifest.kind === 'deployable' ? DEPLOYABLE_IMAGE_FILES : IMAGE_FILES;
}

export class ImportError extends Error {}

export interface ImportOptions {
  dir: string;
  /** The region's MAAS URL, e.g. http://127.0.0.1:5240/MAAS */
  url: string;
  /** consumer:token:secret */
  apiKey: string;
  /** Progress lines. */
  say?: (line: string) => void;
}

export interface ImportResult {
  resourceId: number;
  name: string;
  architecture: string;
  version: string;
  uploaded: string[];
  alreadyStored: string[];
}

function oauth(apiKey: string): string {
  const [consumer, token, secret] = apiKey.split(':');
  if (!consumer || !token || !secret) throw new ImportError('the API key must be consumer:token:secret (kiln apikey --username admin)');
  return (
    `OAuth oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="${consumer}", oauth_token="${token}", ` +
    `oauth_signature="%26${secret}", oauth_nonce="${randomBytes(12).toString('hex')}", oauth_timestamp="${Math.floor(Date.now() / 1000)}"`
  );
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

/** One request; `body` is a form (urlencoded) or a file streamed as the whole body. */
function request(method: string, url: URL, apiKey: string, body?: { form: Record<string, string> } | { file: string; size: number }): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: oauth(apiKey) };
    let payload: Buffer | null = null;
    if (body && 'form' in body) {
      payload = Buffer.from(new URLSearchParams(body.form).toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = payload.length;
    } else if (body) {
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = body.size;
    }
    const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload) req.end(payload);
    else if (body && 'file' in body) createReadStream(body.file, { highWaterMark: 1 << 20 }).on('error', reject).pipe(req);
    else req.end();
  });
}

/**
 * Registers the image tools/images/build-ephemeral.sh made (its directory: manifest.json and the
 * three files), or build-deployable.sh's (manifest.json and root.tgz), as the boot resource `<os>/<series>` for `<arch>/generic`, through the region's
 * boot-resources/ API: one set named after the build's inputs hash, each file announced by its
 * sha256 and size, then streamed to its upload_uri. Files the region already stores (the same
 * bytes, from an earlier import) are not sent again. The local files are checked against the
 * manifest first.
 */
export async function importBootResource(o: ImportOptions): Promise<ImportResult> {
  const say = o.say ?? (() => undefined);
  const manifest = JSON.parse(await readFile(join(o.dir, 'manifest.json'), 'utf8').catch(() => {
    throw new ImportError(`${o.dir} has no manifest.json: is it an image directory (tools/images/build-ephemeral.sh --print-dir)?`);
  })) as ImageManifest;
  if (!manifest.os || !manifest.series || !manifest.architecture || !manifest.files) throw new ImportError('manifest.json lacks os, series, architecture or files');
  const name = `${manifest.os}/${manifest.series}`;
  const architecture = `${manifest.architecture}/generic`;
  const version = manifest.inputsHash.slice(0, 16);
  const files = imageFilesOf(manifest);
  for (const f of files) {
    const m = manifest.files[f.file];
    if (!m) throw new ImportError(`manifest.json does not list ${f.file}`);
    const st = await stat(join(o.dir, f.file)).catch(() => null);
    if (!st || st.size !== m.size) throw new ImportError(`${f.file}: expected ${m.size} bytes, found ${st?.size ?? 'no file'}`);
    if ((await sha256Of(join(o.dir, f.file))) !== m.sha256) throw new ImportError(`${f.file}: its sha256 is not the manifest's`);
  }
  const base = o.url.replace(/\/+$/, '');
  const api = new URL(`${base}/api/2.0/boot-resources/`);
  const title = `${manifest.os === 'debian' ? 'Debian' : manifest.os} ${manifest.series} ${manifest.kind === 'deployable' ? 'deployable' : 'ephemeral'} (${manifest.kernel ?? 'kernel'})`;
  const result: ImportResult = { resourceId: 0, name, architecture, version, uploaded: [], alreadyStored: [] };
  for (const f of files) {
    const m = manifest.files[f.file];
    const created = await request('POST', api, o.apiKey, {
      form: { name, architecture, title, filetype: f.filetype, filename: f.filetype, sha256: m.sha256, size: String(m.size), version },
    });
    if (created.status !== 201) throw new ImportError(`creating ${name} ${f.filetype}: HTTP ${created.status}: ${created.text}`);
    const resource = JSON.parse(created.text) as { id: number; sets: Record<string, { files: Record<string, { complete: boolean; upload_uri?: string }> }> };
    result.resourceId = resource.id;
    const file = resource.sets[version]?.files[f.filetype];
    if (!file) throw new ImportError(`the region's answer has no ${f.filetype} in set ${version}`);
    if (file.complete) {
      result.alreadyStored.push(f.filetype);
      say(`${f.filetype}: already stored (${m.size} bytes)`);
      continue;
    }
    if (!file.upload_uri) throw new ImportError(`the region gave no upload URI for ${f.filetype}`);
    say(`${f.filetype}: uploading ${m.size} bytes`);
    const started = Date.now();
    const put = await request('PUT', new URL(file.upload_uri, base), o.apiKey, { file: join(o.dir, f.file), size: m.size });
    if (put.status !== 200) throw new ImportError(`uploading ${f.filetype}: HTTP ${put.status}: ${put.text}`);
    result.uploaded.push(f.filetype);
    say(`${f.filetype}: stored and verified in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return result;
}
