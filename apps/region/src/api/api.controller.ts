import { All, Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ANONYMOUS_BODY_LIMIT, ApiDispatcher, BodyReader } from './api.dispatcher';
import { HttpError, PayloadTooLargeError } from './http/http.errors';
import { formatHttpDate } from './http/maas-time';
import { AccountsLogin } from './auth/accounts.login';
import { withLogContext, log } from '../logging/logger';
import { randomUUID } from 'node:crypto';

/** Thin HTTP edge: read the request, hand it to the dispatcher, write what it answers. */
@Controller('MAAS')
export class ApiController {
  constructor(
    @Inject(ApiDispatcher) private readonly dispatcher: ApiDispatcher,
    @Inject(AccountsLogin) private readonly login: AccountsLogin,
  ) {}

  @Post(['accounts/authenticate', 'accounts/authenticate/'])
  async authenticate(@Req() req: Request, @Res() res: Response) {
    // Login is anonymous: its body is a username and a password.
    await this.serve(req, res, async (read) =>
      this.login.authenticate(req.headers['content-type'], await read(ANONYMOUS_BODY_LIMIT), req.ip ?? req.socket.remoteAddress ?? ''),
    );
  }

  @All(['api', 'api/*'])
  async api(@Req() req: Request, @Res() res: Response) {
    await this.serve(req, res, (read) => {
      const url = req.originalUrl;
      const q = url.indexOf('?');
      return this.dispatcher.dispatch({
        method: req.method,
        path: q < 0 ? url : url.slice(0, q),
        query: q < 0 ? '' : url.slice(q + 1),
        headers: req.headers,
        body: read,
        origin: `${req.protocol}://${req.headers.host ?? 'localhost'}`,
      });
    });
  }

  private async serve(
    req: Request,
    res: Response,
    fn: (read: BodyReader) => Promise<{ status: number; headers: Record<string, string>; body: string | Buffer | Buffer[] }>,
  ) {
    const requestId = randomUUID();
    await withLogContext({ requestId, method: req.method, path: req.path }, async () => {
      const started = process.hrtime.bigint();
      let out: { status: number; headers: Record<string, string>; body: string | Buffer | Buffer[] };
      const read: BodyReader = (limit) => readRequestBody(req, limit);
      try {
        out = await fn(read);
      } catch (e) {
        if (e instanceof HttpError) {
          out = { status: e.status, headers: { 'content-type': e.contentType }, body: e.renderBody() };
        } else {
          log().error({ err: e }, 'request failed before dispatch');
          out = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Internal server error.' };
        }
      }
      // A body that was refused (or never needed) is not read: the connection closes after the
      // answer, and whatever the client still sends is discarded, up to a bound, never buffered.
      if (!req.complete) {
        res.setHeader('connection', 'close');
        discardRest(req);
      }
      res.status(out.status);
      res.setHeader('date', formatHttpDate(new Date()));
      for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
      if (req.method === 'HEAD') res.end();
      else if (Array.isArray(out.body)) {
        // Large listings: many small buffers, handed to the socket as one writev.
        res.setHeader('content-length', out.body.reduce((n, b) => n + b.length, 0));
        res.cork();
        for (const chunk of out.body) res.write(chunk);
        res.uncork();
        res.end();
      } else res.end(out.body);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log().info({ status: out.status, ms: Math.round(ms * 10) / 10 }, 'api request');
    });
  }
}

/**
 * The request body, refused with a 413 as soon as it exceeds `limit` bytes (up front when the
 * declared Content-Length already does). On refusal the rest is left unread, for discardRest.
 */
export function readRequestBody(req: Request, limit: number): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) return Promise.reject(new PayloadTooLargeError(limit));
  if (req.complete && req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        done();
        chunks.length = 0;
        req.pause();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    };
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Content-Length as a number, when the client declared a valid one. */
function declaredLength(req: Request): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** How much of an unread body is drained (so the client reads the answer) before the socket is closed. */
const DISCARD_LIMIT = 1024 * 1024;

export function discardRest(req: Request): void {
  let seen = 0;
  const close = () => req.socket.destroy();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) close();
  });
  req.on('error', () => undefined);
  const timer = setTimeout(close, 5000);
  timer.unref();
  req.on('end', () => clearTimeout(timer));
  req.resume();
}
