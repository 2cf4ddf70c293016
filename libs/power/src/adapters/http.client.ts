import http from 'node:http';
import https from 'node:https';
import { PowerError } from '../power.errors';

/**
 * The one place power drivers speak HTTP(S), with Node's own client. BMCs mostly present
 * self-signed certificates, so verification is a setting (MAAS's Redfish driver never verifies;
 * its webhook driver has power_verify_ssl). Network failures become retryable PowerErrors with
 * the system's words; TLS verification failures are BAD_SETTINGS (fatal: retrying cannot help).
 */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  tls?: { verify: boolean; ca?: string };
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type HttpClient = (req: HttpRequest) => Promise<HttpResponse>;

const MAX_BODY = 4 * 1024 * 1024;

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

export const httpRequest: HttpClient = (req) =>
  new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      reject(new PowerError('BAD_SETTINGS', `not a URL: ${req.url}`));
      return;
    }
    const isHttps = url.protocol === 'https:';
    if (!isHttps && url.protocol !== 'http:') {
      reject(new PowerError('BAD_SETTINGS', `unsupported URL scheme ${url.protocol} in ${req.url}`));
      return;
    }
    const headers: Record<string, string> = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
    const options: https.RequestOptions = {
      method: req.method,
      headers,
      agent: false,
      ...(isHttps ? { rejectUnauthorized: req.tls?.verify ?? false, ca: req.tls?.ca } : {}),
    };
    const r = (isHttps ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('end', () => {
        cleanup();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => fail(e));
    });
    let settled = false;
    const timer = setTimeout(() => {
      fail(new PowerError('BMC_TIMEOUT', `no answer from ${url.host} within ${req.timeoutMs} ms`));
    }, req.timeoutMs);
    const onAbort = () => fail(new PowerError('BMC_TIMEOUT', `request to ${url.host} abandoned`));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    function cleanup() {
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
    function fail(e: unknown) {
      if (settled) return;
      cleanup();
      r.destroy();
      reject(classifyNetworkError(e, url));
    }
    r.on('error', (e) => fail(e));
    if (req.signal?.aborted) onAbort();
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });

export function classifyNetworkError(e: unknown, url: URL): PowerError {
  if (e instanceof PowerError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? '';
  const words = `${code ? `${code}: ` : ''}${err.message ?? String(e)}`;
  if (TLS_CODES.has(code)) {
    return new PowerError('BAD_SETTINGS', `the TLS certificate of ${url.host} did not verify; trust its CA or turn verification off`, words);
  }
  if (UNREACHABLE_CODES.has(code)) return new PowerError('BMC_UNREACHABLE', `cannot reach ${url.host}`, words);
  if (code === 'ETIMEDOUT') return new PowerError('BMC_TIMEOUT', `no answer from ${url.host}`, words);
  return new PowerError('BMC_ERROR', `request to ${url.host} failed`, words);
}
