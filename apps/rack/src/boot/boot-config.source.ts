import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { BootConfig, bootConfig, GetBootConfig, isContractError, macAddress, RequestIn } from '@kiln/contracts';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { log } from '../logging/logger';
import { RackNatsConnection } from '../nats/rack-nats.connection';
import { RACK_IDENTITY, RackIdentity } from '../registration/rack.identity';
import { readFileIfExists, writeFileAtomic } from '../registration/state.files';

/** What the DHCP/TFTP/HTTP servers know about a boot request (the rack fills in its own id). */
export type BootQuery = Omit<RequestIn<typeof GetBootConfig>, 'rackId'>;

export interface BootAnswer {
  config: BootConfig;
  /** 'region': answered now; 'cache': a recent answer reused, or the region could not be reached. */
  source: 'region' | 'cache';
  /** When the region gave this answer (ms since the epoch). */
  answeredAt: number;
}

/** No answer from the region and none cached: the caller decides (MAAS racks then do not PXE-answer). */
export class BootConfigUnavailableError extends Error {
  constructor(
    readonly mac: string,
    readonly reason: string,
  ) {
    super(`no boot configuration for ${mac}: ${reason}`);
    this.name = 'BootConfigUnavailableError';
  }
}

/**
 * The port the rack asks "what should this MAC boot?" (the region's answer: enlist, ephemeral
 * environment, installer, or local disk, with kernel, initrd and command line). It shapes the
 * per-MAC loader configs the TFTP and HTTP servers render (boot-files.renderer.ts); it does not
 * shape DHCP replies, whose loader is the rack's own boot decision (boot-decision.port.ts): DHCP
 * only asks, without waiting, to warm the cache. In production it asks the region (GetBootConfig
 * over NATS) and caches every answer per MAC, in memory and on disk; tests use a fake.
 */
export interface BootConfigSource {
  get(query: BootQuery): Promise<BootAnswer>;
}

export const BOOT_CONFIG_SOURCE = Symbol('BOOT_CONFIG_SOURCE');

interface CacheEntry {
  config: BootConfig;
  answeredAt: number;
}

/**
 * Asks the region on every request, except within `freshMs` of the last answer for that MAC (one
 * boot asks several times: DISCOVER, REQUEST, TFTP, HTTP). When the region cannot be reached it
 * answers from the cache, which survives restarts under `<stateDir>/boot-cache/`.
 */
@Injectable()
export class NatsBootConfigSource implements BootConfigSource {
  private readonly memory = new Map<string, CacheEntry>();

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(RACK_IDENTITY) private readonly identity: RackIdentity,
    private readonly nats: RackNatsConnection,
  ) {}

  private file(mac: string) {
    return join(this.config.stateDir, 'boot-cache', `${mac.replace(/:/g, '-')}.json`);
  }

  async get(query: BootQuery): Promise<BootAnswer> {
    const mac = macAddress.parse(query.mac);
    const cached = this.memory.get(mac) ?? (await this.fromDisk(mac));
    if (cached && Date.now() - cached.answeredAt < this.config.bootConfig.freshMs) {
      return { config: cached.config, source: 'cache', answeredAt: cached.answeredAt };
    }
    try {
      const httpPort = this.config.ports.http || undefined;
      const config = await this.nats.bus().request(GetBootConfig, [this.identity.rackId], { ...query, mac, rackId: this.identity.rackId, ...(httpPort ? { httpPort } : {}) });
      const entry = { config, answeredAt: Date.now() };
      this.memory.set(mac, entry);
      void writeFileAtomic(this.file(mac), JSON.stringify(entry)).catch((err) => log().warn({ err, mac }, 'could not cache boot config on disk'));
      return { config, source: 'region', answeredAt: entry.answeredAt };
    } catch (e) {
      const reason = isContractError(e) ? `${e.code}: ${e.message}` : String(e);
      if (cached) {
        log().warn({ mac, reason, answeredAt: new Date(cached.answeredAt).toISOString() }, 'region unreachable; booting from the cached answer');
        return { config: cached.config, source: 'cache', answeredAt: cached.answeredAt };
      }
      log().warn({ mac, reason }, 'region unreachable and no cached boot config');
      throw new BootConfigUnavailableError(mac, reason);
    }
  }

  private async fromDisk(mac: string): Promise<CacheEntry | null> {
    try {
      const text = await readFileIfExists(this.file(mac));
      if (!text) return null;
      const raw = JSON.parse(text) as { config?: unknown; answeredAt?: unknown };
      const config = bootConfig.safeParse(raw.config);
      if (!config.success || typeof raw.answeredAt !== 'number') return null;
      const entry = { config: config.data, answeredAt: raw.answeredAt };
      this.memory.set(mac, entry);
      return entry;
    } catch {
      return null;
    }
  }
}
