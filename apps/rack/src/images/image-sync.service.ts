import { join } from 'node:path';
import { Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { GetBootImages, isContractError } from '@kiln/contracts';
import { RACK_CONFIG, RackConfig } from '../config/rack.config';
import { log } from '../logging/logger';
import { RackNatsConnection } from '../nats/rack-nats.connection';
import { RACK_IDENTITY, RackIdentity } from '../registration/rack.identity';
import { signedDownloadHeaders } from './image.fetcher';
import { ImageLibrary } from './image.library';

/**
 * Keeps the rack's boot images in step with the region: at start the cache is re-verified and
 * what the last list named is served at once (region or not); then, on every NATS connection and
 * every KILN_RACK_IMAGE_SYNC_SECONDS, the rack asks GetBootImages and fetches what it lacks.
 */
@Injectable()
export class ImageSyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly library: ImageLibrary;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(RACK_CONFIG) private readonly config: RackConfig,
    @Inject(RACK_IDENTITY) private readonly identity: RackIdentity,
    private readonly nats: RackNatsConnection,
  ) {
    this.library = new ImageLibrary({
      stateDir: join(config.stateDir, 'images'),
      bootRoot: config.bootRoot,
      maxBytes: config.images.cacheBytes,
      regionUrl: config.regionUrl,
      sign: (path) => signedDownloadHeaders(identity.rackId, identity.nkeySeed, path),
      log: log().child({ component: 'images' }),
    });
  }

  /** The cache re-verified (hashing a large cache takes a while: the other services do not wait for it). */
  private ready: Promise<void> = Promise.resolve();

  onApplicationBootstrap() {
    // What the last list named stays served meanwhile (its links under the boot root); a file
    // that fails the check is unlinked when the restore ends.
    this.ready = this.library.restore().catch((err: unknown) => log().error({ err }, 'image cache could not be restored'));
    if (!this.config.regionUrl) log().warn('KILN_REGION_URL is not set: this rack cannot fetch boot images');
    this.nats.onConnected(() => void this.syncNow());
    this.timer = setInterval(() => void this.syncNow(), this.config.images.syncIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Asks the region for its list and applies it; a region that does not answer changes nothing. */
  async syncNow(): Promise<void> {
    await this.ready;
    if (this.stopped) return;
    let reply;
    try {
      reply = await this.nats.bus().request(GetBootImages, [this.identity.rackId], { rackId: this.identity.rackId });
    } catch (e) {
      log().debug({ code: isContractError(e) ? e.code : 'INTERNAL' }, 'boot image list not available; serving the cached images');
      return;
    }
    if (reply.images.length === 0) log().warn('the region has no boot images yet: machines cannot netboot until one is imported');
    const report = await this.library.sync(reply.images, reply.downloadPath);
    if (report.fetched.length || report.failed.length) log().info({ fetched: report.fetched.length, failed: report.failed.length, serving: report.linked.length }, 'boot images synced');
  }
}

/** The boot images (fetched from the region, cached, served by the TFTP and HTTP servers). */
@Module({ providers: [ImageSyncService], exports: [ImageSyncService] })
export class ImagesModule {}
