import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import https from 'node:https';
import { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { selfSignedCert } from './tls.cert';

/**
 * A small Redfish BMC (DMTF DSP0266 protocol, DSP8010 schemas) for testing power drivers:
 *
 *   GET  /redfish                                   version object
 *   GET  /redfish/v1/                               ServiceRoot (no authentication, §13.3.4)
 *   GET  /redfish/v1/Systems                        ComputerSystemCollection
 *   GET  /redfish/v1/Systems/{id}                   ComputerSystem: PowerState, Boot, Actions, @odata.etag
 *   PATCH /redfish/v1/Systems/{id}                  Boot.BootSourceOverrideTarget/Enabled (If-Match honoured)
 *   POST /redfish/v1/Systems/{id}/Actions/ComputerSystem.Reset   {"ResetType": ...} -> 204
 *   GET  /redfish/v1/SessionService                 SessionService
 *   GET|POST /redfish/v1/SessionService/Sessions    login: 201 + X-Auth-Token + Location
 *   GET|DELETE /redfish/v1/SessionService/Sessions/{id}
 *
 * Authentication: HTTP Basic or X-Auth-Token. Errors carry the standard error body with
 * @Message.ExtendedInfo (Base registry message ids). HTTPS only, with a self-signed certificate
 * made by `openssl` at start.
 *
 * Faults for tests: `lie` (accept resets and boot changes, change nothing), `hang` (accept
 * connections, never answer), `ignoreGraceful` (the OS ignores GracefulShutdown),
 * `failNext` (answer the next N requests 503), `foreign` (answer every request with the given
 * status and raw body, as whatever else might listen at a power address would), and
 * `transitionMs` (power changes pass through PoweringOn/PoweringOff for that long, as real
 * servers do).
 */
export type PowerState = 'On' | 'Off' | 'PoweringOn' | 'PoweringOff';

export interface EmulatedSystem {
  id: string;
  powerState: PowerState;
  bootTarget: string;
  bootEnabled: 'Disabled' | 'Once' | 'Continuous';
  /** The boot source each power-on used ('Hdd' when no override was set), oldest first. */
  boots: string[];
  etag: number;
}

export interface RedfishEmulatorOptions {
  /** 0 (default): any free port. */
  port?: number;
  host?: string;
  users?: Record<string, string>;
  systems?: string[];
  resetTypes?: string[];
  transitionMs?: number;
  /** Refuse PATCH without If-Match (428), as some BMCs do. */
  requireIfMatch?: boolean;
  /** Idle seconds before a session expires. */
  sessionTimeoutS?: number;
  /**
   * Write the service root's links and the session Location as absolute URLs on this origin
   * (e.g. "https://bmc.example"), as BMCs behind a name or a proxy do.
   */
  linkOrigin?: string;
}

export interface Faults {
  lie: boolean;
  hang: boolean;
  ignoreGraceful: boolean;
  failNext: number;
  /** Answer every request with exactly this, instead of as a Redfish service. */
  foreign: ForeignAnswer | null;
}

export interface ForeignAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface RequestRecord {
  method: string;
  path: string;
  auth: 'none' | 'basic' | 'session';
  status: number;
}

const ALL_RESET_TYPES = ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'ForceOn', 'PushPowerButton', 'PowerCycle'];
const BOOT_TARGETS = ['None', 'Pxe', 'Floppy', 'Cd', 'Usb', 'Hdd', 'BiosSetup', 'Utilities', 'Diags', 'UefiShell', 'UefiTarget', 'UefiHttp'];
const ROOT = '/redfish/v1';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly messageId: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Session {
  id: string;
  token: string;
  user: string;
  lastUsed: number;
}

export class RedfishEmulator {
  readonly systems = new Map<string, EmulatedSystem>();
  readonly faults: Faults = { lie: false, hang: false, ignoreGraceful: false, failNext: 0, foreign: null };
  readonly requests: RequestRecord[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly users: Record<string, string>;
  private readonly resetTypes: string[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  private server: https.Server | null = null;
  private readonly uuid = randomUUID();
  /** The emulator's certificate (PEM), for clients that verify TLS. */
  cert = '';
  url = '';

  constructor(private readonly opts: RedfishEmulatorOptions = {}) {
    this.users = opts.users ?? { admin: 'password' };
    this.resetTypes = opts.resetTypes ?? ALL_RESET_TYPES;
    for (const id of opts.systems ?? ['1']) {
      this.systems.set(id, { id, powerState: 'Off', bootTarget: 'None', bootEnabled: 'Disabled', boots: [], etag: 1 });
    }
  }

  async start(): Promise<string> {
    const host = this.opts.host ?? '127.0.0.1';
    const { key, cert } = await selfSignedCert([host, 'localhost']);
    this.cert = cert;
    const server = https.createServer({ key, cert }, (req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, host, () => resolve());
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.url = `https://${host}:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  system(id = '1'): EmulatedSystem {
    const s = this.systems.get(id);
    if (!s) throw new Error(`no system ${id}`);
    return s;
  }

  private get linkOrigin(): string {
    return this.opts.linkOrigin ?? '';
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  // ---------------- HTTP ----------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.faults.hang) return; // the socket stays open, unanswered, until the client gives up
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: RequestRecord = { method: req.method ?? '', path: (req.url ?? '').split('?')[0], auth: 'none', status: 0 };
      this.requests.push(record);
      let status = 500;
      const foreign = this.faults.foreign;
      if (foreign) {
        record.status = foreign.status;
        res.writeHead(foreign.status, { 'Content-Type': foreign.contentType, 'Content-Length': String(Buffer.byteLength(foreign.body)) });
        res.end(foreign.body);
        return;
      }
      try {
        if (this.faults.failNext > 0) {
          this.faults.failNext--;
          throw new HttpError(503, 'Base.1.8.ServiceTemporarilyUnavailable', 'The service is temporarily unavailable.', { 'Retry-After': '1' });
        }
        const out = this.route(req, record, Buffer.concat(chunks).toString('utf8'));
        status = out.status;
        this.send(res, out.status, out.body, out.headers);
      } catch (e) {
        const err = e instanceof HttpError ? e : new HttpError(500, 'Base.1.8.InternalError', (e as Error).message);
        status = err.status;
        this.send(res, err.status, errorBody(err.messageId, err.message), err.headers);
      }
      record.status = status;
    });
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'OData-Version': '4.0',
      ...(text ? { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) } : {}),
      ...headers,
    });
    res.end(text);
  }

  private route(req: IncomingMessage, record: RequestRecord, raw: string): { status: number; body?: unknown; headers?: Record<string, string> } {
    const method = req.method ?? 'GET';
    const path = record.path.replace(/\/+$/, '') || '/';
    if (path === '/redfish') return this.only(method, ['GET'], () => ({ status: 200, body: { v1: `${ROOT}/` } }));
    if (path === ROOT) return this.only(method, ['GET'], () => ({ status: 200, body: this.serviceRoot() }));
    if (path === `${ROOT}/SessionService/Sessions` && method === 'POST') return this.login(raw);

    // Everything else needs credentials.
    record.auth = this.authenticate(req);

    if (path === `${ROOT}/Systems`) return this.only(method, ['GET'], () => ({ status: 200, body: this.systemCollection() }));
    if (path === `${ROOT}/SessionService`) return this.only(method, ['GET'], () => ({ status: 200, body: this.sessionService() }));
    if (path === `${ROOT}/SessionService/Sessions`) return this.only(method, ['GET', 'POST'], () => ({ status: 200, body: this.sessionCollection() }));
    const sess = new RegExp(`^${ROOT}/SessionService/Sessions/([^/]+)$`).exec(path);
    if (sess) return this.only(method, ['GET', 'DELETE'], () => this.sessionResource(method, decodeURIComponent(sess[1])));
    const reset = new RegExp(`^${ROOT}/Systems/([^/]+)/Actions/ComputerSystem\\.Reset$`).exec(path);
    if (reset) return this.only(method, ['POST'], () => this.reset(this.findSystem(reset[1]), raw));
    const sys = new RegExp(`^${ROOT}/Systems/([^/]+)$`).exec(path);
    if (sys) {
      const s = this.findSystem(sys[1]);
      return this.only(method, ['GET', 'PATCH'], () =>
        method === 'GET' ? { status: 200, body: this.computerSystem(s), headers: { ETag: etag(s) } } : this.patchSystem(s, req, raw),
      );
    }
    throw new HttpError(404, 'Base.1.8.ResourceMissingAtURI', `The resource at the URI ${record.path} was not found.`);
  }

  private only(method: string, allowed: string[], fn: () => { status: number; body?: unknown; headers?: Record<string, string> }) {
    if (!allowed.includes(method)) {
      throw new HttpError(405, 'Base.1.8.OperationNotAllowed', `The ${method} operation is not allowed on this resource.`, { Allow: allowed.join(', ') });
    }
    return fn();
  }

  private authenticate(req: IncomingMessage): 'basic' | 'session' {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && token) {
      const s = [...this.sessions.values()].find((x) => safeEqual(x.token, token));
      const timeout = (this.opts.sessionTimeoutS ?? 1800) * 1000;
      if (s && Date.now() - s.lastUsed <= timeout) {
        s.lastUsed = Date.now();
        return 'session';
      }
      if (s) this.sessions.delete(s.id);
      throw unauthorized();
    }
    const auth = req.headers.authorization ?? '';
    const m = /^Basic\s+(.+)$/i.exec(auth);
    if (m) {
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      const user = decoded.slice(0, i);
      const pass = decoded.slice(i + 1);
      if (i > 0 && this.users[user] !== undefined && safeEqual(this.users[user], pass)) return 'basic';
    }
    throw unauthorized();
  }

  // ---------------- resources ----------------

  private serviceRoot() {
    return {
      '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
      '@odata.id': `${ROOT}/`,
      Id: 'RootService',
      Name: 'Root Service',
      RedfishVersion: '1.6.0',
      UUID: this.uuid,
      Systems: { '@odata.id': `${this.linkOrigin}${ROOT}/Systems` },
      SessionService: { '@odata.id': `${this.linkOrigin}${ROOT}/SessionService` },
      Links: { Sessions: { '@odata.id': `${this.linkOrigin}${ROOT}/SessionService/Sessions` } },
    };
  }

  private systemCollection() {
    const members = [...this.systems.keys()].map((id) => ({ '@odata.id': `${ROOT}/Systems/${encodeURIComponent(id)}` }));
    return {
      '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection',
      '@odata.id': `${ROOT}/Systems`,
      Name: 'Computer System Collection',
      'Members@odata.count': members.length,
      Members: members,
    };
  }

  private computerSystem(s: EmulatedSystem) {
    const path = `${ROOT}/Systems/${encodeURIComponent(s.id)}`;
    return {
      '@odata.type': '#ComputerSystem.v1_10_0.ComputerSystem',
      '@odata.id': path,
      '@odata.etag': etag(s),
      Id: s.id,
      Name: `Emulated system ${s.id}`,
      SystemType: 'Physical',
      Manufacturer: 'Kiln',
      Model: 'Redfish emulator',
      PowerState: s.powerState,
      Status: { State: 'Enabled', Health: 'OK' },
      Boot: {
        BootSourceOverrideEnabled: s.bootEnabled,
        BootSourceOverrideTarget: s.bootTarget,
        'BootSourceOverrideTarget@Redfish.AllowableValues': BOOT_TARGETS,
        BootSourceOverrideMode: 'UEFI',
      },
      Actions: {
        '#ComputerSystem.Reset': {
          target: `${path}/Actions/ComputerSystem.Reset`,
          'ResetType@Redfish.AllowableValues': this.resetTypes,
        },
      },
    };
  }

  private sessionService() {
    return {
      '@odata.type': '#SessionService.v1_1_6.SessionService',
      '@odata.id': `${ROOT}/SessionService`,
      Id: 'SessionService',
      Name: 'Session Service',
      ServiceEnabled: true,
      SessionTimeout: this.opts.sessionTimeoutS ?? 1800,
      Sessions: { '@odata.id': `${ROOT}/SessionService/Sessions` },
    };
  }

  private sessionCollection() {
    const members = [...this.sessions.keys()].map((id) => ({ '@odata.id': `${ROOT}/SessionService/Sessions/${id}` }));
    return {
      '@odata.type': '#SessionCollection.SessionCollection',
      '@odata.id': `${ROOT}/SessionService/Sessions`,
      Name: 'Session Collection',
      'Members@odata.count': members.length,
      Members: members,
    };
  }

  private sessionBody(s: Session) {
    return { '@odata.type': '#Session.v1_1_0.Session', '@odata.id': `${ROOT}/SessionService/Sessions/${s.id}`, Id: s.id, Name: 'User Session', UserName: s.user };
  }

  private sessionResource(method: string, id: string) {
    const s = this.sessions.get(id);
    if (!s) throw new HttpError(404, 'Base.1.8.ResourceMissingAtURI', `The session ${id} does not exist.`);
    if (method === 'DELETE') {
      this.sessions.delete(id);
      return { status: 204 };
    }
    return { status: 200, body: this.sessionBody(s) };
  }

  private login(raw: string) {
    const body = json(raw);
    const user = body.UserName;
    const pass = body.Password;
    if (typeof user !== 'string') throw missing('UserName');
    if (typeof pass !== 'string') throw missing('Password');
    if (this.users[user] === undefined || !safeEqual(this.users[user], pass)) throw unauthorized();
    const s: Session = { id: randomBytes(8).toString('hex'), token: randomBytes(24).toString('hex'), user, lastUsed: Date.now() };
    this.sessions.set(s.id, s);
    const location = `${this.linkOrigin}${ROOT}/SessionService/Sessions/${s.id}`;
    return { status: 201, body: this.sessionBody(s), headers: { 'X-Auth-Token': s.token, Location: location } };
  }

  private findSystem(rawId: string): EmulatedSystem {
    const id = decodeURIComponent(rawId);
    const s = this.systems.get(id);
    if (!s) throw new HttpError(404, 'Base.1.8.ResourceMissingAtURI', `The resource at the URI ${ROOT}/Systems/${rawId} was not found.`);
    return s;
  }

  private patchSystem(s: EmulatedSystem, req: IncomingMessage, raw: string) {
    const ifMatch = req.headers['if-match'];
    if (ifMatch === undefined && this.opts.requireIfMatch) {
      throw new HttpError(428, 'Base.1.8.PreconditionRequired', 'A precondition header (If-Match) is required for this PATCH.');
    }
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etag(s)) {
      throw new HttpError(412, 'Base.1.8.PreconditionFailed', 'The ETag supplied did not match the ETag required to change this resource.');
    }
    const body = json(raw);
    for (const k of Object.keys(body)) {
      if (k !== 'Boot') {
        if (k === 'PowerState' || k === 'Id' || k === 'Actions') {
          throw new HttpError(400, 'Base.1.8.PropertyNotWritable', `The property ${k} is a read only property and cannot be assigned a value.`);
        }
        throw new HttpError(400, 'Base.1.8.PropertyUnknown', `The property ${k} is not in the list of valid properties for the resource.`);
      }
    }
    const boot = body.Boot;
    if (!boot || typeof boot !== 'object' || Array.isArray(boot)) {
      throw new HttpError(400, 'Base.1.8.PropertyValueTypeError', 'The value for the property Boot is of a different type than the property can accept.');
    }
    const b = boot as Record<string, unknown>;
    const target = b.BootSourceOverrideTarget;
    const enabled = b.BootSourceOverrideEnabled;
    if (target !== undefined && (typeof target !== 'string' || !BOOT_TARGETS.includes(target))) {
      throw new HttpError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(target)} for the property BootSourceOverrideTarget is not in the list of acceptable values.`);
    }
    if (enabled !== undefined && !['Disabled', 'Once', 'Continuous'].includes(String(enabled))) {
      throw new HttpError(400, 'Base.1.8.PropertyValueNotInList', `The value ${JSON.stringify(enabled)} for the property BootSourceOverrideEnabled is not in the list of acceptable values.`);
    }
    if (!this.faults.lie) {
      if (typeof target === 'string') s.bootTarget = target;
      if (typeof enabled === 'string') s.bootEnabled = enabled as EmulatedSystem['bootEnabled'];
      s.etag++;
    }
    return { status: 200, body: this.computerSystem(s), headers: { ETag: etag(s) } };
  }

  private reset(s: EmulatedSystem, raw: string) {
    const body = json(raw);
    const type = body.ResetType;
    if (type === undefined) {
      throw new HttpError(400, 'Base.1.8.ActionParameterMissing', 'The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.');
    }
    if (typeof type !== 'string' || !this.resetTypes.includes(type)) {
      throw new HttpError(
        400,
        'Base.1.8.ActionParameterValueNotInList',
        `The value ${JSON.stringify(type)} for the parameter ResetType in the action ComputerSystem.Reset is not in the list of acceptable values.`,
      );
    }
    if (this.faults.lie) return { status: 204 };
    const on = s.powerState === 'On' || s.powerState === 'PoweringOn';
    switch (type) {
      case 'On':
      case 'ForceOn':
        if (!on) this.transition(s, 'On');
        break;
      case 'ForceOff':
        if (s.powerState !== 'Off') this.transition(s, 'Off');
        break;
      case 'GracefulShutdown':
        if (on && !this.faults.ignoreGraceful) this.transition(s, 'Off');
        break;
      case 'PushPowerButton':
        this.transition(s, on ? 'Off' : 'On');
        break;
      case 'ForceRestart':
      case 'GracefulRestart':
      case 'PowerCycle':
        if (!on) throw new HttpError(409, 'Base.1.8.ActionNotSupported', `${type} cannot be performed while the system is powered off.`);
        this.transition(s, 'Off', () => this.transition(s, 'On'));
        break;
      case 'Nmi':
        break;
    }
    s.etag++;
    return { status: 204 };
  }

  /** Moves to On/Off, through PoweringOn/PoweringOff when transitionMs > 0. */
  private transition(s: EmulatedSystem, to: 'On' | 'Off', then?: () => void): void {
    const done = () => {
      s.powerState = to;
      if (to === 'On') this.booted(s);
      s.etag++;
      then?.();
    };
    const ms = this.opts.transitionMs ?? 0;
    if (ms <= 0) return done();
    s.powerState = to === 'On' ? 'PoweringOn' : 'PoweringOff';
    const t = setTimeout(() => {
      this.timers.delete(t);
      done();
    }, ms);
    this.timers.add(t);
  }

  /** A boot consumes a one-time override (DSP2046: Once resets to Disabled after the boot). */
  private booted(s: EmulatedSystem): void {
    const overridden = s.bootEnabled !== 'Disabled' && s.bootTarget !== 'None';
    s.boots.push(overridden ? s.bootTarget : 'Hdd');
    if (s.bootEnabled === 'Once') {
      s.bootEnabled = 'Disabled';
      s.bootTarget = 'None';
    }
  }
}

function etag(s: EmulatedSystem): string {
  return `W/"${s.etag}"`;
}

function json(raw: string): Record<string, unknown> {
  if (!raw.trim()) return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // below
  }
  throw new HttpError(400, 'Base.1.8.MalformedJSON', 'The request body submitted was malformed JSON and could not be parsed by the receiving service.');
}

function missing(prop: string): HttpError {
  return new HttpError(400, 'Base.1.8.PropertyMissing', `The property ${prop} is a required property and must be included in the request.`);
}

function unauthorized(): HttpError {
  return new HttpError(401, 'Base.1.8.NoValidSession', 'There is no valid session established with the implementation.', {
    'WWW-Authenticate': 'Basic realm="Kiln Redfish emulator"',
  });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function errorBody(messageId: string, message: string) {
  return {
    error: {
      code: messageId,
      message,
      '@Message.ExtendedInfo': [{ '@odata.type': '#Message.v1_1_1.Message', MessageId: messageId, Message: message, Severity: 'Warning', Resolution: 'See the message.' }],
    },
  };
}
