import { createHash } from 'node:crypto';
import { HARDWARE_TYPE_CODES, PARALLEL_CODES, parseScript, SCRIPT_TYPE_CODES } from '@kiln/scripts';
import { ScriptsRepository } from '../scripts/scripts.repository';
import { ApiKey, RegionHarness } from './region.harness';

/** Test helpers for the metadata API: custom scripts, node tokens, signed multipart signals. */

/** Stores a custom script (as an operator's upload would) from its text with embedded metadata. */
export async function addScript(h: RegionHarness, text: string, isDefault = false): Promise<number> {
  const parsed = parseScript(text);
  if (!parsed.ok) throw new Error(`bad test script: ${JSON.stringify(parsed.errors)}`);
  const m = parsed.value.metadata;
  const repo = h.app.get(ScriptsRepository);
  const body = Buffer.from(text, 'utf8');
  return repo.transaction((em) =>
    repo.insert(
      em,
      {
        name: m.name!,
        title: m.title ?? '',
        description: m.description ?? '',
        tags: m.tags,
        scriptType: SCRIPT_TYPE_CODES[m.scriptType],
        hardwareType: HARDWARE_TYPE_CODES[m.hardwareType],
        parallel: PARALLEL_CODES[m.parallel],
        timeoutSeconds: m.timeoutSeconds,
        destructive: m.destructive,
        mayReboot: m.mayReboot,
        recommission: m.recommission,
        applyConfiguredNetworking: m.applyConfiguredNetworking,
        forHardware: m.forHardware,
        packages: m.packages as unknown as Record<string, unknown>,
        parameters: m.parameters as unknown as Record<string, unknown>,
        results: {},
        isDefault,
      },
      body,
      createHash('sha256').update(body).digest('hex'),
      'test',
    ),
  );
}

/** A script text with MAAS's embedded metadata block. */
export function scriptText(name: string, type: 'commissioning' | 'testing', body: string, extra: string[] = []): string {
  return [
    '#!/bin/sh',
    '# --- Start MAAS 1.0 script metadata ---',
    `# name: ${name}`,
    `# script_type: ${type}`,
    '# timeout: 60',
    ...extra.map((l) => `# ${l}`),
    '# --- End MAAS 1.0 script metadata ---',
    body,
    '',
  ].join('\n');
}

/** The live node token of a machine, as an API key for RegionHarness.call. */
export async function nodeKey(h: RegionHarness, systemId: string): Promise<ApiKey & { purpose: string }> {
  const rows: { consumer_key: string; token_key: string; token_secret: string; purpose: string }[] = await h.ds.query(
    `SELECT t.consumer_key, t.token_key, t.token_secret, t.purpose FROM node_tokens t JOIN machines m ON m.id = t.machine_id
      WHERE m.system_id = $1 AND t.revoked IS NULL ORDER BY t.id DESC LIMIT 1`,
    [systemId],
  );
  if (!rows[0]) throw new Error(`no live node token for ${systemId}`);
  const t = rows[0];
  return { consumerKey: t.consumer_key, tokenKey: t.token_key, tokenSecret: t.token_secret, username: systemId, purpose: t.purpose };
}

/** POST <v>/ op=signal as the runner sends it: multipart fields and file parts, signed with the node token. */
export async function signal(
  h: RegionHarness,
  key: ApiKey,
  fields: Record<string, string>,
  files: Record<string, string | Buffer> = {},
): Promise<{ status: number; text: string }> {
  const form = new FormData();
  form.append('op', 'signal');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const [k, v] of Object.entries(files)) form.append(k, new Blob([typeof v === 'string' ? Buffer.from(v) : v]), k);
  const res = await fetch(`${h.baseUrl}/MAAS/metadata/2012-03-01/`, { method: 'POST', headers: { authorization: RegionHarness.oauthHeader(key) }, body: form });
  return { status: res.status, text: await res.text() };
}

/** The files of a ustar archive by path. */
export function untar(tar: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    out.set(prefix ? `${prefix}/${name}` : name, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
