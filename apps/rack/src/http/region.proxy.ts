// Reverse proxy of the region's metadata and API paths, so a booting machine only ever talks to
// its rack (ARCHITECTURE, boot path 4). Method, path, query, headers (Authorization included) and
// both bodies are streamed through unchanged, except the hop-by-hop headers (RFC 9110 7.6.1).
// The region being down is a 502 with a message saying so; a region too slow, a 504. A request
// that meets a kept-alive connection the region has just closed is sent again, once, on a new one.
import http, { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import https from 'node:https';
import { sendText } from './static-file.responder';

export interface RegionProxyOptions {
  /** Base URL of the region, e.g. http://10.0.0.2:5240 (a path prefix is kept). */
  regionUrl: string;
  /** Time without any answer from the region before 504. Default 60 s. */
  timeoutMs?: number;
  /** Idle keep-alive connections kept to the region. Default 64. */
  maxFreeSockets?: number;
}

export interface ProxyOutcome {
  status: number;
  /** Response body bytes relayed. */
  bytes: number;
  failure?: { reason: 'unavailable' | 'aborted'; message: string };
}

/** Request bodies up to this size are kept for one resend on a fresh connection (script results are smaller). */
const REPLAY_LIMIT = 4 << 20;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Copies headers without the hop-by-hop ones, including those the Connection header names. */
function endToEnd(headers: http.IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || listed.has(k)) continue;
    out[k] = v;
  }
  return out;
}

export class RegionProxy {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly timeoutMs: number;

  constructor(opts: RegionProxyOptions) {
    this.base = new URL(opts.regionUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new TypeError('regionUrl must be http(s)');
    const secure = this.base.protocol === 'https:';
    const agentOpts = { keepAlive: true, maxFreeSockets: opts.maxFreeSockets ?? 64 };
    this.agent = secure ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
    this.request = secure ? https.request : http.request;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  get regionUrl(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  close(): void {
    this.agent.destroy();
  }

  forward(req: IncomingMessage, res: ServerResponse): Promise<ProxyOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (o: ProxyOutcome) => {
        if (!settled) {
          settled = true;
          resolve(o);
        }
      };
      const headers = endToEnd(req.headers);
      const client = req.socket.remoteAddress ?? '';
      const prior = req.headers['x-forwarded-for'];
      headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
      if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
      headers['x-forwarded-proto'] = 'http';
      headers.host = this.base.host;
      const path = this.base.pathname.replace(/\/$/, '') + (req.url ?? '/');
      let bytes = 0;
      let clientGone = false;
      let current: http.ClientRequest | undefined;

      // The request body as it streams through, kept up to REPLAY_LIMIT bytes: a request sent on a
      // kept-alive connection that the region closed as idle at that moment (ECONNRESET on a reused
      // socket, before any answer) is sent once more on a fresh connection, body and all.
      const sent: Buffer[] = [];
      let sentBytes = 0;
      let replayable = true;
      let bodyDone = false;
      req.on('data', (c: Buffer) => {
        if (!replayable) return;
        sentBytes += c.length;
        if (sentBytes > REPLAY_LIMIT) {
          replayable = false;
          sent.length = 0;
        } else sent.push(c);
      });
      req.on('end', () => (bodyDone = true));

      const fail = (status: number, message: string) => {
        if (!res.headersSent) {
          sendText(res, status, `Kiln rack: ${message}`, { 'cache-control': 'no-store' });
        } else {
          res.destroy();
        }
        settle({ status, bytes, failure: { reason: 'unavailable', message } });
      };

      const send = (retry: boolean): http.ClientRequest => {
        const up = this.request({
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port || undefined,
          method: req.method,
          path,
          headers,
          agent: this.agent,
          timeout: this.timeoutMs,
        });
        current = up;
        let answered = false;
        up.on('timeout', () => up.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
        up.on('error', (e: NodeJS.ErrnoException) => {
          if (settled || up !== current) return;
          if (clientGone) {
            settle({ status: 499, bytes, failure: { reason: 'aborted', message: 'client closed the connection' } });
            return;
          }
          if (!retry && !answered && up.reusedSocket && e.code === 'ECONNRESET' && replayable) {
            req.unpipe(up);
            const again = send(true);
            for (const c of sent) again.write(c);
            if (bodyDone) again.end();
            else req.pipe(again);
            return;
          }
          if (e.code === 'ETIMEDOUT') fail(504, `the region at ${this.regionUrl} did not answer within ${this.timeoutMs} ms`);
          else fail(502, `the region at ${this.regionUrl} is unreachable (${e.code ?? e.message})`);
        });
        up.on('response', (upRes) => {
          answered = true;
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.headers));
          upRes.on('data', (c: Buffer) => (bytes += c.length));
          upRes.on('error', () => res.destroy());
          upRes.pipe(res);
          res.on('close', () => {
            if (!res.writableFinished) {
              upRes.destroy();
              settle({ status: upRes.statusCode ?? 502, bytes, failure: { reason: 'aborted', message: 'client closed the connection' } });
            } else settle({ status: upRes.statusCode ?? 502, bytes });
          });
        });
        return up;
      };

      const first = send(false);
      // The client going away mid-request ends the upstream request too.
      req.on('error', () => current?.destroy());
      res.on('close', () => {
        if (!res.writableFinished) {
          clientGone = true;
          current?.destroy();
        }
      });
      req.pipe(first);
    });
  }
}
