/**
 * The simulated machines' BMCs: one loopback HTTP server answering Kiln's `webhook` power driver
 * (libs/power/src/drivers/webhook) for every machine, at /machines/<index>/power/{on,off,state}.
 * POST on boots the machine's agent, POST off stops it, GET state answers
 * {"status": "running"|"stopped"} (the driver's default regexes). Requests must carry the fleet's
 * bearer token, as the driver sends power_token.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface PowerTarget {
  readonly state: 'on' | 'off';
  powerOn(systemId: string | null): void;
  powerOff(): void;
}

export interface BmcCall {
  index: number;
  action: 'on' | 'off' | 'state';
  systemId: string | null;
}

export class SimulatedBmcServer {
  private server: http.Server | null = null;
  private base = '';
  readonly calls: BmcCall[] = [];

  constructor(
    private readonly targets: (index: number) => PowerTarget | undefined,
    private readonly token: string,
    private readonly host = '127.0.0.1',
  ) {}

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, this.host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    this.base = `http://${this.host}:${addr.port}`;
  }

  get url(): string {
    return this.base;
  }

  /** The webhook power parameters Kiln stores for machine `index`. */
  powerParameters(index: number): Record<string, string> {
    const m = `${this.base}/machines/${index}/power`;
    return { power_on_uri: `${m}/on`, power_off_uri: `${m}/off`, power_query_uri: `${m}/state`, power_token: this.token };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return reply(401, { error: 'bad token' });
    const m = /^\/machines\/(\d+)\/power\/(on|off|state)$/.exec(req.url ?? '');
    const target = m ? this.targets(Number(m[1])) : undefined;
    if (!m || !target) return reply(404, { error: 'no such machine' });
    const action = m[2] as BmcCall['action'];
    if ((action === 'state') !== (req.method === 'GET')) return reply(405, { error: 'method not allowed' });
    const sid = req.headers['system_id'];
    const systemId = typeof sid === 'string' && sid ? sid : null;
    this.calls.push({ index: Number(m[1]), action, systemId });
    if (action === 'on') target.powerOn(systemId);
    else if (action === 'off') target.powerOff();
    reply(200, { status: target.state === 'on' ? 'running' : 'stopped' });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
