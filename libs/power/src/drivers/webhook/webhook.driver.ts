import { HttpClient, httpRequest } from '../../adapters/http.client';
import { abortableSleep } from '../../power.control';
import { PowerError } from '../../power.errors';
import { requireParameters } from '../../power.settings';
import { BootDevice, ChangeOutcome, DriverCallContext, OffMode, PowerDriver, PowerState } from '../../power.types';
import { WEBHOOK_TYPE, WebhookSettings } from './webhook.settings';

export interface WebhookDriverOptions {
  http?: HttpClient;
  /** How often cycle re-reads the state while waiting for off (default 500 ms). */
  cyclePollMs?: number;
}

const ACCEPTED: ChangeOutcome = { kind: 'accepted' };

/** Power through three URLs of some other system: POST to change, GET + regex to read. */
export class WebhookDriver implements PowerDriver<WebhookSettings> {
  readonly def = WEBHOOK_TYPE;
  readonly canQueryBootDevice = false;
  private readonly http: HttpClient;

  constructor(private readonly opts: WebhookDriverOptions = {}) {
    this.http = opts.http ?? httpRequest;
  }

  parseSettings(params: Readonly<Record<string, string>>): WebhookSettings {
    const v = requireParameters(WEBHOOK_TYPE, params);
    for (const k of ['power_on_uri', 'power_off_uri', 'power_query_uri']) {
      if (!/^https?:\/\/[^\s]+$/i.test(v[k])) throw new PowerError('BAD_SETTINGS', `invalid webhook power parameters: ${k} "${v[k]}" is not an http(s) URL.`);
    }
    return {
      onUri: v.power_on_uri,
      offUri: v.power_off_uri,
      queryUri: v.power_query_uri,
      onRegex: regex('power_on_regex', v.power_on_regex),
      offRegex: regex('power_off_regex', v.power_off_regex),
      user: v.power_user,
      password: v.power_pass,
      token: v.power_token,
      verifyTls: v.power_verify_ssl === 'y',
    };
  }

  bmcKey(s: WebhookSettings): string {
    return `webhook:${new URL(s.queryUri).host}`;
  }

  async query(s: WebhookSettings, ctx: DriverCallContext): Promise<PowerState> {
    const body = await this.call(s, 'GET', s.queryUri, ctx);
    if (s.onRegex.test(body)) return 'on';
    if (s.offRegex.test(body)) return 'off';
    return 'unknown';
  }

  async on(s: WebhookSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    await this.call(s, 'POST', s.onUri, ctx);
    return ACCEPTED;
  }

  async off(s: WebhookSettings, _mode: OffMode | undefined, ctx: DriverCallContext): Promise<ChangeOutcome> {
    await this.call(s, 'POST', s.offUri, ctx);
    return ACCEPTED;
  }

  /** A webhook has no reset: off, wait (within this call's time) until it reads off, then on. */
  async cycle(s: WebhookSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    if ((await this.query(s, ctx)) !== 'off') {
      await this.call(s, 'POST', s.offUri, ctx);
      const deadline = Date.now() + ctx.timeoutMs;
      while ((await this.query(s, ctx)) !== 'off') {
        if (Date.now() > deadline) throw new PowerError('BMC_TIMEOUT', 'cycle: the webhook never reported off after the off request');
        await abortableSleep(this.opts.cyclePollMs ?? 500, ctx.signal);
      }
    }
    await this.call(s, 'POST', s.onUri, ctx);
    return ACCEPTED;
  }

  async setBootDevice(_s: WebhookSettings, _d: BootDevice, _ctx: DriverCallContext): Promise<ChangeOutcome> {
    throw new PowerError('UNSUPPORTED', 'a webhook cannot set a boot device');
  }

  async queryBootDevice(): Promise<BootDevice | 'none' | 'other'> {
    throw new PowerError('UNSUPPORTED', 'a webhook cannot report a boot device');
  }

  private async call(s: WebhookSettings, method: 'GET' | 'POST', uri: string, ctx: DriverCallContext): Promise<string> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'Kiln' };
    if (ctx.systemId) headers.System_Id = ctx.systemId;
    if (s.token) headers.Authorization = `Bearer ${s.token}`;
    else if (s.user && s.password) headers.Authorization = `Basic ${Buffer.from(`${s.user}:${s.password}`).toString('base64')}`;
    const res = await this.http({ method, url: uri, headers, timeoutMs: ctx.timeoutMs, signal: ctx.signal, tls: { verify: s.verifyTls } });
    if (res.status >= 400) {
      // Only the status code: the body belongs to whatever answered the URL and is never echoed
      // into errors, events or logs (a webhook URL must not become a way to read other services).
      const words = `HTTP ${res.status}`;
      if (res.status === 401 || res.status === 403) throw new PowerError('BMC_AUTH', `${method} ${redactUrl(uri)}: refused the credentials`, words);
      if (res.status === 404) throw new PowerError('BAD_SETTINGS', `${method} ${redactUrl(uri)}: no such URL`, words);
      if (res.status === 429 || res.status === 503) throw new PowerError('BMC_BUSY', `${method} ${redactUrl(uri)}: busy`, words);
      throw new PowerError('BMC_ERROR', `${method} ${redactUrl(uri)} failed`, words);
    }
    return res.body;
  }
}

function regex(name: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new PowerError('BAD_SETTINGS', `invalid webhook power parameters: ${name} is not a regular expression`, (e as Error).message);
  }
}

/** A URL without user info or query (which may hold credentials), for messages. */
function redactUrl(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
