import { parse as parseYaml } from 'yaml';
import type { NodeCredentials } from './oauth.signer';

/** What a simulated machine takes from the preseed cloud-init would read from cloud-config-url=. */
export interface Preseed {
  metadataUrl: string | null;
  /** Null for the enlistment preseed (no credentials). */
  credentials: NodeCredentials | null;
  /** cloud-init's power_state.mode: what the machine does once the runner is done. */
  powerState: 'poweroff' | 'reboot' | 'halt' | null;
}

export class PreseedError extends Error {}

export function readPreseed(text: string): Preseed {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new PreseedError(`the preseed is not YAML: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new PreseedError('the preseed is not a cloud-config mapping');
  const d = doc as { datasource?: { MAAS?: Record<string, unknown> }; power_state?: { mode?: unknown } };
  const maas = d.datasource?.MAAS ?? {};
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  const [consumerKey, tokenKey, tokenSecret] = [str(maas.consumer_key), str(maas.token_key), str(maas.token_secret)];
  const mode = d.power_state?.mode;
  return {
    metadataUrl: str(maas.metadata_url) || null,
    credentials: tokenSecret ? { consumerKey, tokenKey, tokenSecret, consumerSecret: str(maas.consumer_secret) } : null,
    powerState: mode === 'poweroff' || mode === 'reboot' || mode === 'halt' ? mode : null,
  };
}
