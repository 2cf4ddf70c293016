import { All, Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiDispatcher } from './api.dispatcher';
import { readBody } from './http/body.parser';
import { HttpError } from './http/http.errors';
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
    await this.serve(req, res, async (body) => this.login.authenticate(req.headers['content-type'], body, req.ip ?? req.socket.remoteAddress ?? ''));
  }

  @All(['api', 'api/*'])
  async api(@Req() req: Request, @Res() res: Response) {
    await this.serve(req, res, (body) => {
      const url = req.originalUrl;
      const q = url.indexOf('?');
      return this.dispatcher.dispatch({
        method: req.method,
        path: q < 0 ? url : url.slice(0, q),
        query: q < 0 ? '' : url.slice(q + 1),
        headers: req.headers,
        body,
        origin: `${req.protocol}://${req.headers.host ?? 'localhost'}`,
      });
    });
  }

  private async serve(
    req: Request,
    res: Response,
    fn: (body: Buffer) => Promise<{ status: number; headers: Record<string, string>; body: string | Buffer | Buffer[] }>,
  ) {
    const requestId = randomUUID();
    await withLogContext({ requestId, method: req.method, path: req.path }, async () => {
      const started = process.hrtime.bigint();
      let out: { status: number; headers: Record<string, string>; body: string | Buffer | Buffer[] };
      try {
        out = await fn(await readBody(req));
      } catch (e) {
        if (e instanceof HttpError) {
          out = { status: e.status, headers: { 'content-type': e.contentType }, body: e.renderBody() };
        } else {
          log().error({ err: e }, 'request failed before dispatch');
          out = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Internal server error.' };
        }
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
