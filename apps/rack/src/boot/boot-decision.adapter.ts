import { log } from '../logging/logger';
import type { BootConfigSource } from './boot-config.source';
import { BootDecision, BootDecisionSource, BootRequest, defaultBootDecision } from './boot-decision.port';

/**
 * The rack's boot decisions for its DHCP server: MAAS's loader names per architecture, and for
 * iPXE the rack's script URL with the client's MAC (`/ipxe.cfg?mac=...`). The reply never waits
 * for the region and never depends on its answer. What the loader then boots is decided per MAC
 * when it fetches its config (boot-files.renderer.ts, from BootConfigSource); asking the region
 * here, without waiting, warms the rack's cache for that fetch and records the PXE request on the
 * machine in the region.
 */
export class RackBootDecisions implements BootDecisionSource {
  constructor(
    private readonly source: BootConfigSource,
    private readonly httpPort: number,
  ) {}

  decide(r: BootRequest): BootDecision {
    void this.source
      .get({
        mac: r.mac,
        clientArch: r.clientArch,
        userClass: r.userClass[0],
        vendorClass: r.vendorClass,
        iface: r.interface,
        serverAddress: r.serverAddress,
      })
      .catch((err) => log().debug({ mac: r.mac, err: (err as Error).message }, 'boot config not available yet'));
    const d = defaultBootDecision(r, this.httpPort);
    if (d.ipxeScriptUrl) d.ipxeScriptUrl = `${d.ipxeScriptUrl}?mac=${r.mac}`;
    return d;
  }
}
