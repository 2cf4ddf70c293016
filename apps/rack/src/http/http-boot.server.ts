// The rack's HTTP boot server (default port 5248), on Node's http module with no framework in the
// hot path:
//   /MAAS/metadata/..., /MAAS/api/2.0/...  -> proxied to the region (RegionProxy)
//   GET/HEAD anything else                 -> a file rendered per machine (BootFileSource port,
//                                             e.g. an iPXE script), else a static file from the
//                                             boot-resources directory (kernels, initrds, images)
// Every delivery and every failure is reported through the TransferEvents port.
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { realpath } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { confinePath } from '@kiln/protocol';
import { BadInputLog } from '../tftp/bad-input.limiter';
import type { BootFileSource } from '../tftp/boot-files.port';
import { macFromBootPath } from '../tftp/boot-path.parser';
import type { TransferEvents, TransferFailureReason, TransferSource } from '../tftp/transfer-events.port';
import { RegionProxy } from './region.proxy';
import { sendText, serveStaticFile } from './static-file.responder';

export interface HttpBootServerConfig {
  address: string;
  /** 5248 in production; 0 picks a free port (tests). */
  port: number;
  /** Absolute path of the boot-resources directory. */
  root: string;
  /** The region's base URL for the metadata/API proxy; unset: those paths answer 502. */
  regionUrl?: string;
  proxyTimeoutMs?: number;
  /** Bytes per disk read while streaming a file. Default 1 MiB. */
  readChunkSize?: number;
  /** Minimum interval between two log lines about the same kind of bad request. Default 60 s. */
  badInputLogIntervalMs?: number;
}

export interface HttpBootServerDeps {
  bootFiles: BootFileSource;
  events: TransferEvents;
  log: Logger;
}

/** Path prefixes relayed to the region. */
export const PROXIED_PREFIXES = ['/MAAS/metadata/', '/MAAS/api/2.0/'] as const;

function hasDotSegment(rawPath: string): boolean {
  let p: string;
  try {
    p = decodeURIComponent(rawPath);
  } catch {
    return true;
  }
  return p.split(/[/\\]/).some((seg) => seg === '..' || seg === '.');
}

function isProxied(path: string): boolean {
  return PROXIED_PREFIXES.some((p) => path.startsWith(p) || path === p.slice(0, -1));
}

interface Outcome {
  status: number;
  bytes: number;
  size: number;
  source?: TransferSource;
  mac?: string;
  systemId?: string;
  range?: string;
  failure?: { reason: TransferFailureReason; message: string };
}

export class HttpBootServer {
  private server: http.Server | undefined;
  private rootReal = '';
  private readonly proxy: RegionProxy | undefined;
  private readonly log: Logger;
  private readonly badInput: BadInputLog;
  private readonly readChunkSize: number;
  private readonly counters = { served: 0, failed: 0, proxied: 0, bytesServed: 0 };

  constructor(
    private readonly config: HttpBootServerConfig,
    private readonly deps: HttpBootServerDeps,
  ) {
    if (!isAbsolute(config.root)) throw new TypeError('http boot root must be an absolute path');
    this.log = deps.log.child({ component: 'http-boot' });
    this.proxy = config.regionUrl ? new RegionProxy({ regionUrl: config.regionUrl, timeoutMs: config.proxyTimeoutMs }) : undefined;
    this.badInput = new BadInputLog(this.log, { intervalMs: config.badInputLogIntervalMs });
    this.readChunkSize = config.readChunkSize ?? 1 << 20;
  }

  async listen(): Promise<{ address: string; port: number }> {
    this.rootReal = await realpath(resolve(this.config.root));
    const server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        this.log.error({ err: e, path: req.url }, 'http boot request crashed');
        if (!res.headersSent) sendText(res, 500, 'Internal error');
        else res.destroy();
      });
    });
    server.on('clientError', (e: NodeJS.ErrnoException, socket: Socket) => {
      this.badInput.note(`http-client-error:${e.code ?? 'unknown'}`, { client: socket.remoteAddress, error: e.message });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((ok, ko) => {
      server.once('error', ko);
      server.listen(this.config.port, this.config.address, () => {
        server.off('error', ko);
        ok();
      });
    });
    this.server = server;
    const a = server.address() as { address: string; port: number };
    this.log.info({ address: a.address, port: a.port, root: this.config.root, region: this.proxy?.regionUrl }, 'http boot server listening');
    return { address: a.address, port: a.port };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.proxy?.close();
    if (!s) return;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }

  stats() {
    return { ...this.counters, badInput: this.badInput.snapshot() };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const client = { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 };
    const method = req.method ?? 'GET';

    if (isProxied(rawPath)) {
      if (hasDotSegment(rawPath)) {
        // "/MAAS/api/2.0/../../other" must not reach region paths outside the proxied ones.
        this.badInput.note('http-refused:proxy-dot-segment', { client: client.address, path: rawPath }, 'http request refused');
        sendText(res, 400, 'Bad request: ".." in a proxied path');
        return;
      }
      const log = this.log.child({ client: `${client.address}:${client.port}`, path: rawPath, method });
      if (!this.proxy) {
        sendText(res, 502, 'Kiln rack: no region URL is configured for the metadata proxy');
        this.report({ rawPath, client, method, startedAt }, { status: 502, bytes: 0, size: 0, source: 'proxy', failure: { reason: 'unavailable', message: 'no region configured' } });
        return;
      }
      const o = await this.proxy.forward(req, res);
      this.counters.proxied++;
      if (o.failure) {
        log.warn({ status: o.status, reason: o.failure.reason, message: o.failure.message, durationMs: Date.now() - startedAt }, 'region proxy failed');
        this.report({ rawPath, client, method, startedAt }, { ...o, size: 0, source: 'proxy' });
      } else {
        log.info({ status: o.status, bytes: o.bytes, durationMs: Date.now() - startedAt }, 'proxied to region');
      }
      return;
    }

    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      this.badInput.note('http-bad-path-encoding', { client: client.address, path: rawPath });
      sendText(res, 400, 'Bad request: path is not valid percent-encoding');
      return;
    }
    const confined = decoded === '/' ? null : confinePath(this.rootReal, decoded);
    if (!confined || !confined.ok) {
      const reason = confined ? confined.reason : 'empty';
      const status = reason === 'empty' ? 404 : reason === 'nul-byte' ? 400 : 403;
      if (reason !== 'empty') this.badInput.note(`http-refused:${reason}`, { client: client.address, path: rawPath }, 'http request refused');
      const bytes = sendText(res, status, status === 404 ? 'Not found' : status === 400 ? 'Bad request' : 'Forbidden');
      this.report(
        { rawPath, client, method, startedAt },
        { status, bytes, size: 0, failure: { reason: status === 404 ? 'not-found' : 'refused', message: confined && !confined.ok ? confined.message : 'no file name' } },
      );
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
      this.report({ rawPath, client, method, startedAt }, { status: 405, bytes: 0, size: 0, failure: { reason: 'bad-request', message: `method ${method}` } });
      return;
    }

    const path = confined.path;
    const query = q < 0 ? undefined : new URLSearchParams(rawUrl.slice(q + 1));
    const mac = macFromBootPath(path, query);
    let rendered;
    try {
      rendered = await this.deps.bootFiles.render({ protocol: 'http', path, query, client, mac });
    } catch (e) {
      const bytes = sendText(res, 503, 'Kiln rack: cannot render this boot file now', { 'Retry-After': '5' });
      this.log.warn({ err: e, client: client.address, path, mac }, 'boot file render failed');
      this.report({ rawPath, client, method, startedAt }, { status: 503, bytes, size: 0, source: 'rendered', mac, failure: { reason: 'unavailable', message: 'render failed' } });
      return;
    }
    if (rendered) {
      const body = rendered.content;
      res.writeHead(200, {
        'Content-Type': rendered.contentType ?? 'text/plain; charset=utf-8',
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
      });
      if (method === 'HEAD') res.end();
      else res.end(body);
      this.report(
        { rawPath, client, method, startedAt },
        { status: 200, bytes: method === 'HEAD' ? 0 : body.length, size: body.length, source: 'rendered', mac: rendered.mac ?? mac, systemId: rendered.systemId },
      );
      return;
    }
    const o = await serveStaticFile(req, res, path, { rootReal: this.rootReal, readChunkSize: this.readChunkSize });
    this.report({ rawPath, client, method, startedAt }, { ...o, source: 'static', mac });
  }

  private report(
    r: { rawPath: string; client: { address: string; port: number }; method: string; startedAt: number },
    o: Outcome,
  ): void {
    const durationMs = Date.now() - r.startedAt;
    const base = {
      protocol: 'http' as const,
      file: r.rawPath,
      client: r.client,
      mac: o.mac,
      systemId: o.systemId,
      startedAt: r.startedAt,
      durationMs,
      bytes: o.bytes,
    };
    const fields = { client: `${r.client.address}:${r.client.port}`, file: r.rawPath, ...(o.mac ? { mac: o.mac } : {}), method: r.method, status: o.status };
    if (o.failure) {
      this.counters.failed++;
      const level = o.failure.reason === 'not-found' || o.failure.reason === 'bad-request' ? 'info' : 'warn';
      if (o.failure.reason !== 'refused') this.log[level]({ ...fields, reason: o.failure.reason, bytes: o.bytes, durationMs }, 'http boot request failed');
      this.deps.events.failed({ ...base, reason: o.failure.reason, message: o.failure.message, source: o.source, http: { method: r.method, status: o.status } });
      return;
    }
    if (o.status === 304) return;
    this.counters.served++;
    this.counters.bytesServed += o.bytes;
    this.log.info({ ...fields, bytes: o.bytes, durationMs, ...(o.range ? { range: o.range } : {}) }, 'http file served');
    this.deps.events.served({
      ...base,
      source: o.source ?? 'static',
      size: o.size,
      http: { method: r.method, status: o.status, ...(o.range ? { range: o.range } : {}) },
    });
  }
}
