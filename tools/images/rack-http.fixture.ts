/**
 * A stand-in for the rack's HTTP server (port 5248 on a real rack) for the ephemeral image's boot
 * test: serves the squashfs and answers the MAAS metadata paths that cloud-init's MAAS datasource
 * reads during enlistment, and records every request it gets.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  userAgent: string;
  status: number;
  at: number;
}

export interface RackHttpOptions {
  /** The squashfs file served at SQUASHFS_PATH. */
  squashfs: string;
  /** The address the guest reaches this server at (10.0.2.2 under QEMU's user-mode networking). */
  guestHost: string;
  /** Printed on the guest's console by the enlistment user-data, proof that it ran. */
  userDataMarker: string;
  /** The user-data served instead of the marker script (another test's script), given this server's base URL as the guest sees it. */
  userData?: (base: string) => string;
}

export const SQUASHFS_PATH = '/images/ephemeral/bookworm/amd64/filesystem.squashfs';
export const ENLIST_PRESEED_PATH = '/MAAS/metadata/latest/enlist-preseed/?op=get_enlist_preseed';
export const METADATA_PATH = '/MAAS/metadata/';

export class RackHttpFixture {
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private port = 0;

  constructor(private readonly options: RackHttpOptions) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** The base URL as the guest sees it. */
  guestUrl(path: string): string {
    return `http://${this.options.guestHost}:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  requested(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url === path);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const record = (status: number): void => {
      this.requests.push({
        method: req.method ?? '',
        url,
        userAgent: String(req.headers['user-agent'] ?? ''),
        status,
        at: Date.now(),
      });
    };
    if (req.method === 'GET' && url === SQUASHFS_PATH) {
      const size = statSync(this.options.squashfs).size;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      createReadStream(this.options.squashfs).pipe(res);
      record(200);
      return;
    }
    const body = this.metadata(url);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      record(404);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    record(200);
  }

  /** What MAAS answers an unknown machine (no credentials): the enlistment preseed and metadata. */
  private metadata(url: string): string | undefined {
    const md = `${METADATA_PATH}2012-03-01/`;
    switch (url) {
      case ENLIST_PRESEED_PATH:
        return [
          '#cloud-config',
          'datasource:',
          '  MAAS:',
          `    metadata_url: ${this.guestUrl(METADATA_PATH)}`,
          'power_state:',
          '  delay: now',
          '  mode: poweroff',
          '  timeout: 1800',
          '  condition: test ! -e /tmp/block-poweroff',
          '',
        ].join('\n');
      case `${md}meta-data/instance-id`:
        return 'i-kiln-enlist';
      case `${md}meta-data/local-hostname`:
        return 'enlisting';
      case `${md}user-data`:
        if (this.options.userData) return this.options.userData(this.guestUrl(''));
        // cloud-final runs after multi-user.target: the script reports the target's state.
        return [
          '#!/bin/sh',
          `echo "${this.options.userDataMarker} $(uname -r) $(id -un) multi-user=$(systemctl is-active multi-user.target)" > /dev/console`,
          '',
        ].join('\n');
      default:
        return undefined;
    }
  }
}
