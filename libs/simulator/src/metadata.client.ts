/**
 * HTTP as Kiln's runner does it: OAuth PLAINTEXT on every request once the node has a token
 * secret, connection errors and 5xx retried after 1, 1, 2, 4, 8, 16, 32 s, 401/403 answered with a
 * Date header teaching the clock skew, and `signal` refusing anything but 200.
 */
import http from 'node:http';
import https from 'node:https';
import { multipartBody } from './multipart.body';
import { NodeCredentials, oauthHeader } from './oauth.signer';

export const RUNNER_RETRY_DELAYS_S = [1, 1, 2, 4, 8, 16, 32] as const;
export const API_VERSION = '2012-03-01';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Where the fleet's clients record what they did (shared by every agent of a fleet). */
export interface TrafficStats {
  /** Milliseconds per signal (the successful attempt, from having a connection to the reply read). */
  signalMs: number[];
  /** Requests by method and first path segment after the version, e.g. "GET maas-scripts". */
  requests: Map<string, number>;
  retries: number;
  /** Why requests were retried: an HTTP status ("503") or an error code ("ECONNRESET", "timeout"). */
  retryReasons: Map<string, number>;
  /** Result signals answered 200 (one per script result posted with files). */
  resultsSent: number;
  /** Signals per status. */
  signals: Map<string, number>;
}

export function newTrafficStats(): TrafficStats {
  return { signalMs: [], requests: new Map(), retries: 0, retryReasons: new Map(), resultsSent: 0, signals: new Map() };
}

export class HttpStatusError extends Error {
  constructor(
    readonly what: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 200)}`);
  }
}

export interface TransportOptions {
  /** Most connections open at once to the rack (or region) across the whole fleet. */
  maxSockets?: number;
  /** Per-request timeout (the runner's is 60 s). */
  timeoutMs?: number;
  /** Retry delays in seconds (the runner's by default); tests shorten them. */
  retryDelaysS?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

/** One keep-alive connection pool for all the agents of a fleet. */
export class Transport {
  readonly stats = newTrafficStats();
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  readonly timeoutMs: number;
  readonly retryDelaysS: readonly number[];
  readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: TransportOptions = {}) {
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 256, maxFreeSockets: opts.maxSockets ?? 256 };
    this.httpAgent = new http.Agent(agentOpts);
    this.httpsAgent = new https.Agent(agentOpts);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.retryDelaysS = opts.retryDelaysS ?? RUNNER_RETRY_DELAYS_S;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * One request. `ms` runs from the moment the request has a connection (so a request waiting for
   * one of the fleet's pooled connections does not count that wait) to the end of the reply.
   */
  once(method: 'GET' | 'POST' | 'PUT', url: string, headers: Record<string, string>, body?: Buffer): Promise<HttpReply & { ms: number }> {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let connected = performance.now();
      const req = (secure ? https : http).request(
        u,
        {
          method,
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { 'User-Agent': 'kiln-simulate', ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - connected }));
          res.on('error', reject);
        },
      );
      req.once('socket', () => (connected = performance.now()));
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  count(key: string): void {
    this.stats.requests.set(key, (this.stats.requests.get(key) ?? 0) + 1);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/**
 * What a 401/403 said, without the keys and nonces it names ("Authorization Error: Nonce already
 * used"), so that the report counts refusals by their cause.
 */
export function refusalKind(body: string): string {
  const text = body.replace(/^"|"$/g, '').replace(/^Authorization Error:\s*'?/, '').replace(/node token \S+/, 'node token');
  return text.split(/[:.]/)[0].replace(/\s+/g, ' ').trim().slice(0, 60) || 'no reason given';
}

/** One machine's client of the metadata API (and, for enlistment, of the anonymous machines API). */
export class MetadataClient {
  creds: NodeCredentials | null;
  private skewS = 0;
  readonly baseUrl: string;

  constructor(
    private readonly transport: Transport,
    baseUrl: string,
    creds: NodeCredentials | null = null,
    private readonly aborted: () => boolean = () => false,
  ) {
    this.baseUrl = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    this.creds = creds;
  }

  /** scheme://host:port/MAAS/api/2.0/ next to the metadata URL (the runner derives it the same way). */
  get apiUrl(): string {
    const u = new URL(this.baseUrl);
    return `${u.protocol}//${u.host}/MAAS/api/2.0/`;
  }

  /** GET or POST with the runner's retries. Answers any status below 500 (after skew correction). */
  async request(url: string, opts: { body?: Buffer; contentType?: string; sign?: boolean; what?: string; method?: 'PUT' } = {}): Promise<HttpReply & { ms: number }> {
    const method = opts.method ?? (opts.body ? 'POST' : 'GET');
    let last = '';
    let reason = '';
    const delays = [...this.transport.retryDelaysS, null];
    for (const delay of delays) {
      if (this.aborted()) throw new AbortedError();
      const headers: Record<string, string> = {};
      if (opts.contentType) headers['Content-Type'] = opts.contentType;
      const signed = opts.sign !== false && !!this.creds?.tokenSecret;
      if (signed) headers.Authorization = oauthHeader(this.creds!, { nowSeconds: Date.now() / 1000 + this.skewS });
      try {
        const reply = await this.transport.once(method, url, headers, opts.body);
        this.transport.count(`${method} ${opts.what ?? new URL(url).pathname}`);
        // Only a signed request can be refused for the clock: an unsigned one's 401/403 is the answer.
        if (signed && (reply.status === 401 || reply.status === 403) && reply.headers.date) {
          this.skewS = Date.parse(reply.headers.date) / 1000 - Date.now() / 1000;
          last = `${method} ${url}: ${reply.status} ${reply.body.toString('utf8', 0, 200)}`;
          reason = `${reply.status} ${refusalKind(reply.body.toString('utf8', 0, 200))}`;
        } else if (reply.status < 500) {
          return reply;
        } else {
          last = `${method} ${url}: ${reply.status} ${reply.body.toString('utf8', 0, 200)}`;
          reason = String(reply.status);
        }
      } catch (e) {
        last = `${method} ${url}: ${(e as Error).message}`;
        reason = (e as NodeJS.ErrnoException).code ?? (/no answer in/.test((e as Error).message) ? 'timeout' : 'error');
      }
      if (delay === null) break;
      const stats = this.transport.stats;
      stats.retries++;
      stats.retryReasons.set(reason, (stats.retryReasons.get(reason) ?? 0) + 1);
      await this.transport.sleep(delay * 1000);
    }
    throw new Error(last || 'request failed');
  }

  url(path: string): string {
    return this.baseUrl + path;
  }

  async get(path: string, what?: string): Promise<HttpReply> {
    return this.request(this.url(path), { what });
  }

  /** POST <v>/ op=signal, multipart as the runner sends it; anything but 200 is an error. */
  async signal(
    status: string,
    error?: string,
    fields: readonly (readonly [string, string | number | undefined | null])[] = [],
    files: readonly (readonly [string, Uint8Array])[] = [],
  ): Promise<void> {
    const parts: [string, string][] = [
      ['op', 'signal'],
      ['status', status],
    ];
    if (error !== undefined) parts.push(['error', error]);
    for (const [k, v] of fields) if (v !== undefined && v !== null) parts.push([k, String(v)]);
    const { body, contentType } = multipartBody(parts, files);
    const reply = await this.request(this.url(`${API_VERSION}/`), { body, contentType, what: 'POST signal' });
    if (reply.status !== 200) throw new HttpStatusError(`signal ${status}`, reply.status, reply.body.toString('utf8'));
    const stats = this.transport.stats;
    stats.signalMs.push(reply.ms);
    stats.signals.set(status, (stats.signals.get(status) ?? 0) + 1);
    if (files.length) stats.resultsSent++;
  }
}

/** The machine was powered off (or the fleet stopped) while it was talking. */
export class AbortedError extends Error {
  constructor() {
    super('powered off');
  }
}
