// A handler over a temporary lease journal, with a controllable clock, for unit tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InMemoryBootDecisions } from '../../boot/boot-decision.port';
import { DhcpConfig } from '../dhcp-config.port';
import { DhcpHandler, HandlerResult, Ingress } from '../dhcp.handler';
import { LeaseStore } from '../lease.store';
import { Dhcp4Packet } from '@kiln/protocol';

export const LAB_CONFIG: DhcpConfig = {
  interfaces: [
    { name: 'eth0', address: '10.1.1.1' },
    { name: 'eth1', address: '10.1.2.1' },
  ],
  serverAddress: '10.1.9.1',
  subnets: [
    {
      id: 'a',
      cidr: '10.1.1.0/24',
      interface: 'eth0',
      ranges: [{ start: '10.1.1.100', end: '10.1.1.199' }],
      routers: ['10.1.1.1'],
      dnsServers: ['10.1.1.1'],
      reservations: [{ mac: '52:54:00:00:00:aa', ip: '10.1.1.50', hostname: 'node-a' }],
    },
    { id: 'b', cidr: '10.1.2.0/24', interface: 'eth1', ranges: [{ start: '10.1.2.100', end: '10.1.2.199' }] },
    { id: 'c', cidr: '10.1.3.0/24', ranges: [{ start: '10.1.3.100', end: '10.1.3.199' }], routers: ['10.1.3.1'] },
  ],
};

export class HandlerHarness {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-dhcp-'));
  readonly file = path.join(this.dir, 'leases.journal');
  clock = 1_800_000_000_000;
  readonly boot = new InMemoryBootDecisions();
  store: LeaseStore;
  handler: DhcpHandler;

  constructor(public config: DhcpConfig = LAB_CONFIG) {
    this.store = LeaseStore.open({ file: this.file, fsync: 'never' }, DhcpHandler.poolSpecs(config), this.clock);
    this.handler = new DhcpHandler(config, { store: this.store, boot: this.boot, now: () => this.clock });
  }

  /** Synchronous handling (the in-memory boot decisions answer synchronously). */
  handle(pkt: Dhcp4Packet, ingress: Partial<Ingress> = { iface: 'eth0' }): HandlerResult {
    const r = this.handler.handle(pkt, { address: '0.0.0.0', port: 68, ...ingress });
    if (r instanceof Promise) throw new Error('unexpected async result');
    this.store.flush();
    return r;
  }

  /** Closes and reopens the store from its journal: a rack restart. */
  restart(): void {
    this.store.close();
    this.store = LeaseStore.open({ file: this.file, fsync: 'never' }, DhcpHandler.poolSpecs(this.config), this.clock);
    this.handler = new DhcpHandler(this.config, { store: this.store, boot: this.boot, now: () => this.clock });
  }

  close(): void {
    this.store.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
