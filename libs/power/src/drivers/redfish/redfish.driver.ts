import { HttpClient, HttpResponse, httpRequest } from '../../adapters/http.client';
import { PowerError, redact } from '../../power.errors';
import { BootDevice, ChangeOutcome, DriverCallContext, OffMode, PowerDriver, PowerState } from '../../power.types';
import {
  Json,
  ResetAction,
  ResetIntent,
  allowedFromActionInfo,
  bootDeviceOf,
  bootOverrideBody,
  checkBootTarget,
  chooseResetType,
  httpError,
  members,
  offIntent,
  pickSystem,
  powerStateOf,
  printable,
  resetActionOf,
  sessionsPath,
  systemsPath,
} from './redfish.model';
import { REDFISH_TYPE, RedfishSettings, parseRedfishSettings } from './redfish.settings';

export interface RedfishDriverOptions {
  /** Verify the BMC's TLS certificate (default false: BMCs use self-signed certificates, and MAAS never verifies). */
  verifyTls?: boolean;
  /** Extra CA certificates (PEM) to trust when verifying. */
  ca?: string;
  /**
   * basic: HTTP basic auth on every request (MAAS's way, stateless).
   * session: log in once through the SessionService and send X-Auth-Token (fewer password
   * checks on the BMC); a 401 logs in again once.
   */
  auth?: 'basic' | 'session';
  http?: HttpClient;
}

interface Discovered {
  systemPath: string;
  reset: ResetAction;
  sessions?: string;
}

interface Session {
  token: string;
  location?: string;
}

const ACCEPTED: ChangeOutcome = { kind: 'accepted' };
const ROOT = '/redfish/v1/';

/** Redfish over Node's https: service root discovery, ComputerSystem.Reset, boot override. */
export class RedfishDriver implements PowerDriver<RedfishSettings> {
  readonly def = REDFISH_TYPE;
  readonly canQueryBootDevice = true;
  private readonly http: HttpClient;
  private readonly discovered = new Map<string, Discovered>();
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly opts: RedfishDriverOptions = {}) {
    this.http = opts.http ?? httpRequest;
  }

  parseSettings(params: Readonly<Record<string, string>>): RedfishSettings {
    return parseRedfishSettings(params);
  }

  bmcKey(s: RedfishSettings): string {
    return `redfish:${s.baseUrl}`;
  }

  async query(s: RedfishSettings, ctx: DriverCallContext): Promise<PowerState> {
    return powerStateOf(await this.system(s, ctx));
  }

  async on(s: RedfishSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    // Many BMCs answer On to a running system with an error (409 "already on"): ask first.
    if ((await this.query(s, ctx)) === 'on') return ACCEPTED;
    return this.reset(s, 'on', ctx);
  }

  async off(s: RedfishSettings, mode: OffMode | undefined, ctx: DriverCallContext): Promise<ChangeOutcome> {
    if ((await this.query(s, ctx)) === 'off') return ACCEPTED;
    return this.reset(s, offIntent(mode ?? 'hard'), ctx);
  }

  async cycle(s: RedfishSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    const state = await this.query(s, ctx);
    return this.reset(s, state === 'off' ? 'on' : 'restart', ctx);
  }

  async setBootDevice(s: RedfishSettings, device: BootDevice, ctx: DriverCallContext): Promise<ChangeOutcome> {
    const d = await this.discover(s, ctx);
    const res = await this.request(s, 'GET', d.systemPath, ctx);
    const system = parse(res, 'read the system');
    checkBootTarget(system, device);
    const etag = (typeof system['@odata.etag'] === 'string' ? system['@odata.etag'] : undefined) ?? header(res, 'etag');
    await this.request(s, 'PATCH', d.systemPath, ctx, bootOverrideBody(device), etag ? { 'If-Match': etag } : {});
    return ACCEPTED;
  }

  async queryBootDevice(s: RedfishSettings, ctx: DriverCallContext): Promise<BootDevice | 'none' | 'other'> {
    return bootDeviceOf(await this.system(s, ctx));
  }

  /** Logs out of every session this driver opened (rack shutdown, tests). */
  async close(timeoutMs = 5000): Promise<void> {
    const all = [...this.sessions.entries()];
    this.sessions.clear();
    await Promise.all(
      all.map(async ([key, sess]) => {
        if (!sess.location) return;
        const base = key.slice(0, key.indexOf('|'));
        await this.http({
          method: 'DELETE',
          url: onBmc(base, sess.location),
          headers: { 'X-Auth-Token': sess.token, Accept: 'application/json' },
          timeoutMs,
          tls: this.tls(),
        }).catch(() => undefined);
      }),
    );
  }

  // ---- internals ----

  private async system(s: RedfishSettings, ctx: DriverCallContext): Promise<Json> {
    const d = await this.discover(s, ctx);
    try {
      return parse(await this.request(s, 'GET', d.systemPath, ctx), 'read the system');
    } catch (e) {
      // The BMC was reset or renumbered its systems: discover again once.
      if (e instanceof PowerError && e.code === 'BAD_SETTINGS' && /HTTP 404/.test(e.bmcSays)) {
        this.discovered.delete(discoveryKey(s));
        return parse(await this.request(s, 'GET', (await this.discover(s, ctx)).systemPath, ctx), 'read the system');
      }
      throw e;
    }
  }

  private async reset(s: RedfishSettings, intent: ResetIntent, ctx: DriverCallContext): Promise<ChangeOutcome> {
    const d = await this.discover(s, ctx);
    if (!d.reset.allowed && d.reset.actionInfo) {
      const info = parse(await this.request(s, 'GET', d.reset.actionInfo, ctx), 'read the reset ActionInfo');
      d.reset.allowed = allowedFromActionInfo(info);
    }
    const resetType = chooseResetType(intent, d.reset.allowed);
    await this.request(s, 'POST', d.reset.target, ctx, { ResetType: resetType });
    return ACCEPTED;
  }

  private async discover(s: RedfishSettings, ctx: DriverCallContext): Promise<Discovered> {
    const key = discoveryKey(s);
    const cached = this.discovered.get(key);
    if (cached) return cached;
    // The service root answers without credentials (DSP0266 §13.3.4).
    const root = parse(await this.request(s, 'GET', ROOT, ctx, undefined, {}, false), 'read the service root');
    const sessions = sessionsPath(root);
    const collection = parse(await this.request(s, 'GET', systemsPath(root), ctx, undefined, {}, true, sessions), 'list the systems');
    const systemPath = pickSystem(members(collection), s.nodeId);
    const system = parse(await this.request(s, 'GET', systemPath, ctx, undefined, {}, true, sessions), 'read the system');
    const d: Discovered = { systemPath, reset: resetActionOf(system, systemPath), sessions };
    this.discovered.set(key, d);
    return d;
  }

  private async request(
    s: RedfishSettings,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    ctx: DriverCallContext,
    body?: Json,
    extra: Record<string, string> = {},
    authenticate = true,
    sessionsOverride?: string,
  ): Promise<HttpResponse> {
    const url = onBmc(s.baseUrl, path);
    const what = `${method} ${printable(new URL(url).pathname)}`;
    const send = async (auth: Record<string, string>) =>
      this.http({
        method,
        url,
        headers: {
          Accept: 'application/json',
          'OData-Version': '4.0',
          'User-Agent': 'Kiln',
          ...(body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
          ...auth,
          ...extra,
        },
        body: body ? JSON.stringify(body) : undefined,
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
        tls: this.tls(),
      });
    let res: HttpResponse;
    if (!authenticate) {
      res = await send({});
    } else if (this.opts.auth === 'session') {
      const sessions = sessionsOverride ?? this.discovered.get(discoveryKey(s))?.sessions;
      res = await send(await this.sessionAuth(s, ctx, sessions));
      if (res.status === 401) {
        this.sessions.delete(sessionKey(s));
        res = await send(await this.sessionAuth(s, ctx, sessions));
      }
    } else {
      res = await send(basicAuth(s));
    }
    if (res.status >= 300) {
      const err = httpError(res.status, res.body, what);
      throw new PowerError(err.code, err.message, redact(err.bmcSays, [s.password]));
    }
    return res;
  }

  private async sessionAuth(s: RedfishSettings, ctx: DriverCallContext, sessions: string | undefined): Promise<Record<string, string>> {
    const key = sessionKey(s);
    const have = this.sessions.get(key);
    if (have) return { 'X-Auth-Token': have.token };
    if (!sessions) throw new PowerError('UNSUPPORTED', 'this Redfish service has no SessionService; use basic auth');
    const res = await this.http({
      method: 'POST',
      url: onBmc(s.baseUrl, sessions),
      headers: { Accept: 'application/json', 'Content-Type': 'application/json; charset=utf-8', 'OData-Version': '4.0', 'User-Agent': 'Kiln' },
      body: JSON.stringify({ UserName: s.user, Password: s.password }),
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      tls: this.tls(),
    });
    if (res.status >= 300) {
      const err = httpError(res.status, res.body, 'log in (SessionService)');
      throw new PowerError(err.code, err.message, redact(err.bmcSays, [s.password]));
    }
    const token = header(res, 'x-auth-token');
    if (!token) throw new PowerError('BMC_ERROR', 'the BMC opened a session but sent no X-Auth-Token');
    this.sessions.set(key, { token, location: header(res, 'location') });
    return { 'X-Auth-Token': token };
  }

  private tls() {
    return { verify: this.opts.verifyTls ?? false, ca: this.opts.ca };
  }
}

/**
 * The URL of a path the BMC gave (a link, an action target, a session Location) on the power
 * address itself: of an absolute link only its path is used, so that no answer can send the
 * rack, or the credentials it carries, to another address.
 */
function onBmc(baseUrl: string, link: string): string {
  let u: URL;
  try {
    u = new URL(link, baseUrl);
  } catch {
    throw new PowerError('BMC_ERROR', 'the BMC gave a link that is not a URL');
  }
  return new URL(`${u.pathname}${u.search}`, baseUrl).toString();
}

function discoveryKey(s: RedfishSettings): string {
  return `${s.baseUrl}|${s.nodeId}`;
}

function sessionKey(s: RedfishSettings): string {
  return `${s.baseUrl}|${s.user}`;
}

function basicAuth(s: RedfishSettings): Record<string, string> {
  return { Authorization: `Basic ${Buffer.from(`${s.user}:${s.password}`).toString('base64')}` };
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parse(res: HttpResponse, what: string): Json {
  try {
    const j: unknown = JSON.parse(res.body);
    if (j && typeof j === 'object' && !Array.isArray(j)) return j as Json;
  } catch {
    // reported below
  }
  // What it sent instead is not quoted: only a Redfish error object's words ever are (statusWords).
  throw new PowerError('BMC_ERROR', `could not ${what}: the BMC sent no JSON object`, `HTTP ${res.status}, not a Redfish answer`);
}
