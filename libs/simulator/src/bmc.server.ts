/**
 * The simulated machines' BMCs: one HTTP request handler answering Kiln's `webhook` power driver
 * (libs/power/src/drivers/webhook) for every machine, at /machines/<index>/power/{on,off,state},
 * behind one loopback port per machine: the rack serializes power changes per BMC (host:port), as
 * it must for real BMCs, so machines sharing one port would be powered on one after the other.
 * POST on boots the machine's agent, POST off stops it, GET state answers
 * {"status": "running"|"stopped"} (the driver's default regexes). Requests must carry the fleet's
 * bearer token, as the driver sends power_token.
 */
import http from 'node:http';
import net, { AddressInfo } from 'node:net';

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
  private listeners: net.Server[] = [];
  private ports: number[] = [];
  readonly calls: BmcCall[] = [];

  constructor(
    private readonly targets: (index: number) => PowerTarget | undefined,
    private readonly token: string,
    private readonly host = '127.0.0.1',
  ) {}

  /** Listens on one ephemeral port per machine, for machines 0 .. count-1. */
  async start(count: number): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    this.server = server;
    for (let i = 0; i < count; i++) {
      const l = net.createServer((socket) => server.emit('connection', socket));
      await new Promise<void>((resolve, reject) => {
        l.once('error', reject);
        l.listen(0, this.host, () => resolve());
      });
      this.listeners.push(l);
      this.ports.push((l.address() as AddressInfo).port);
    }
  }

  /** Where the BMCs listen, e.g. "127.0.0.1 ports 40001-41000 (1000)". */
  get url(): string {
    const ps = [...this.ports].sort((a, b) => a - b);
    return ps.length ? `http://${this.host} on ${ps.length} ports (${ps[0]}..${ps[ps.length - 1]})` : '';
  }

  /** The webhook power parameters Kiln stores for machine `index`. */
  powerParameters(index: number): Record<string, string> {
    const m = `http://${this.host}:${this.ports[index]}/machines/${index}/power`;
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
    for (const l of this.listeners.splice(0)) await new Promise<void>((r) => l.close(() => r()));
    if (!s) return;
    s.closeAllConnections();
  }
}
