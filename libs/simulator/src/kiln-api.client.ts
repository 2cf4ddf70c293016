/** The operator's side of a simulation: the MAAS REST API with a user's API key. */
import { MetadataClient, Transport } from './metadata.client';
import { multipartBody } from './multipart.body';
import { NodeCredentials } from './oauth.signer';

export interface MachineSummary {
  system_id: string;
  hostname: string;
  status_name: string;
  status_message?: string | null;
  cpu_count?: number;
  memory?: number;
  [key: string]: unknown;
}

/** "consumer_key:token_key:token_secret", as `kiln apikey` prints it. */
export function parseApiKey(key: string): NodeCredentials {
  const parts = key.trim().split(':');
  if (parts.length !== 3 || parts.some((p) => !p)) throw new Error('an API key is consumer_key:token_key:token_secret');
  return { consumerKey: parts[0], tokenKey: parts[1], tokenSecret: parts[2] };
}

export class KilnApiClient {
  private readonly client: MetadataClient;
  readonly base: string;

  constructor(transport: Transport, regionUrl: string, apiKey: NodeCredentials) {
    this.base = `${regionUrl.replace(/\/+$/, '')}/MAAS/api/2.0/`;
    this.client = new MetadataClient(transport, `${regionUrl.replace(/\/+$/, '')}/MAAS/metadata/`, apiKey);
  }

  private async call(method: 'GET' | 'POST' | 'PUT', path: string, form?: [string, string][]): Promise<unknown> {
    const body = form ? Buffer.from(new URLSearchParams(form).toString()) : method !== 'GET' ? Buffer.alloc(0) : undefined;
    const r = await this.client.request(this.base + path, {
      ...(body ? { body, contentType: 'application/x-www-form-urlencoded' } : {}),
      ...(method === 'PUT' ? { method } : {}),
      what: `${method} api ${path.split('?')[0].replace(/[a-z0-9]{6}\/$/, '{id}/')}`,
    });
    const text = r.body.toString('utf8');
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }

  /** Adds a machine with its BMC; an administrator's new machine commissions at once (commission=true). */
  async createMachine(opts: { hostname: string; architecture: string; macs: string[]; powerType: string; powerParameters: Record<string, string>; commission: boolean }): Promise<MachineSummary> {
    const form: [string, string][] = [
      ['hostname', opts.hostname],
      ['architecture', opts.architecture],
      ...opts.macs.map((m): [string, string] => ['mac_addresses', m]),
      ['power_type', opts.powerType],
      ...Object.entries(opts.powerParameters).map(([k, v]): [string, string] => [`power_parameters_${k}`, v]),
      ['commission', opts.commission ? 'true' : 'false'],
    ];
    return (await this.call('POST', 'machines/', form)) as MachineSummary;
  }

  /** Sets a machine's BMC (PUT machines/{id}/ power_type, power_parameters_*). */
  async setPower(systemId: string, powerType: string, parameters: Record<string, string>): Promise<MachineSummary> {
    return (await this.call('PUT', `machines/${systemId}/`, [
      ['power_type', powerType],
      ...Object.entries(parameters).map(([k, v]): [string, string] => [`power_parameters_${k}`, v]),
    ])) as MachineSummary;
  }

  async commission(systemId: string, params: [string, string][] = []): Promise<MachineSummary> {
    return (await this.call('POST', `machines/${systemId}/`, [['op', 'commission'], ...params])) as MachineSummary;
  }

  /** op=allocate with constraints (e.g. system_id) as the API takes them. */
  async allocate(constraints: [string, string][]): Promise<MachineSummary> {
    return (await this.call('POST', 'machines/', [['op', 'allocate'], ...constraints])) as MachineSummary;
  }

  async deploy(systemId: string, params: [string, string][] = []): Promise<MachineSummary> {
    return (await this.call('POST', `machines/${systemId}/`, [['op', 'deploy'], ...params])) as MachineSummary;
  }

  async release(systemId: string, params: [string, string][] = []): Promise<MachineSummary> {
    return (await this.call('POST', `machines/${systemId}/`, [['op', 'release'], ...params])) as MachineSummary;
  }

  /** Whether the region holds a complete root tarball (a deployable image) of this release and architecture. */
  async hasDeployableImage(name: string, architecture: string): Promise<boolean> {
    const all = (await this.call('GET', 'boot-resources/')) as { id: number; name: string; architecture: string }[];
    for (const r of all.filter((x) => x.name === name && x.architecture === architecture)) {
      const one = (await this.call('GET', `boot-resources/${r.id}/`)) as { sets?: Record<string, { complete?: boolean; files?: Record<string, { filetype?: string }> }> };
      if (Object.values(one.sets ?? {}).some((s) => s.complete && Object.values(s.files ?? {}).some((f) => f.filetype === 'root-tgz'))) return true;
    }
    return false;
  }

  /** Uploads a deployable image's root tarball (POST boot-resources/ with content), as an administrator. */
  async uploadImage(name: string, architecture: string, version: string, content: Buffer): Promise<void> {
    const { body, contentType } = multipartBody(
      [
        ['name', name],
        ['architecture', architecture],
        ['filetype', 'root-tgz'],
        ['filename', 'root-tgz'],
        ['version', version],
      ],
      [['content', content]],
    );
    const r = await this.client.request(`${this.base}boot-resources/`, { body, contentType, what: 'POST api boot-resources/' });
    if (r.status !== 201 && r.status !== 200) throw new Error(`POST boot-resources/: ${r.status} ${r.body.toString('utf8', 0, 300)}`);
  }

  async machines(): Promise<MachineSummary[]> {
    return (await this.call('GET', 'machines/')) as MachineSummary[];
  }

  async machine(systemId: string): Promise<MachineSummary> {
    return (await this.call('GET', `machines/${systemId}/`)) as MachineSummary;
  }
}
